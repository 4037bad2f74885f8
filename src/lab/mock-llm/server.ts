// The lab's mock LLM: an OpenAI-compatible HTTP server (node:http) whose answers are the
// ground truth of src/protocol/ground-truth.ts, streamed with controllable pacing.
//
// Contract:
// - `GET /v1/models` (and `/models`, `/v1/models/{id}`) lists one model, `owui-chaos-mock` unless
//   configured; `POST /v1/chat/completions` (and `/chat/completions`) answers streaming (SSE) or
//   not, in OpenAI's exact shapes (see wire.ts). Unknown model → 404, bad JSON → 400, both as
//   OpenAI error JSON. `GET /stats` returns `stats()`; `GET /health` returns 200.
// - The answer is `generateTokens(seed, tokens)` for the directive in the LAST user message
//   (its pacing keys override the server's defaults for that request); without a directive the
//   seed is a hash of that message and the length is the server's default.
// - Each stream has at most one timer, armed for absolute deadlines (pacing.ts); a client that
//   disconnects stops its stream's timer and pending writes at once.
// - Write modes: `event` one SSE event per socket write; `batch` several events per write;
//   `split` every event cut into 2–3 writes (the first cut inside a multi-byte character when
//   there is one), separated by setImmediate so they leave as separate TCP segments.

import http from 'node:http';
import { listenHttp } from '../listen.js';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import {
  MOCK_MODEL_ID,
  generateTokens,
  parseDirective,
  type WriteMode,
} from '../../protocol/ground-truth.js';
import {
  DEFAULT_PACING,
  eventCount,
  eventDeadlines,
  groupEnd,
  normalisePacing,
  type Pacing,
} from './pacing.js';
import {
  ChunkWriter,
  SSE_DONE,
  completionObject,
  openAiError,
  promptSeed,
  splitPoints,
  type Usage,
} from './wire.js';

export const MOCK_LLM_MODEL = MOCK_MODEL_ID;

export interface MockLlmOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Server-wide pacing; a request's directive overrides it field by field. */
  pacing?: Partial<Pacing>;
  /** Answer length in tokens when the prompt carries no directive. Default 200. */
  defaultTokens?: number;
  /** Model id served. Default `owui-chaos-mock`. */
  model?: string;
}

export interface MockLlmStats {
  activeStreams: number;
  totalStreams: number;
  completedStreams: number;
  abortedStreams: number;
  /** Content tokens written to clients (streaming and non-streaming). */
  tokensSent: number;
}

export interface MockLlmServer {
  /** Origin, e.g. `http://127.0.0.1:40123`; the OpenAI base URL is `${url}/v1`. */
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): MockLlmStats;
}

/** Directive token counts above this are clamped, so one request cannot exhaust memory. */
const MAX_TOKENS = 100_000;
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const CRLF = Buffer.from('\r\n', 'latin1');

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export async function startMockLlm(opts: MockLlmOptions = {}): Promise<MockLlmServer> {
  const host = opts.host ?? '127.0.0.1';
  const model = opts.model ?? MOCK_LLM_MODEL;
  const defaultTokens = Math.max(0, Math.floor(opts.defaultTokens ?? 200));
  const defaults = normalisePacing({ ...DEFAULT_PACING, ...opts.pacing });
  const counters: MockLlmStats = {
    activeStreams: 0,
    totalStreams: 0,
    completedStreams: 0,
    abortedStreams: 0,
    tokensSent: 0,
  };
  const live = new Set<{ abort(): void }>();
  // Ids: a random per-server prefix plus a counter is unique and costs nothing per request.
  const idPrefix = `chatcmpl-${randomBytes(6).toString('hex')}`;
  let idCounter = 0;
  const modelsBody = JSON.stringify({
    object: 'list',
    data: [{ id: model, object: 'model', created: 1_700_000_000, owned_by: 'owui-chaos' }],
  });

  const server = http.createServer({ noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (method === 'GET' && (path === '/v1/models' || path === '/models'))
      return sendJson(res, 200, modelsBody);
    if (method === 'GET' && (path.startsWith('/v1/models/') || path.startsWith('/models/'))) {
      const id = decodeURIComponent(path.slice(path.lastIndexOf('/models/') + '/models/'.length));
      if (id === model)
        return sendJson(
          res,
          200,
          JSON.stringify({ id: model, object: 'model', created: 1_700_000_000, owned_by: 'owui-chaos' }),
        );
      return sendJson(res, 404, modelNotFound(id));
    }
    if (method === 'GET' && path === '/stats') return sendJson(res, 200, JSON.stringify(counters));
    if (method === 'GET' && path === '/health') return sendJson(res, 200, JSON.stringify({ status: true }));
    if (method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) {
      // HTTP/1.0 clients get a close-delimited body instead of chunked framing.
      const chunked = req.httpVersionMajor > 1 || req.httpVersionMinor >= 1;
      return readBody(req, res, (body) => handleCompletion(body, res, chunked));
    }
    sendJson(res, 404, openAiError(`Invalid URL (${method} ${path})`, 'invalid_request_error', null));
  });

  function modelNotFound(id: string): string {
    return openAiError(
      `The model \`${id}\` does not exist or you do not have access to it.`,
      'invalid_request_error',
      'model_not_found',
      'model',
    );
  }

  function handleCompletion(raw: string, res: http.ServerResponse, chunked: boolean): void {
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return sendJson(
        res,
        400,
        openAiError(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
          'invalid_request_error',
          null,
        ),
      );
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendJson(
        res,
        400,
        openAiError('The request body must be a JSON object.', 'invalid_request_error', null),
      );
    }
    const request = body as Record<string, unknown>;
    if (typeof request['model'] !== 'string' || request['model'] === '') {
      return sendJson(
        res,
        400,
        openAiError('you must provide a model parameter', 'invalid_request_error', null),
      );
    }
    if (request['model'] !== model) return sendJson(res, 404, modelNotFound(request['model']));
    const messages = request['messages'];
    if (!Array.isArray(messages) || messages.length === 0) {
      return sendJson(
        res,
        400,
        openAiError(
          "Missing required parameter: 'messages'.",
          'invalid_request_error',
          'missing_required_parameter',
          'messages',
        ),
      );
    }

    const prompt = lastUserText(messages);
    const directive = parseDirective(prompt);
    const seed = directive?.seed ?? promptSeed(prompt);
    const tokenCount = Math.min(MAX_TOKENS, directive?.tokens ?? defaultTokens);
    const pacing = normalisePacing({
      firstTokenMs: directive?.firstTokenMs ?? defaults.firstTokenMs,
      tokensPerSecond: directive?.tokensPerSecond ?? defaults.tokensPerSecond,
      jitter: directive?.jitter ?? defaults.jitter,
      write: directive?.write ?? defaults.write,
      tokensPerChunk: defaults.tokensPerChunk,
    });
    const tokens = generateTokens(seed, tokenCount);
    const promptTokens = Math.max(1, Math.ceil(JSON.stringify(messages).length / 4));
    const usage: Usage = {
      prompt_tokens: promptTokens,
      completion_tokens: tokenCount,
      total_tokens: promptTokens + tokenCount,
    };
    const id = `${idPrefix}${(idCounter++).toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const streamOptions = request['stream_options'];
    const includeUsage =
      typeof streamOptions === 'object' &&
      streamOptions !== null &&
      (streamOptions as Record<string, unknown>)['include_usage'] === true;

    if (request['stream'] === true) {
      startStream({
        res,
        chunked,
        tokens,
        pacing,
        writer: new ChunkWriter(id, created, model, includeUsage),
        includeUsage,
        usage,
      });
    } else {
      answerWhole({ res, tokens, pacing, id, created, usage });
    }
  }

  function answerWhole(a: {
    res: http.ServerResponse;
    tokens: string[];
    pacing: Pacing;
    id: string;
    created: number;
    usage: Usage;
  }): void {
    const events = eventCount(a.tokens.length, a.pacing.tokensPerChunk);
    const deadlines = eventDeadlines(events, a.pacing);
    const dueIn = events === 0 ? a.pacing.firstTokenMs : (deadlines[events - 1] as number);
    const handle = {
      abort: (): void => {
        clearTimeout(timer);
        live.delete(handle);
      },
    };
    const timer = setTimeout(() => {
      live.delete(handle);
      counters.tokensSent += a.tokens.length;
      const content = a.tokens.join('');
      sendJson(
        a.res,
        200,
        JSON.stringify(
          completionObject({
            id: a.id,
            created: a.created,
            model,
            content,
            usage: a.usage,
            sentAt: epochNow(),
          }),
        ),
      );
    }, dueIn);
    live.add(handle);
    a.res.on('close', handle.abort);
  }

  function startStream(s: {
    res: http.ServerResponse;
    chunked: boolean;
    tokens: string[];
    pacing: Pacing;
    writer: ChunkWriter;
    includeUsage: boolean;
    usage: Usage;
  }): void {
    const { res, tokens, pacing, writer } = s;
    const write: WriteMode = pacing.write;
    const perEvent = pacing.tokensPerChunk;
    const events = eventCount(tokens.length, perEvent);
    const deadlines = eventDeadlines(events, pacing);
    const start = performance.now();
    let k = 0; // next content event
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    let finished = false; // every event has been queued
    let closed = false;
    let eventSeq = 0; // alternates 2- and 3-piece splits
    const pieces: Buffer[] = [];

    counters.activeStreams++;
    counters.totalStreams++;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
      ...(s.chunked ? { 'Transfer-Encoding': 'chunked' } : {}),
    });
    res.flushHeaders();
    // Each SSE write goes straight to the socket with its own chunked framing, as ONE write:
    // res.write() would issue a three-buffer writev per event plus http bookkeeping, which at
    // 40,000 events/s is most of the server's CPU. res.end() later adds the `0\r\n\r\n` trailer.
    const socket = res.socket;
    const sendText = (text: string): void => {
      if (socket === null) res.write(text);
      else if (!s.chunked) socket.write(text);
      else socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
    };
    const sendBytes = (bytes: Buffer): void => {
      if (socket === null) res.write(bytes);
      else if (!s.chunked) socket.write(bytes);
      else
        socket.write(Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, CRLF]));
    };

    const stop = (aborted: boolean): void => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      pieces.length = 0;
      live.delete(handle);
      counters.activeStreams--;
      if (aborted) counters.abortedStreams++;
      else counters.completedStreams++;
    };
    const handle = {
      abort: (): void => {
        stop(true);
        res.destroy();
      },
    };
    live.add(handle);
    res.on('close', () => stop(!res.writableFinished));

    const contentJson = (i: number): string => {
      const from = i * perEvent;
      const text = perEvent === 1 ? (tokens[from] as string) : tokens.slice(from, from + perEvent).join('');
      return JSON.stringify(text);
    };

    const end = (): void => {
      if (closed) return;
      res.end();
    };

    const pump = (): void => {
      immediate = undefined;
      if (closed) return;
      const piece = pieces.shift();
      if (piece !== undefined) sendBytes(piece);
      if (pieces.length > 0) immediate = setImmediate(pump);
      else if (finished) end();
    };

    const emit = (out: string[]): void => {
      if (write === 'batch') {
        sendText(out.join(''));
      } else if (write === 'event') {
        for (const e of out) sendText(e);
      } else {
        for (const e of out) {
          const buf = Buffer.from(e, 'utf8');
          let from = 0;
          for (const cut of splitPoints(buf, 2 + (eventSeq++ % 2))) {
            pieces.push(buf.subarray(from, cut));
            from = cut;
          }
          pieces.push(buf.subarray(from));
        }
        if (immediate === undefined) pump();
        return;
      }
      if (finished) end();
    };

    const schedule = (): void => {
      const target = events === 0 ? pacing.firstTokenMs : (deadlines[groupEnd(k, events, write)] as number);
      timer = setTimeout(wake, Math.max(0, start + target - performance.now()));
    };

    const wake = (): void => {
      timer = undefined;
      if (closed) return;
      const now = performance.now();
      const sentAt = performance.timeOrigin + now;
      const out: string[] = [];
      if (k === 0) out.push(writer.role(sentAt));
      const mustReach = events === 0 ? -1 : groupEnd(k, events, write);
      // Everything up to the awaited event, plus whatever else is already due (a late timer).
      while (k < events && (k <= mustReach || start + (deadlines[k] as number) <= now + 1)) {
        out.push(writer.content(contentJson(k), sentAt));
        counters.tokensSent += Math.min(perEvent, tokens.length - k * perEvent);
        k++;
      }
      if (k >= events) {
        out.push(writer.finish(sentAt));
        if (s.includeUsage) out.push(writer.usage(s.usage, sentAt));
        out.push(SSE_DONE);
        finished = true;
      }
      emit(out);
      if (!finished) schedule();
    };

    schedule();
  }

  const { url, port } = await listenHttp(server, host, opts.port ?? 0);

  return {
    url,
    port,
    stats: () => ({ ...counters }),
    close: async () => {
      for (const h of [...live]) h.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: http.IncomingMessage, res: http.ServerResponse, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(c);
  });
  req.on('end', () => {
    if (tooLarge)
      return sendJson(res, 413, openAiError('Request body too large.', 'invalid_request_error', null));
    done(Buffer.concat(chunks).toString('utf8'));
  });
  req.on('error', () => res.destroy());
}

/** Text of the last user message; content may be a string or OpenAI's array of parts. */
export function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (typeof m !== 'object' || m === null || (m as Record<string, unknown>)['role'] !== 'user') continue;
    const content = (m as Record<string, unknown>)['content'];
    if (typeof content === 'string') return content;
    if (Array.isArray(content)) {
      return content
        .map((part) =>
          typeof part === 'object' &&
          part !== null &&
          typeof (part as Record<string, unknown>)['text'] === 'string'
            ? ((part as Record<string, unknown>)['text'] as string)
            : '',
        )
        .join('');
    }
    return '';
  }
  return '';
}
