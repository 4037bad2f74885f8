// One API chat with the xk6-sse extension (`k6/x/sse`): events are delivered as they arrive, so
// ttft, itl, tpot and client_lag are timed on receipt. The extension parses SSE itself and hands
// us whole events, so network reads are not visible: burst_size (tokens per read) would always be
// 1 and split_event_rate always 0 whatever a proxy does, so neither is emitted (a buffering proxy
// shows in itl instead; src/engines/k6/measurable.ts).
// Each event is re-serialised as one SSE block and fed to the shared StreamRecorder as one read.

import sse from 'k6/x/sse';
import type { MetricName } from '../../src/core/metrics.js';
import { StreamRecorder } from '../../src/engines/measure/stream-recorder.js';
import { generateTokens } from '../../src/protocol/ground-truth.js';
import { buildApiChatBody } from '../../src/protocol/openwebui.js';
import { utf8Encode } from '../../src/protocol/utf8.js';
import { directivePrompt, type ApiChatInput } from './api-chat.js';
import { k6Emit, record } from './metrics.js';

const MEASURED: ReadonlySet<MetricName> = new Set<MetricName>([
  'ttft',
  'itl',
  'tpot',
  'e2e',
  'ttft_e2e_ratio',
  'client_lag',
  'garbled_token_rate',
  'stream_outcome',
]);
const emit = k6Emit(MEASURED);

export function runXk6ApiChat({ config, token, seed }: ApiChatInput): void {
  const chat = config.chat;
  if (!chat) return;
  const tags = { client: 'api' };
  const expected = config.verify ? generateTokens(seed, chat.tokens) : undefined;
  const startMs = Date.now();
  const recorder = new StreamRecorder({ startMs, expected, emit, tagsJson: JSON.stringify(tags) });
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
  const body = JSON.stringify(
    buildApiChatBody({ model: config.model, prompt: directivePrompt(config, seed, chat.tokens) }),
  );
  const res = sse.open(
    `${config.baseUrl}${config.chatPath}`,
    { method: 'POST', body, headers, tags: { ...tags, endpoint: config.chatPath } },
    (client) => {
      client.on('event', (event) => {
        recorder.onRead(Date.now(), utf8Encode(`data: ${event.data.split('\n').join('\ndata: ')}\n\n`));
        if (recorder.sawDone) client.close();
      });
      client.on('error', () => client.close());
    },
  );
  const endMs = Date.now();
  if (res.status === 0 || res.status >= 400) {
    const status = String(res.status);
    record('http_errors', 1, { ...tags, status, endpoint: config.chatPath });
    recorder.finish(endMs, { outcome: 'http_error', status });
    return;
  }
  recorder.finish(endMs);
}
