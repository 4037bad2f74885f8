// The metric catalogue of DESIGN §5: names, kinds, units and the definitions every report states.
// Sample files (NDJSON, k6 Point shape), SLO specs and reports all refer to these names.

export type MetricKind = 'trend' | 'counter' | 'rate' | 'gauge';

export interface MetricDefinition {
  name: MetricName;
  kind: MetricKind;
  /** Unit of `data.value` in samples. Trends in ms, as k6 writes them. */
  unit: 'ms' | 'count' | 'ratio' | 'tokens';
  definition: string;
}

export const METRIC_NAMES = [
  'ttft',
  'itl',
  'tpot',
  'e2e',
  'ttfb',
  'stream_outcome',
  'garbled_token_rate',
  'split_event_rate',
  'burst_size',
  'ttft_e2e_ratio',
  'ws_connect_time',
  'ws_disconnects',
  'ws_reconnects',
  'ws_reconnect_time',
  'ws_missed_done',
  'ws_connect_errors',
  'ws_never_joined',
  'http_errors',
  'protocol_errors',
  'missed_starts',
  'client_lag',
  'active_streams',
  'active_sockets',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const METRICS: Record<MetricName, MetricDefinition> = {
  ttft: {
    name: 'ttft',
    kind: 'trend',
    unit: 'ms',
    definition: 'request start (intended start in the open model) → first content token received',
  },
  itl: {
    name: 'itl',
    kind: 'trend',
    unit: 'ms',
    definition: 'gap between successive content-bearing receipts (chunks or socket events), pooled',
  },
  tpot: { name: 'tpot', kind: 'trend', unit: 'ms', definition: '(e2e − ttft) / (tokens − 1), per stream' },
  e2e: {
    name: 'e2e',
    kind: 'trend',
    unit: 'ms',
    definition: 'request start → terminator (`[DONE]`, `done: true`)',
  },
  ttfb: {
    name: 'ttfb',
    kind: 'trend',
    unit: 'ms',
    definition: 'request start → first response byte (k6 without xk6-sse measures this instead of ttft)',
  },
  stream_outcome: {
    name: 'stream_outcome',
    kind: 'counter',
    unit: 'count',
    definition:
      'one sample per stream, tag `outcome`: completed / truncated (ended without terminator) / http_error / protocol_error (an unexpected reply, with `status` and `content_type`) / timeout (also a socket chat without any event within the grace, `reason: no_event`) / cancelled',
  },
  garbled_token_rate: {
    name: 'garbled_token_rate',
    kind: 'rate',
    unit: 'ratio',
    definition:
      '(missing + corrupted + extra tokens) / expected tokens, per stream, against the mock LLM ground truth',
  },
  split_event_rate: {
    name: 'split_event_rate',
    kind: 'rate',
    unit: 'ratio',
    definition: 'share of SSE events whose bytes arrived in more than one read, per stream',
  },
  burst_size: {
    name: 'burst_size',
    kind: 'trend',
    unit: 'tokens',
    definition: 'content tokens per network read (nginx buffering shows as large bursts and ttft ≈ e2e)',
  },
  ttft_e2e_ratio: {
    name: 'ttft_e2e_ratio',
    kind: 'trend',
    unit: 'ratio',
    definition:
      'ttft / e2e per completed API stream of more than one token: near 0 when tokens stream as generated, near 1 when a proxy holds the reply and delivers it at once',
  },
  ws_connect_time: {
    name: 'ws_connect_time',
    kind: 'trend',
    unit: 'ms',
    definition: 'socket open started → Socket.IO connected and `user-join` acknowledged',
  },
  ws_disconnects: {
    name: 'ws_disconnects',
    kind: 'counter',
    unit: 'count',
    definition: 'unplanned socket disconnects, per browser client',
  },
  ws_reconnects: {
    name: 'ws_reconnects',
    kind: 'counter',
    unit: 'count',
    definition: 'successful reconnects (connected and joined again), per browser client',
  },
  ws_reconnect_time: {
    name: 'ws_reconnect_time',
    kind: 'trend',
    unit: 'ms',
    definition: 'disconnect → connected and joined again',
  },
  ws_missed_done: {
    name: 'ws_missed_done',
    kind: 'counter',
    unit: 'count',
    definition: 'socket chats whose final `done` never arrived',
  },
  ws_connect_errors: {
    name: 'ws_connect_errors',
    kind: 'counter',
    unit: 'count',
    definition:
      'failed browser connection attempts, tag `reason`: handshake (with `status`: 400, 403, 426 …) / origin_refused / network / connect_error / join_refused (empty `user-join` ack) / join_timeout / connect_timeout / closed',
  },
  ws_never_joined: {
    name: 'ws_never_joined',
    kind: 'counter',
    unit: 'count',
    definition: 'one sample per browser client at its end: 1 if it never connected and joined, else 0',
  },
  http_errors: {
    name: 'http_errors',
    kind: 'counter',
    unit: 'count',
    definition: 'HTTP errors, tagged by `status` and `endpoint`',
  },
  protocol_errors: {
    name: 'protocol_errors',
    kind: 'counter',
    unit: 'count',
    definition:
      'bytes from the server that break the protocol, tagged by `reason` (invalid_json, invalid_utf8, line_too_long, event_too_large, text_too_long)',
  },
  missed_starts: {
    name: 'missed_starts',
    kind: 'counter',
    unit: 'count',
    definition: 'open model: arrivals that could not be started on time (in-flight cap reached)',
  },
  client_lag: {
    name: 'client_lag',
    kind: 'trend',
    unit: 'ms',
    definition: 'receive time − the mock LLM send time stamped in the chunk (load generator health)',
  },
  active_streams: {
    name: 'active_streams',
    kind: 'gauge',
    unit: 'count',
    definition: 'chat streams in flight, sampled every second',
  },
  active_sockets: {
    name: 'active_sockets',
    kind: 'gauge',
    unit: 'count',
    definition: 'browser sockets connected and joined, sampled every second',
  },
};

export function isMetricName(name: string): name is MetricName {
  return (METRIC_NAMES as readonly string[]).includes(name);
}

export const STREAM_OUTCOMES = [
  'completed',
  'truncated',
  'http_error',
  'protocol_error',
  'timeout',
  'cancelled',
] as const;
export type StreamOutcome = (typeof STREAM_OUTCOMES)[number];

export type ClientKind = 'api' | 'browser';
