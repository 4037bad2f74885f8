// Shared by the browser parity tests: which k6 binaries to run, and the ws_* profile of a run.
import { METRIC_NAMES } from '../../../src/core/metrics.js';

export { k6Binaries } from '../../helpers/k6-binaries.js';

export interface Point {
  type?: string;
  metric: string;
  data: { value: number; tags: Record<string, string> };
}

/** The catalogue's ws_* metrics: what the session decides (k6's own ws_* built-ins are not ours). */
const WS = METRIC_NAMES.filter((m) => m.startsWith('ws_'));

export interface WsProfile {
  /** Samples per catalogue ws_* metric that appeared. */
  counts: Record<string, number>;
  /** Sum of the values of the counters (ws_never_joined, ws_connect_errors, ...). */
  sums: Record<string, number>;
  /** connect-error reasons seen. */
  reasons: string[];
}

export function wsProfile(points: readonly Point[]): WsProfile {
  const counts: Record<string, number> = {};
  const sums: Record<string, number> = {};
  const reasons = new Set<string>();
  for (const p of points) {
    if (p.type !== undefined && p.type !== 'Point') continue;
    if (!(WS as readonly string[]).includes(p.metric) || p.data.tags['client'] !== 'browser') continue;
    counts[p.metric] = (counts[p.metric] ?? 0) + 1;
    if (p.metric !== 'ws_connect_time' && p.metric !== 'ws_reconnect_time')
      sums[p.metric] = (sums[p.metric] ?? 0) + p.data.value;
    if (p.metric === 'ws_connect_errors' && p.data.tags['reason']) reasons.add(p.data.tags['reason']);
  }
  return { counts, sums, reasons: [...reasons].sort() };
}
