// What the k6 engine cannot measure, so a run with it says so instead of passing on silence or
// failing on a "no data" it could never have had (docs/k6.md "What each engine measures").
//
// Contract: `notMeasuredByK6(slo, ctx)` → the reason the k6 engine cannot produce samples for that
// SLO in this run, or undefined when it can. An SLO scoped to a client kind is judged for that
// kind; one without `client` only when no client kind of the run can produce it (with browser
// clients present, a client-less `ttft` is measured from them). `markNotMeasured` sets
// `notMeasured` on those SLOs; core then reports them as "not measurable" with the reason, counts
// them in the headline, and does not gate on them. An SLO that does get data is judged as usual.
//
// The facts (from the scenarios, scenarios/lib/api-chat*.ts):
// - plain k6 reads an HTTP body whole: API chats have e2e, ttfb, outcome and integrity, but no
//   per-token timing (ttft, itl, tpot, ttft_e2e_ratio, client_lag), no reads (burst_size,
//   split_event_rate);
// - xk6-sse hands over parsed events, never network reads: burst_size and split_event_rate of API
//   chats would be fabricated (one "read" per event) and are not emitted;
// - the active_streams/active_sockets gauges are sampled by the Node engine only.

import type { MetricName } from '../../core/metrics.js';
import type { SloSpec } from '../../core/slo/spec.js';

export interface K6MeasureContext {
  sse: 'plain' | 'xk6';
  clients: { api: boolean; browser: boolean };
}

const NODE_ONLY: Partial<Record<MetricName, string>> = {
  active_streams: 'active_streams is a gauge sampled by the Node engine only',
  active_sockets: 'active_sockets is a gauge sampled by the Node engine only',
};

const PLAIN_API = new Set<MetricName>([
  'ttft',
  'itl',
  'tpot',
  'ttft_e2e_ratio',
  'burst_size',
  'split_event_rate',
  'client_lag',
]);
const XK6_API = new Set<MetricName>(['burst_size', 'split_event_rate']);

const PLAIN_REASON =
  'k6 without xk6-sse reads API responses whole: no token timings or reads (use a k6 build with xk6-sse, or --engine node)';
const XK6_REASON = 'xk6-sse hands over events, not network reads (use --engine node)';

function reasonFor(
  metric: MetricName,
  client: 'api' | 'browser',
  sse: K6MeasureContext['sse'],
): string | undefined {
  const nodeOnly = NODE_ONLY[metric];
  if (nodeOnly) return nodeOnly;
  if (client !== 'api') return undefined;
  if (sse === 'plain' && PLAIN_API.has(metric)) return PLAIN_REASON;
  if (sse === 'xk6' && XK6_API.has(metric)) return XK6_REASON;
  return undefined;
}

export function notMeasuredByK6(
  slo: Pick<SloSpec, 'metric' | 'client'>,
  ctx: K6MeasureContext,
): string | undefined {
  if (slo.client !== undefined) return reasonFor(slo.metric, slo.client, ctx.sse);
  const kinds = (['api', 'browser'] as const).filter((k) => ctx.clients[k]);
  if (kinds.length === 0) return undefined;
  const reasons = kinds.map((k) => reasonFor(slo.metric, k, ctx.sse));
  if (reasons.some((r) => r === undefined)) return undefined;
  return reasons[0];
}

/** The SLOs with `notMeasured` set where the k6 engine cannot measure them in this run. */
export function markNotMeasured(slos: readonly SloSpec[], ctx: K6MeasureContext): SloSpec[] {
  return slos.map((slo) => {
    const reason = notMeasuredByK6(slo, ctx);
    return reason === undefined ? slo : { ...slo, notMeasured: reason };
  });
}
