// API client (DESIGN §5, openwebui-protocol.md §3.4 "mode A"): one chat completion streamed over
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
import { epochNow, replicaOf } from './http.js';
import type { Emit } from './sample-writer.js';
import { tagsJson } from './sample-writer.js';
import { StreamRecorder, withTags, type StreamSummary } from '../measure/stream-recorder.js';

export const API_CHAT_PATH = '/api/chat/completions';

export interface ApiStreamOptions {
  dispatcher: Dispatcher;
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
}

export async function runApiStream(o: ApiStreamOptions): Promise<StreamSummary> {
  const now = o.now ?? epochNow;
  const path = o.path ?? API_CHAT_PATH;
  const startMs = o.startMs ?? now();
  const base = { client: 'api' as const };
  const local = new AbortController();
  let stopReason: 'timeout' | 'cancelled' | undefined;
  const onCancel = (): void => {
    stopReason ??= 'cancelled';
    local.abort(new Error('cancelled'));
  };
  if (o.signal.aborted) onCancel();
  else o.signal.addEventListener('abort', onCancel, { once: true });
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
  try {
    if (local.signal.aborted) throw local.signal.reason;
    const res = await o.dispatcher.request({
      origin: url.origin,
      path: joinPath(url.pathname, path),
      method: 'POST',
      headers,
      body,
      signal: local.signal,
    });
    const replica = replicaOf(res.headers);
    const tags = tagsJson(replica === undefined ? base : { ...base, replica });
    recorder = new StreamRecorder({ startMs, expected, emit: o.emit, tagsJson: tags });
    if (res.statusCode >= 400) {
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const status = String(res.statusCode);
      o.emit('http_errors', now(), 1, withTags(tags, { status, endpoint: path }));
      return recorder.finish(now(), { outcome: 'http_error', status });
    }
    const rec = recorder;
    await new Promise<void>((resolve) => {
      res.body.on('data', (chunk: Buffer) => rec.onRead(now(), chunk));
      res.body.once('end', resolve);
      res.body.once('error', () => resolve());
      res.body.once('close', resolve);
    });
    return rec.finish(now(), stopReason === undefined ? undefined : { outcome: stopReason });
  } catch {
    const t = now();
    if (recorder) return recorder.finish(t, stopReason === undefined ? undefined : { outcome: stopReason });
    const tags = tagsJson(base);
    const r = new StreamRecorder({ startMs, expected, emit: o.emit, tagsJson: tags });
    if (stopReason !== undefined) return r.finish(t, { outcome: stopReason });
    o.emit('http_errors', t, 1, withTags(tags, { status: '0', endpoint: path }));
    return r.finish(t, { outcome: 'http_error', status: '0' });
  } finally {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', onCancel);
  }
}

function joinPath(basePath: string, path: string): string {
  const b = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  return b + path;
}
