// Chat completion and tasks (docs/openwebui-protocol.md §3):
// - mode A (no chat/session): the upstream SSE body is passed through byte for byte as it
//   arrives, upstream headers copied except Content-Encoding/Content-Length/Transfer-Encoding;
//   upstream ≥ 400 → JSON error with the upstream status;
// - mode B (`session_id` + `chat_id`/new chat + `id`): immediate `{status, task_ids, chat_id}`
//   (≤ 0.8.12 `{status, task_id}`), task keys in Redis WITHOUT TTL, the stream runs in the
//   background and is emitted as `events`/`chat-events` envelopes: `chat:active` true, cumulative
//   frames every `stream_delta_chunk_size` deltas, `usage`, final `done`, `chat:active` false;
//   upstream failure → `chat:message:error` + `chat:tasks:cancel`;
// - stop: `{action:"stop", task_id}` on `{p}:tasks:commands`; the owner replica cancels (partial
//   saved with done:true, `chat:tasks:cancel`), keys are deleted unconditionally;
// - shutdown (SIGTERM) cancels local tasks the same way; `kill()` (SIGKILL stand-in) does nothing,
//   leaving orphaned task keys exactly as a dead process does.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { AuthedUser, AuthService } from './auth.js';
import { CapacityFullError, CapacityGate, type CapacitySlot } from './capacity.js';
import type { SimContext } from './context.js';
import { HttpError, MESSAGES, readJson, sendJson, str } from './http-util.js';
import { SseDataReader } from './sse-lines.js';
import type { SimChat, SimMessage } from './store.js';
import type { SocketLayer } from './socket.js';
import { type ModelRegistry, readAll, upstreamPost } from './upstream.js';

/** Request fields Open WebUI consumes itself; everything else is forwarded to the provider. */
const OWUI_FIELDS = [
  'session_id',
  'chat_id',
  'id',
  'parent_id',
  'user_message',
  'background_tasks',
  'features',
  'params',
  'files',
  'tool_ids',
  'skill_ids',
  'filter_ids',
  'tool_servers',
  'terminal_id',
  'variables',
  'chat_variables',
  'folder_id',
  'model_item',
  'message_ids',
  'regeneration_prompt',
  'assistant_message_id',
];

const DROPPED_HEADERS = new Set([
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);

interface LocalTask {
  id: string;
  chatId: string;
  userId: string;
  abort: AbortController;
  /** Why it was aborted: a stop command or the replica shutting down. */
  reason?: 'stop' | 'shutdown';
  done: Promise<void>;
}

interface TaskSpec {
  taskId: string;
  chatId: string;
  messageId: string;
  user: AuthedUser['user'];
  sessionId: string | undefined;
  payload: Record<string, unknown>;
  chunkSize: number;
  persist: boolean;
  title: string;
  model: string;
}

export function upstreamPayload(body: Record<string, unknown>, messages: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!OWUI_FIELDS.includes(k)) out[k] = v;
  out.messages = messages;
  return out;
}

/** The `chat:completion` data for a cumulative text, in the version's payload shape. */
export function completionFrame(
  payload: 'content' | 'both' | 'output' | 'responses',
  outputId: string,
  text: string,
  done: boolean,
): Record<string, unknown> {
  const output = [
    {
      type: 'message',
      id: outputId,
      status: done ? 'completed' : 'in_progress',
      role: 'assistant',
      content: [{ type: 'output_text', text }],
    },
  ];
  if (payload === 'content') return { content: text };
  if (payload === 'both') return { output, content: text };
  return { output }; // 'output', and the final frame of 'responses'
}

function isTemporary(chatId: string): boolean {
  return chatId.startsWith('temporary:') || chatId.startsWith('local:') || chatId.startsWith('channel:');
}

export class ChatService {
  private readonly tasks = new Map<string, LocalTask>();
  private readonly streams = new Set<IncomingMessage>();
  private commands: Redis | undefined;
  /** Set by kill(): tasks vanish without a word, like a SIGKILLed process. */
  private dead = false;
  /** The lab's capacity model (no-op unless OWUI_SIM_MAX_STREAMS is set). */
  private readonly gate: CapacityGate;

  constructor(
    private readonly ctx: SimContext,
    private readonly auth: AuthService,
    private readonly models: ModelRegistry,
    private readonly sockets: SocketLayer,
  ) {
    this.gate = new CapacityGate(ctx.config.capacity);
    if (ctx.redis) {
      const sub = ctx.redis.client('subscriber', 'tasks');
      sub
        .subscribe(ctx.key('tasks:commands'))
        .catch((err: Error) => ctx.log(`tasks:commands subscribe: ${err.message}`));
      sub.on('message', (_channel: string, message: string) => {
        try {
          const cmd = JSON.parse(message) as { action?: unknown; task_id?: unknown };
          if (cmd.action === 'stop' && typeof cmd.task_id === 'string') this.cancelLocal(cmd.task_id, 'stop');
        } catch {
          // Not ours.
        }
      });
      this.commands = sub;
    }
  }

  private cancelLocal(taskId: string, reason: 'stop' | 'shutdown'): boolean {
    const task = this.tasks.get(taskId);
    if (!task) return false;
    task.reason ??= reason;
    task.abort.abort();
    return true;
  }

  private async loadOwnedChat(chatId: string, authed: AuthedUser): Promise<SimChat> {
    const chat = await this.ctx.store.getChat(chatId);
    if (!chat || (chat.user_id !== authed.user.id && authed.user.role !== 'admin'))
      throw new HttpError(404, MESSAGES.notFound);
    return chat;
  }

  async completions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const authed = await this.auth.verifiedUser(req);
    const body = await readJson(req);
    await this.auth.configRead('models');
    const modelId = str(body, 'model');
    if (!modelId) throw new HttpError(400, MESSAGES.modelNotFound);
    const model = await this.models.find(modelId);
    if (!model) throw new HttpError(400, MESSAGES.modelNotFound);
    if (authed.user.role !== 'admin' && !this.ctx.config.bypassModelAccessControl)
      throw new HttpError(403, MESSAGES.accessProhibited);

    const sessionId = str(body, 'session_id');
    const messageId = str(body, 'id');
    let chatId = str(body, 'chat_id');
    let chat: SimChat | undefined;
    let title = 'New Chat';
    const createChat =
      this.ctx.features.taskIdsReply &&
      chatId === undefined &&
      'parent_id' in body &&
      body.parent_id === null;
    if (createChat) {
      chatId = randomUUID();
      const now = Math.floor(Date.now() / 1000);
      chat = {
        id: chatId,
        user_id: authed.user.id,
        title,
        chat: { title, models: [modelId], history: { messages: {}, currentId: null } },
        created_at: now,
        updated_at: now,
      };
    } else if (chatId !== undefined && !isTemporary(chatId)) {
      chat = await this.loadOwnedChat(chatId, authed);
      title = chat.title;
    }

    let messages = body.messages;
    if (!Array.isArray(messages)) {
      // ≥ 0.9: a saved chat's messages come from the DB.
      const history = chat ? Object.values(chat.chat.history.messages) : [];
      const userMessage = body.user_message as SimMessage | undefined;
      messages = [...history, ...(userMessage ? [userMessage] : [])]
        .filter((m) => m.role === 'user' || (m.role === 'assistant' && m.done))
        .map((m) => ({ role: m.role, content: m.content }));
    }
    const payload = upstreamPayload(body, messages);

    if (chatId === undefined || messageId === undefined) {
      await this.passthrough(res, payload);
      return;
    }

    const persist = chat !== undefined;
    if (chat) {
      const userMessage = body.user_message as SimMessage | undefined;
      const history = chat.chat.history;
      if (userMessage && typeof userMessage.id === 'string')
        history.messages[userMessage.id] = { ...userMessage, childrenIds: [messageId] };
      history.messages[messageId] = {
        id: messageId,
        parentId: userMessage?.id ?? (typeof body.parent_id === 'string' ? body.parent_id : null),
        childrenIds: [],
        role: 'assistant',
        content: '',
        done: false,
        model: modelId,
        timestamp: Math.floor(Date.now() / 1000),
      };
      history.currentId = messageId;
      chat.updated_at = Math.floor(Date.now() / 1000);
      await this.ctx.store.putChat(chat);
    }

    const taskId = randomUUID();
    if (this.ctx.redis) {
      const key = this.ctx.key;
      await this.ctx.redis.retry(async (r) => {
        await r.hset(key('tasks'), taskId, chatId);
        await r.sadd(key(`tasks:item:${chatId}`), taskId);
      });
    }
    const params = (body.params ?? {}) as { stream_delta_chunk_size?: unknown };
    const chunkSize =
      typeof params.stream_delta_chunk_size === 'number' && params.stream_delta_chunk_size >= 1
        ? Math.floor(params.stream_delta_chunk_size)
        : this.ctx.config.streamDeltaChunkSize;
    const spec: TaskSpec = {
      taskId,
      chatId,
      messageId,
      user: authed.user,
      sessionId,
      payload: { ...payload, stream: true },
      chunkSize,
      persist,
      title,
      model: modelId,
    };
    const abort = new AbortController();
    const task: LocalTask = { id: taskId, chatId, userId: authed.user.id, abort, done: Promise.resolve() };
    this.tasks.set(taskId, task);
    task.done = this.runTask(spec, task).catch((err: Error) =>
      this.ctx.log(`task ${taskId}: ${err.message}`),
    );

    if (sessionId === undefined) {
      // Sync + socket emit (≥ 0.9): the HTTP call waits for the generation, then answers null.
      await task.done;
      sendJson(res, 200, null);
      return;
    }
    sendJson(
      res,
      200,
      this.ctx.features.taskIdsReply
        ? { status: true, task_ids: [taskId], chat_id: chatId }
        : { status: true, task_id: taskId },
    );
  }

  /** Mode A: bytes through as they arrive; a dying upstream or replica truncates the body. */
  private async passthrough(res: ServerResponse, payload: Record<string, unknown>): Promise<void> {
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    // The client may be gone already (its 'close' fired while we authenticated): then no slot, or
    // one taken here would never be released — a leaked slot lowers the lab's capacity for good.
    const gone = (): boolean => res.destroyed || res.closed;
    if (gone()) return;
    let up: IncomingMessage;
    const slot = await this.gate.acquire(abort.signal).catch((err: Error) => {
      if (err instanceof CapacityFullError)
        throw new HttpError(503, `Open WebUI: overloaded (${err.message})`);
      return undefined; // the client left while queued
    });
    if (!slot) return;
    if (gone()) {
      slot.release();
      return;
    }
    res.on('close', () => slot.release());
    try {
      up = await upstreamPost(this.ctx, '/chat/completions', payload, abort.signal);
    } catch (err) {
      if (abort.signal.aborted) return;
      throw new HttpError(500, `Open WebUI: Server Connection Error (${(err as Error).message})`);
    }
    const status = up.statusCode ?? 502;
    if (status >= 400) {
      const text = (await readAll(up)).toString('utf8');
      let bodyOut: unknown;
      try {
        bodyOut = JSON.parse(text);
      } catch {
        bodyOut = {
          error: { message: text || `upstream answered ${status}`, type: 'upstream_error', code: status },
        };
      }
      sendJson(res, status, bodyOut);
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(up.headers)) {
      if (value !== undefined && !DROPPED_HEADERS.has(name)) headers[name] = value;
    }
    res.writeHead(status, headers);
    res.flushHeaders();
    this.streams.add(up);
    await new Promise<void>((resolve) => {
      up.on('data', (chunk: Buffer) => slot.forward(chunk, (c) => res.write(c), up));
      up.on('end', () =>
        slot.after(() => {
          res.end();
          resolve();
        }),
      );
      // Upstream died mid-stream: cut ours too, so the client sees a truncated body, not a clean end.
      up.on('error', () => {
        res.destroy();
        resolve();
      });
      up.on('close', () => {
        if (!up.complete) res.destroy();
        resolve();
      });
    });
    this.streams.delete(up);
  }

  private async runTask(spec: TaskSpec, task: LocalTask): Promise<void> {
    const features = this.ctx.features;
    const emit = async (type: string, data: unknown): Promise<void> => {
      if (this.dead) return;
      await this.sockets.emitToUser(spec.user.id, spec.sessionId, {
        chat_id: spec.chatId,
        message_id: spec.messageId,
        data: { type, data },
      });
    };
    const outputId = `msg_${randomUUID().replace(/-/g, '')}`;
    let text = '';
    let usage: unknown;
    let slot: CapacitySlot | undefined;
    try {
      await emit('chat:active', { active: true, folder_id: null });
      slot = await this.gate.acquire(task.abort.signal);
      const up = await upstreamPost(this.ctx, '/chat/completions', spec.payload, task.abort.signal);
      const status = up.statusCode ?? 502;
      if (status >= 400) {
        const raw = (await readAll(up)).toString('utf8');
        let message = raw;
        try {
          const parsed = JSON.parse(raw) as { error?: { message?: unknown }; detail?: unknown };
          message = String(parsed.error?.message ?? parsed.detail ?? raw);
        } catch {
          // Not JSON: keep the text.
        }
        throw new Error(`${status}: ${message}`);
      }
      if (!String(up.headers['content-type'] ?? '').includes('text/event-stream')) {
        const parsed = JSON.parse((await readAll(up)).toString('utf8')) as {
          choices?: Array<{ message?: { content?: unknown } }>;
          usage?: unknown;
        };
        text = String(parsed.choices?.[0]?.message?.content ?? '');
        usage = parsed.usage;
        await emit('chat:completion', completionFrame(features.payload, outputId, text, false));
      } else {
        const reader = new SseDataReader();
        let pending = 0;
        let pendingText = '';
        // ≥ 0.12 sends the batched increment as a Responses-API delta; before, the whole text so far.
        const flush = async (): Promise<void> => {
          pending = 0;
          const increment = pendingText;
          pendingText = '';
          if (features.payload === 'responses') {
            await emit('response:completion', {
              type: 'response.output_text.delta',
              item_id: outputId,
              output_index: 0,
              content_index: 0,
              delta: increment,
            });
          } else {
            await emit('chat:completion', completionFrame(features.payload, outputId, text, false));
          }
        };
        const handle = async (data: string): Promise<boolean> => {
          if (data.trim() === '[DONE]') return true;
          let chunk: { choices?: Array<{ delta?: { content?: unknown } }>; usage?: unknown; error?: unknown };
          try {
            chunk = JSON.parse(data) as typeof chunk;
          } catch {
            return false;
          }
          if (chunk.error !== undefined) {
            await emit('chat:completion', { error: chunk.error });
            return false;
          }
          const delta = chunk.choices?.[0]?.delta?.content;
          if (typeof delta === 'string' && delta !== '') {
            text += delta;
            pendingText += delta;
            pending++;
            if (pending >= spec.chunkSize) await flush();
          }
          if (chunk.usage && typeof chunk.usage === 'object') {
            usage = chunk.usage;
            await emit('chat:completion', { usage });
          }
          return false;
        };
        let finished = false;
        for await (const bytes of up) {
          await slot.due(bytes as Buffer);
          for (const data of reader.push(bytes as Buffer)) if (!finished) finished = await handle(data);
          if (finished) break;
        }
        if (!finished) for (const data of reader.end()) if (!finished) finished = await handle(data);
        if (task.abort.signal.aborted) throw new Error('aborted');
        if (pending > 0) await flush();
      }
      // Open WebUI strips the last output text when the stream ends (verified on 0.12.4 and 0.8.12).
      text = text.trim();
      const finalFrame = completionFrame(features.payload, outputId, text, true);
      await emit('chat:completion', {
        done: true,
        ...finalFrame,
        title: spec.title,
        ...(usage ? { usage } : {}),
      });
      const output = completionFrame('output', outputId, text, true).output as unknown[];
      await this.saveAssistant(spec, { content: text, done: true, output, ...(usage ? { usage } : {}) });
      await emit('chat:active', { active: false });
    } catch (err) {
      if (this.dead) return;
      if (task.abort.signal.aborted) {
        // Cancel path (stop or SIGTERM): partial output saved with done:true, then the cancel event.
        await this.saveAssistant(spec, {
          content: text,
          done: true,
          output: completionFrame('output', outputId, text, true).output as unknown[],
        }).catch(() => undefined);
        await emit('chat:tasks:cancel', {});
        await emit('chat:active', { active: false });
      } else {
        const message = (err as Error).message;
        await this.saveAssistant(spec, { content: text, done: true, error: { content: message } }).catch(
          () => undefined,
        );
        await emit('chat:message:error', { error: { content: message } });
        await emit('chat:tasks:cancel', {});
        await emit('chat:active', { active: false });
      }
    } finally {
      slot?.release();
      if (!this.dead) {
        this.tasks.delete(task.id);
        await this.cleanupKeys(spec.chatId, [task.id]).catch((err: Error) =>
          this.ctx.log(`task ${task.id} cleanup: ${err.message}`),
        );
      }
    }
  }

  private async saveAssistant(spec: TaskSpec, fields: Partial<SimMessage>): Promise<void> {
    if (!spec.persist || this.dead) return;
    const chat = await this.ctx.store.getChat(spec.chatId);
    const message = chat?.chat.history.messages[spec.messageId];
    if (!chat || !message) return;
    chat.chat.history.messages[spec.messageId] = { ...message, ...fields };
    chat.updated_at = Math.floor(Date.now() / 1000);
    await this.ctx.store.putChat(chat);
  }

  private async cleanupKeys(chatId: string, taskIds: string[]): Promise<void> {
    const redis = this.ctx.redis;
    if (!redis || taskIds.length === 0) return;
    await redis.retry(async (r) => {
      await r.hdel(this.ctx.key('tasks'), ...taskIds);
      await r.srem(this.ctx.key(`tasks:item:${chatId}`), ...taskIds);
    });
  }

  private async chatTaskIds(chatId: string): Promise<string[]> {
    if (this.ctx.redis) return this.ctx.redis.retry((r) => r.smembers(this.ctx.key(`tasks:item:${chatId}`)));
    return [...this.tasks.values()].filter((t) => t.chatId === chatId).map((t) => t.id);
  }

  /** Stop = publish to every replica, then delete the keys whether or not anyone owned the task. */
  private async stopTasks(chatId: string | undefined, taskIds: string[]): Promise<void> {
    const redis = this.ctx.redis;
    if (!redis) {
      for (const id of taskIds) this.cancelLocal(id, 'stop');
      return;
    }
    for (const id of taskIds) {
      await redis.retry((r) =>
        r.publish(this.ctx.key('tasks:commands'), JSON.stringify({ action: 'stop', task_id: id })),
      );
    }
    for (const id of taskIds) {
      const owner = chatId ?? (await redis.retry((r) => r.hget(this.ctx.key('tasks'), id)));
      await redis.retry(async (r) => {
        await r.hdel(this.ctx.key('tasks'), id);
        if (owner) await r.srem(this.ctx.key(`tasks:item:${owner}`), id);
      });
    }
  }

  async stopChat(req: IncomingMessage, res: ServerResponse, chatId: string): Promise<void> {
    const authed = await this.auth.verifiedUser(req);
    if (!isTemporary(chatId)) await this.loadOwnedChat(chatId, authed);
    const ids = await this.chatTaskIds(chatId);
    if (!this.ctx.redis && ids.length === 0) {
      sendJson(res, 200, { status: false, message: `Task with ID ${chatId} not found.` });
      return;
    }
    await this.stopTasks(chatId, ids);
    if (this.ctx.redis) await this.ctx.redis.retry((r) => r.del(this.ctx.key(`tasks:item:${chatId}`)));
    sendJson(res, 200, {
      status: true,
      message: `Stopped ${ids.length} task(s) of chat ${chatId}.`,
      task_ids: ids,
    });
  }

  async stopTask(req: IncomingMessage, res: ServerResponse, taskId: string): Promise<void> {
    if (this.ctx.features.taskIdsReply) await this.auth.adminUser(req);
    else await this.auth.verifiedUser(req);
    if (!this.ctx.redis && !this.tasks.has(taskId)) {
      sendJson(res, 200, { status: false, message: `Task with ID ${taskId} not found.` });
      return;
    }
    await this.stopTasks(undefined, [taskId]);
    sendJson(res, 200, { status: true, message: `Task ${taskId} stopped.` });
  }

  async listChatTasks(req: IncomingMessage, res: ServerResponse, chatId: string): Promise<void> {
    const authed = await this.auth.verifiedUser(req);
    if (!isTemporary(chatId)) await this.loadOwnedChat(chatId, authed);
    sendJson(res, 200, { task_ids: await this.chatTaskIds(chatId) });
  }

  async listTasks(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await this.auth.adminUser(req);
    const ids = this.ctx.redis
      ? await this.ctx.redis.retry((r) => r.hkeys(this.ctx.key('tasks')))
      : [...this.tasks.keys()];
    sendJson(res, 200, { tasks: ids });
  }

  async getChat(req: IncomingMessage, res: ServerResponse, chatId: string): Promise<void> {
    const authed = await this.auth.verifiedUser(req);
    const chat = await this.loadOwnedChat(chatId, authed);
    sendJson(res, 200, { ...chat, archived: false, pinned: false, meta: {}, folder_id: null });
  }

  /** SIGTERM: cancel every local task (partial save, cancel event, key cleanup) and wait. */
  async shutdown(budgetMs = 5000): Promise<void> {
    const pending = [...this.tasks.values()];
    for (const t of pending) this.cancelLocal(t.id, 'shutdown');
    for (const s of this.streams) s.destroy();
    await Promise.race([
      Promise.allSettled(pending.map((t) => t.done)),
      new Promise((r) => setTimeout(r, budgetMs).unref()),
    ]);
    this.commands?.disconnect();
  }

  /** SIGKILL stand-in: everything stops, nothing is cleaned up or announced. */
  kill(): void {
    this.dead = true;
    for (const t of this.tasks.values()) t.abort.abort();
    for (const s of this.streams) s.destroy();
    this.tasks.clear();
    this.commands?.disconnect();
  }

  get localTaskCount(): number {
    return this.tasks.size;
  }
}
