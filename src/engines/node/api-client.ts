// API client (DESIGN §5, docs/openwebui-protocol.md §3.4 "mode A"): one chat completion streamed over
// SSE, read as raw body chunks as they arrive, measured by StreamRecorder.
//
// Contract: `runApiStream` never throws; it resolves with the stream's summary after writing
// every sample of that stream. The request carries `stream: true`, no session/chat/parent ids, no
// Accept-Encoding, and the ground-truth directive in the prompt. Outcomes: completed (`[DONE]`
// seen), truncated (EOF or connection reset without `[DONE]`), http_error (status ≥ 400, or no
// response at all: status "0" as k6 reports it; plus an `http_errors` sample tagged `status` and
// `endpoint`), timeout (`timeoutMs` after the actual send), cancelled (the run's signal aborted
// it, e.g. at the deadline). Samples are tagged `client: api` and `replica` when the response
// names one.

import type { Dispatcher } from 'undici';
import { formatDirective, generateTokens, type GroundTruthDirective } from '../../protocol/ground-truth.js';
import { buildApiChatBody } from '../../protocol/openwebui.js';
import { epochNow, nodeLineDecoder, onAbort, replicaOf } from './http.js';
import type { Emit } from './sample-writer.js';
import { tagsJson } from './sample-writer.js';
import { StreamRecorder, withTags, type StreamSummary } from '../measure/stream-recorder.js';

export const API_CHAT_PATH = '/api/chat/completions';

export interface ApiStreamOptions {
  /** An undici Agent/Client, or one of the engine's own stream connections (stream-connection.ts). */
  dispatcher: Pick<Dispatcher, 'dispatch'>;
  baseUrl: string;
  /** Default `/api/chat/completions`; the mock LLM directly is `/v1/chat/completions`. */
  path?: string;
  token?: string | undefined;
  model: string;
  directive: GroundTruthDirective;
  /** Compare with the ground truth (only meaningful when the model is the mock LLM). */
  verify: boolean;
  /** Request start for ttft/e2e: the intended start in the open model. Default: now. */
  startMs?: number;
  timeoutMs: number;
  /** Aborting it cancels the stream (outcome `cancelled`). */
  signal: AbortSignal;
  emit: Emit;
  now?: () => number;
  /** The response's status and headers (lower-cased names), once they arrive (doctor: X-Accel-Buffering). */
  onResponse?: (statusCode: number, headers: Record<string, string>) => void;
}

export async function runApiStream(o: ApiStreamOptions): Promise<StreamSummary> {
  const now = o.now ?? epochNow;
  const path = o.path ?? API_CHAT_PATH;
  const startMs = o.startMs ?? now();
  const base = { client: 'api' as const };
  const local = new Cancel();
  let stopReason: 'timeout' | 'cancelled' | undefined;
  const onCancel = (): void => {
    stopReason ??= 'cancelled';
    local.abort(new Error('cancelled'));
  };
  const unsubscribe = onAbort(o.signal, onCancel);
  const timer = setTimeout(() => {
    stopReason ??= 'timeout';
    local.abort(new Error('timeout'));
  }, o.timeoutMs);

  const body = JSON.stringify(buildApiChatBody({ model: o.model, prompt: formatDirective(o.directive) }));
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (o.token) headers['authorization'] = `Bearer ${o.token}`;
  const url = new URL(o.baseUrl);
  const expected = o.verify ? generateTokens(o.directive.seed, o.directive.tokens) : undefined;

  let recorder: StreamRecorder | undefined;
  let streamTags = tagsJson(base);
  try {
    if (local.reason) throw local.reason;
    // undici's dispatch() with a plain handler: each body chunk reaches the recorder straight from
    // the HTTP parser, without request()'s Readable stream (its push/emit machinery was a tenth
    // of the engine's CPU per event).
    const response = await exchange(o.dispatcher, {
      origin: url.origin,
      path: joinPath(url.pathname, path),
      body,
      headers,
      cancel: local,
      onStart: (statusCode, replica, rawHeaders) => {
        if (o.onResponse) o.onResponse(statusCode, headerMap(rawHeaders));
        if (replica !== undefined) streamTags = tagsJson({ ...base, replica });
        recorder = new StreamRecorder({
          startMs,
          expected,
          emit: o.emit,
          tagsJson: streamTags,
          decode: nodeLineDecoder,
        });
        return statusCode < 400;
      },
      onData: (chunk) => recorder?.onRead(now(), chunk),
    });
    const rec = recorder as StreamRecorder | undefined;
    if (rec === undefined) throw new Error('no response');
    if (response.statusCode >= 400) {
      const status = String(response.statusCode);
      o.emit('http_errors', now(), 1, withTags(streamTags, { status, endpoint: path }));
      return rec.finish(now(), { outcome: 'http_error', status });
    }
    return rec.finish(now(), stopReason === undefined ? undefined : { outcome: stopReason });
  } catch {
    const t = now();
    const rec = recorder as StreamRecorder | undefined;
    if (rec) return rec.finish(t, stopReason === undefined ? undefined : { outcome: stopReason });
    const tags = streamTags;
    const r = new StreamRecorder({ startMs, expected, emit: o.emit, tagsJson: tags });
    if (stopReason !== undefined) return r.finish(t, { outcome: stopReason });
    o.emit('http_errors', t, 1, withTags(tags, { status: '0', endpoint: path }));
    return r.finish(t, { outcome: 'http_error', status: '0' });
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

/** A one-shot cancel switch for one stream (an AbortController without EventTarget's costs). */
class Cancel {
  reason: Error | undefined;
  onAbort: ((reason: Error) => void) | undefined;
  abort(reason: Error): void {
    if (this.reason) return;
    this.reason = reason;
    this.onAbort?.(reason);
  }
}

/** Error bodies are read (so the connection can be reused) up to this size, then dropped. */
const ERROR_BODY_LIMIT = 64 * 1024;

/**
 * One POST through `dispatcher.dispatch`. `onStart` gets the status and replica header and says
 * whether the body is wanted (`onData` per chunk); an unwanted body is drained up to
 * ERROR_BODY_LIMIT. Resolves at the end of the body (EOF, or a reset after the headers: the
 * caller then sees a stream without `[DONE]`); rejects when no response arrived or `signal`
 * aborted before the headers. An abort after the headers resolves (the body just stops).
 */
function exchange(
  dispatcher: Pick<Dispatcher, 'dispatch'>,
  r: {
    origin: string;
    path: string;
    body: string;
    headers: Record<string, string>;
    cancel: Cancel;
    onStart: (
      statusCode: number,
      replica: string | undefined,
      rawHeaders: Buffer[] | string[] | null | undefined,
    ) => boolean;
    onData: (chunk: Buffer) => void;
  },
): Promise<{ statusCode: number }> {
  return new Promise((resolve, reject) => {
    let statusCode = 0;
    let wanted = true;
    let drained = 0;
    let abortRequest: ((err: Error) => void) | undefined;
    let settled = false;
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      r.cancel.onAbort = undefined;
      if (statusCode > 0) resolve({ statusCode });
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    r.cancel.onAbort = (reason) => {
      if (abortRequest) abortRequest(reason);
      else settle(reason);
    };
    const handler: Dispatcher.DispatchHandler = {
      onConnect: (abort) => {
        abortRequest = abort as (err: Error) => void;
        if (settled || r.cancel.reason) abortRequest(r.cancel.reason ?? new Error('aborted'));
      },
      onHeaders: (status, rawHeaders) => {
        if (settled) return false;
        statusCode = status;
        wanted = r.onStart(status, replicaOfRaw(rawHeaders), rawHeaders);
        return true;
      },
      onData: (chunk) => {
        if (settled) return false;
        if (wanted) r.onData(chunk);
        else if ((drained += chunk.length) > ERROR_BODY_LIMIT)
          abortRequest?.(new Error('error body too large'));
        return true;
      },
      onComplete: () => settle(),
      onError: (err) => settle(err),
    };
    try {
      dispatcher.dispatch(
        { origin: r.origin, path: r.path, method: 'POST', headers: r.headers, body: r.body },
        handler,
      );
    } catch (err) {
      settle(err);
    }
  });
}

/** undici's raw header list as a map of lower-cased names (the last value wins). */
function headerMap(raw: Buffer[] | string[] | null | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!raw) return headers;
  for (let i = 0; i + 1 < raw.length; i += 2) headers[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
  return headers;
}

/** `replicaOf` on undici's raw header list (name, value, name, value…). */
function replicaOfRaw(raw: Buffer[] | string[] | null | undefined): string | undefined {
  if (!raw) return undefined;
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase();
    if (name === 'x-upstream' || name === 'x-owui-replica') headers[name] = String(raw[i + 1]);
  }
  return replicaOf(headers);
}

function joinPath(basePath: string, path: string): string {
  const b = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  return b + path;
}
