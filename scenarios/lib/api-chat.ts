// One API (mode A) chat in k6: `POST {chatPath}` with `stream: true`, measured by the Node
// engine's StreamRecorder so both engines apply the same definitions.
//
// Core k6 reads an HTTP body whole, so in `plain` mode the body is ONE read received at the end:
// we emit ttfb (request start → first byte, from k6's timings), e2e, stream_outcome and
// garbled_token_rate, and NOT ttft, itl, tpot, burst_size, client_lag or split_event_rate (they
// would be fabricated). The setup() of each scenario logs this once.

import http from 'k6/http';
import type { MetricName } from '../../src/core/metrics.js';
import { StreamRecorder } from '../../src/engines/measure/stream-recorder.js';
import { formatDirective, generateTokens } from '../../src/protocol/ground-truth.js';
import { buildApiChatBody } from '../../src/protocol/openwebui.js';
import type { ScenarioConfig } from './config.js';
import { k6Emit, record } from './metrics.js';

/** What plain k6 can measure honestly (see the module comment). */
export const PLAIN_MEASURED: ReadonlySet<MetricName> = new Set<MetricName>([
  'e2e',
  'garbled_token_rate',
  'stream_outcome',
]);

const plainEmit = k6Emit(PLAIN_MEASURED);

export interface ApiChatInput {
  config: ScenarioConfig;
  token: string | undefined;
  seed: number;
}

export function directivePrompt(config: ScenarioConfig, seed: number, tokens: number): string {
  return formatDirective({ seed, tokens, ...config.pacing });
}

export function runPlainApiChat({ config, token, seed }: ApiChatInput): void {
  const chat = config.chat;
  if (!chat) return;
  const tags = { client: 'api' };
  const prompt = directivePrompt(config, seed, chat.tokens);
  const expected = config.verify ? generateTokens(seed, chat.tokens) : undefined;
  const startMs = Date.now();
  const recorder = new StreamRecorder({ startMs, expected, emit: plainEmit, tagsJson: JSON.stringify(tags) });
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
  const res = http.post(
    `${config.baseUrl}${config.chatPath}`,
    JSON.stringify(buildApiChatBody({ model: config.model, prompt })),
    {
      headers,
      // bytes, not a string: the shared SSE parser does its own UTF-8 decoding, as on the wire.
      responseType: 'binary',
      timeout: `${chat.timeoutMs}ms`,
      tags: { ...tags, endpoint: config.chatPath },
      // Open WebUI may compress (§3.4); sending no Accept-Encoding keeps the body plain.
    },
  );
  const endMs = Date.now();
  const t = res.timings;
  if (res.status === 0) {
    // 1050 = k6's request timeout error code.
    const outcome = res.error_code === 1050 ? 'timeout' : 'http_error';
    record('http_errors', 1, { ...tags, status: '0', endpoint: config.chatPath });
    recorder.finish(endMs, outcome === 'timeout' ? { outcome } : { outcome, status: '0' });
    return;
  }
  record('ttfb', t.blocked + t.connecting + t.tls_handshaking + t.sending + t.waiting, tags);
  if (res.status >= 400) {
    record('http_errors', 1, { ...tags, status: String(res.status), endpoint: config.chatPath });
    recorder.finish(endMs, { outcome: 'http_error', status: String(res.status) });
    return;
  }
  const body = res.body;
  if (body instanceof ArrayBuffer) recorder.onRead(endMs, new Uint8Array(body));
  recorder.finish(endMs);
}
