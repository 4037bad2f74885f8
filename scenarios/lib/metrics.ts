// k6 custom metrics with the catalogue names of src/core/metrics.ts (DESIGN §5), so `--out json`
// Points feed the same reporter as the Node engine.
//
// Contract: `emit` has the Node recorders' signature (metric, time, value, tags as JSON text) so
// the very same StreamRecorder/SnapshotRecorder measure in both engines. k6 stamps its own sample
// time, so the given time is ignored (it is "now" for every call the recorders make). Catalogue
// rates (garbled_token_rate, split_event_rate) are per-stream values in 0–1: a k6 `Rate` would
// coerce them to 0/1, so they are non-time Trends; the reporter reads the values either way.

import { Counter, Gauge, Trend } from 'k6/metrics';
import type { MetricName } from '../../src/core/metrics.js';
import type { Emit } from '../../src/engines/measure/emit.js';

type K6Metric = Trend | Counter | Gauge;

const time = (name: string): Trend => new Trend(name, true);
const plain = (name: string): Trend => new Trend(name, false);

export const METRICS: Record<MetricName, K6Metric> = {
  ttft: time('ttft'),
  itl: time('itl'),
  tpot: time('tpot'),
  e2e: time('e2e'),
  ttfb: time('ttfb'),
  stream_outcome: new Counter('stream_outcome'),
  garbled_token_rate: plain('garbled_token_rate'),
  split_event_rate: plain('split_event_rate'),
  burst_size: plain('burst_size'),
  ttft_e2e_ratio: plain('ttft_e2e_ratio'),
  ws_connect_time: time('ws_connect_time'),
  ws_disconnects: new Counter('ws_disconnects'),
  ws_reconnects: new Counter('ws_reconnects'),
  ws_reconnect_time: time('ws_reconnect_time'),
  ws_missed_done: new Counter('ws_missed_done'),
  ws_connect_errors: new Counter('ws_connect_errors'),
  ws_never_joined: new Counter('ws_never_joined'),
  http_errors: new Counter('http_errors'),
  protocol_errors: new Counter('protocol_errors'),
  missed_starts: new Counter('missed_starts'),
  client_lag: time('client_lag'),
  active_streams: new Gauge('active_streams'),
  active_sockets: new Gauge('active_sockets'),
};

export function record(metric: MetricName, value: number, tags: Record<string, string>): void {
  METRICS[metric].add(value, tags);
}

/** An Emit for the shared recorders; `only` restricts it to the metrics this mode can measure. */
export function k6Emit(only?: ReadonlySet<MetricName>): Emit {
  return (metric, _timeMs, value, tagsJsonText) => {
    if (only && !only.has(metric)) return;
    METRICS[metric].add(value, JSON.parse(tagsJsonText) as Record<string, string>);
  };
}
