// Open WebUI behaviour by version (docs/openwebui-protocol.md, version table) and the payload helpers
// every client (Node engine, k6 scenarios) and the simulator share.
//
// Contract: pure functions of their inputs. `behaviourFor` encodes the matrix rows a load client or
// the simulator acts on; versions the matrix does not pin down (e.g. 0.6.33, 0.9.7–0.9.x) take the
// newer behaviour, and the readers (`parseTaskReply`, `snapshotText`, `interpretEnvelope`) accept
// every documented shape regardless of version, so a wrong guess degrades to "still works".

import { ProtocolError } from './errors.js';
import { isRecord } from './json.js';

/**
 * The Open WebUI release this project is verified against (docs/openwebui-protocol.md): the lab
 * installs it for real, the simulator imitates it unless OWUI_SIM_VERSION says otherwise, and a
 * client assumes it when a target does not say its version.
 */
export const REFERENCE_OPENWEBUI_VERSION = '0.12.4';

export interface OwuiVersion {
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

/** Accepts "0.11.0", "v0.6.34", "0.8" and suffixes such as "0.6.5-dev"; throws ProtocolError otherwise. */
export function parseVersion(raw: string): OwuiVersion {
  const match = /^\s*v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(raw);
  if (!match) throw new ProtocolError('Not an Open WebUI version', raw);
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3] ?? 0), raw };
}

/** <0, 0, >0 like a comparator; `b` is written "0.6.34". */
export function compareVersion(a: OwuiVersion, b: string): number {
  const v = parseVersion(b);
  return a.major - v.major || a.minor - v.minor || a.patch - v.patch;
}

function atLeast(v: OwuiVersion, b: string): boolean {
  return compareVersion(v, b) >= 0;
}

export interface OwuiBehaviour {
  /** Socket event carrying chat updates: `chat-events` ≤ 0.6.32, `events` after. */
  chatEventName: 'events' | 'chat-events';
  /**
   * How text reaches the socket while it streams: cumulative `chat:completion` frames with
   * `content` (≤ 0.8.10), both `output` and `content` (0.8.11–0.9.x), `output` only (0.10–0.11),
   * or `responses`: `response:completion` delta events (Responses-API `response.output_text.delta`)
   * and only the final `chat:completion {done, output}` carries the whole text (0.12.4 verified;
   * the boundary is assumed at 0.12.0).
   */
  payload: 'content' | 'output+content' | 'output' | 'responses';
  /** Mode-B HTTP reply: `{task_id}` ≤ 0.8.12, `{task_ids, chat_id}` ≥ 0.9.0. */
  taskReply: 'task_id' | 'task_ids';
  /** Client `heartbeat` every 30 s (≥ 0.6.41). */
  heartbeat: boolean;
  /** `parent_id: null` without `chat_id` creates a chat and returns its id (≥ 0.9.0). */
  createsChatOnNullParent: boolean;
  /** Emits go to room `user:{id}` (every socket of the user) rather than per sid (≥ 0.6.37). */
  userRoomDelivery: boolean;
  /** `/ready` exists (≥ 0.8.11). */
  readyEndpoint: boolean;
  /** Socket.IO Origin check: none ≤ 0.6.34; 0.6.35 rejects every browser Origin (#18973); working after. */
  originCheck: 'none' | 'broken-wildcard' | 'enforced';
  /** `{p}:user_pool` exists and is never cleaned (≤ 0.6.40). */
  userPool: boolean;
  /** The per-task stop `POST /api/tasks/stop/{id}` needs admin (≥ 0.9.0). */
  taskStopAdminOnly: boolean;
  /** API-key switch name and default. */
  apiKeySwitch: { env: 'ENABLE_API_KEY' | 'ENABLE_API_KEYS'; default: boolean };
  /** JWT claims: `{id, exp}` in 0.6.x, `{id, exp, jti, iat}` in v0.11 (and, we assume, from 0.7). */
  jwtClaims: 'id+exp' | 'id+exp+jti' | 'id+exp+jti+iat';
  /** Config reads go to Redis on every request (≤ 0.9.5): a Redis outage breaks nearly everything. */
  configInRedis: boolean;
}

export function behaviourFor(v: OwuiVersion): OwuiBehaviour {
  const v06 = v.major === 0 && v.minor <= 6;
  return {
    chatEventName: atLeast(v, '0.6.33') ? 'events' : 'chat-events',
    // 0.8.12 streams `{content}` snapshots only (verified; the final frame adds `output`); the
    // older reading "output and content from 0.8.11" did not hold there. `output+content` stays
    // accepted by the readers but no version is mapped to it any more.
    payload: atLeast(v, '0.12.0') ? 'responses' : atLeast(v, '0.10.0') ? 'output' : 'content',
    taskReply: atLeast(v, '0.9.0') ? 'task_ids' : 'task_id',
    heartbeat: atLeast(v, '0.6.41'),
    createsChatOnNullParent: atLeast(v, '0.9.0'),
    userRoomDelivery: atLeast(v, '0.6.37'),
    readyEndpoint: atLeast(v, '0.8.11'),
    originCheck: atLeast(v, '0.6.36') ? 'enforced' : atLeast(v, '0.6.35') ? 'broken-wildcard' : 'none',
    userPool: !atLeast(v, '0.6.41'),
    taskStopAdminOnly: atLeast(v, '0.9.0'),
    apiKeySwitch: v06 ? { env: 'ENABLE_API_KEY', default: true } : { env: 'ENABLE_API_KEYS', default: false },
    // 0.8.12 has no `iat` (verified); 0.12.4 has it (verified); the boundary is assumed at 0.11.0.
    jwtClaims: v06 ? 'id+exp' : atLeast(v, '0.11.0') ? 'id+exp+jti+iat' : 'id+exp+jti',
    configInRedis: !atLeast(v, '0.9.6'),
  };
}

/** Mode-B reply: `task_ids[]` (≥ 0.9) or `task_id` (≤ 0.8.12); anything else gives no tasks. */
export function parseTaskReply(body: unknown): { taskIds: string[]; chatId?: string } {
  if (!isRecord(body)) return { taskIds: [] };
  let taskIds: string[] = [];
  if (Array.isArray(body['task_ids']))
    taskIds = body['task_ids'].filter((t): t is string => typeof t === 'string');
  else if (typeof body['task_id'] === 'string') taskIds = [body['task_id']];
  const chatId = body['chat_id'];
  return typeof chatId === 'string' && chatId !== '' ? { taskIds, chatId } : { taskIds };
}

/**
 * Text of a `chat:completion` payload (cumulative snapshot): the concatenated `output_text`/`text`
 * parts of `message` items in `output`, else the `content` string; undefined when the payload has
 * neither (pre-events such as `{sources}` or `{usage}`). An `output` with no message item (only
 * reasoning or a tool call so far) falls back to `content` when that is present.
 */
export function snapshotText(data: unknown): string | undefined {
  if (!isRecord(data)) return undefined;
  const output = data['output'];
  if (Array.isArray(output)) {
    let text = '';
    let sawMessage = false;
    for (const item of output) {
      if (!isRecord(item) || item['type'] !== 'message') continue;
      sawMessage = true;
      const parts = item['content'];
      if (typeof parts === 'string') {
        text += parts;
        continue;
      }
      if (!Array.isArray(parts)) continue;
      for (const part of parts) {
        if (
          isRecord(part) &&
          (part['type'] === 'output_text' || part['type'] === 'text') &&
          typeof part['text'] === 'string'
        ) {
          text += part['text'];
        }
      }
    }
    if (sawMessage || typeof data['content'] !== 'string') return text;
  }
  return typeof data['content'] === 'string' ? data['content'] : undefined;
}

export type ChatEnvelopeEvent =
  | { kind: 'active'; active: boolean }
  | { kind: 'completion'; text?: string; done: boolean; usage?: unknown; title?: string }
  /** A text increment to append (0.12 `response:completion` deltas, OpenAI-style `choices` frames). */
  | { kind: 'delta'; text: string }
  | { kind: 'error'; message: string }
  | { kind: 'cancel' }
  | { kind: 'other'; type: string };

/**
 * One `events`/`chat-events` envelope `{chat_id, message_id, data:{type, data}}`.
 * `chat:completion` with an `error` member (a provider error inside the stream) is an error.
 * `response:completion` (0.12) carries Responses-API stream events: `response.output_text.delta`
 * is a `delta`; a passed-through OpenAI chunk (`choices[0].delta.content`) is a `delta` too, as the
 * web UI treats `choices` without `output`. Returns undefined for anything that is not an envelope.
 */
export function interpretEnvelope(
  envelope: unknown,
): { chatId?: string; messageId?: string; event: ChatEnvelopeEvent } | undefined {
  if (!isRecord(envelope)) return undefined;
  const inner = envelope['data'];
  if (!isRecord(inner) || typeof inner['type'] !== 'string') return undefined;
  const type = inner['type'];
  const data = inner['data'];
  const result: { chatId?: string; messageId?: string; event: ChatEnvelopeEvent } = {
    event: { kind: 'other', type },
  };
  if (typeof envelope['chat_id'] === 'string') result.chatId = envelope['chat_id'];
  if (typeof envelope['message_id'] === 'string') result.messageId = envelope['message_id'];

  switch (type) {
    case 'chat:active':
      result.event = { kind: 'active', active: isRecord(data) && data['active'] === true };
      break;
    case 'response:completion': {
      if (
        isRecord(data) &&
        data['type'] === 'response.output_text.delta' &&
        typeof data['delta'] === 'string'
      ) {
        if (data['delta'] !== '') result.event = { kind: 'delta', text: data['delta'] };
        break;
      }
      const delta = choicesDelta(data);
      if (delta !== undefined) result.event = { kind: 'delta', text: delta };
      break;
    }
    case 'chat:completion': {
      if (isRecord(data) && data['error'] !== undefined && data['error'] !== null) {
        result.event = { kind: 'error', message: errorText(data['error']) };
        break;
      }
      if (isRecord(data) && data['output'] === undefined && data['content'] === undefined) {
        const delta = choicesDelta(data);
        if (delta !== undefined) {
          result.event = { kind: 'delta', text: delta };
          break;
        }
      }
      const event: ChatEnvelopeEvent = { kind: 'completion', done: isRecord(data) && data['done'] === true };
      const text = snapshotText(data);
      if (text !== undefined) event.text = text;
      if (isRecord(data) && data['usage'] !== undefined) event.usage = data['usage'];
      if (isRecord(data) && typeof data['title'] === 'string') event.title = data['title'];
      result.event = event;
      break;
    }
    case 'chat:message:error': {
      const error = isRecord(data) ? data['error'] : undefined;
      result.event = {
        kind: 'error',
        message: error === undefined ? 'chat:message:error' : errorText(error),
      };
      break;
    }
    case 'chat:tasks:cancel':
      result.event = { kind: 'cancel' };
      break;
    default:
      break;
  }
  return result;
}

/** Non-empty `choices[0].delta.content` of an OpenAI chunk, else undefined. */
function choicesDelta(data: unknown): string | undefined {
  if (!isRecord(data) || !Array.isArray(data['choices'])) return undefined;
  const choice: unknown = data['choices'][0];
  if (!isRecord(choice) || !isRecord(choice['delta'])) return undefined;
  const content = choice['delta']['content'];
  return typeof content === 'string' && content !== '' ? content : undefined;
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (isRecord(error)) {
    for (const key of ['content', 'message', 'detail']) {
      if (typeof error[key] === 'string') return error[key];
    }
  }
  return JSON.stringify(error);
}

/** Mode A (SSE): no `session_id`, `chat_id` or `parent_id` (≥ 0.9 would create a chat for `parent_id:null`). */
export function buildApiChatBody(opts: { model: string; prompt: string }): Record<string, unknown> {
  return { model: opts.model, stream: true, messages: [{ role: 'user', content: opts.prompt }] };
}

/**
 * Mode B (socket) body as the browser sends it (§3.2 example). ≥ 0.9 without `chatId`:
 * `parent_id: null` + `user_message` make the backend create the chat. Older servers need a
 * `chat_id` for mode B; without one we use the temporary chat `local:<sid>` (never persisted): 0.8.12
 * knows only the `local:` prefix and answers `temporary:<sid>` from a non-admin with 400 "404: Something
 * went wrong" (verified, docs/openwebui-protocol.md §3.3); newer versions accept both prefixes.
 * `backgroundTasks` defaults to true as in the browser (title/tags/follow-ups are extra LLM calls).
 */
export function buildSocketChatBody(opts: {
  model: string;
  prompt: string;
  sessionId: string;
  messageId: string;
  userMessageId: string;
  chatId?: string;
  parentId?: string | null;
  behaviour: OwuiBehaviour;
  nowSeconds: number;
  backgroundTasks?: boolean;
}): Record<string, unknown> {
  const parentId = opts.parentId ?? null;
  const body: Record<string, unknown> = {
    model: opts.model,
    stream: true,
    messages: [{ role: 'user', content: opts.prompt }],
    session_id: opts.sessionId,
  };
  if (opts.chatId !== undefined) body['chat_id'] = opts.chatId;
  else if (!opts.behaviour.createsChatOnNullParent) body['chat_id'] = `local:${opts.sessionId}`;
  body['id'] = opts.messageId;
  if (opts.behaviour.createsChatOnNullParent) {
    body['parent_id'] = parentId;
    body['user_message'] = {
      id: opts.userMessageId,
      parentId,
      childrenIds: [],
      role: 'user',
      content: opts.prompt,
      timestamp: Math.floor(opts.nowSeconds),
      models: [opts.model],
    };
  }
  const bg = opts.backgroundTasks ?? true;
  body['background_tasks'] = { title_generation: bg, tags_generation: bg, follow_up_generation: bg };
  body['stream_options'] = { include_usage: true };
  return body;
}

/** RFC 4122 version-4 uuid from any [0, 1) random source (Math.random, a seeded PRNG; no crypto import). */
export function uuid4(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 16; i++) {
    let byte = Math.floor(random() * 256) & 0xff;
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    if (i === 8) byte = (byte & 0x3f) | 0x80;
    hex += byte.toString(16).padStart(2, '0');
    if (i === 3 || i === 5 || i === 7 || i === 9) hex += '-';
  }
  return hex;
}
