// k6 thresholds from SLO specs (src/core/slo/spec.ts), so a k6 run on its own (k6-operator, CI
// without owui-chaos) fails the way owui-chaos would judge it. owui-chaos itself never relies on
// k6's threshold verdict: it evaluates the SLOs from the samples, per phase.
//
// Contract: an SLO maps to `<metric>{client:…,tag:…}` → `<aggregation> <= | >= <objective>` when k6
// can compute the same number over the whole run; otherwise it is returned in `skipped` with the
// reason:
// - phase-scoped SLOs (anything but `all`): k6 thresholds cover the whole test;
// - `rate` of a counter (e.g. share of `stream_outcome` with `outcome=completed`): k6's counter
//   `rate` is per second, not a share;
// - `count` of a trend and any stat of a gauge: k6 has no such aggregation.
// Trend-backed catalogue rates (garbled_token_rate, split_event_rate: per-stream 0–1 values) map
// `rate` and `mean` to `avg`. Trend percentiles map to `p(N)` (`med` for p50).

import { METRICS } from '../../core/metrics.js';
import { sloId, type SloSpec } from '../../core/slo/spec.js';
import type { K6Thresholds } from './scenario-config.js';

export interface GeneratedThresholds {
  thresholds: K6Thresholds;
  skipped: { slo: string; reason: string }[];
}

export interface ThresholdOptions {
  /**
   * k6 stops the test itself when a threshold is crossed (`abortOnFail`; exit 99 before the
   * duration), e.g. the experiment's `settings.abortOnBreach` on k6-operator runners that
   * owui-chaos does not watch. Evaluation waits `delayAbortEvalMs` (default 10 s) so a threshold
   * is not judged on the first few samples.
   */
  abortOnFail?: boolean;
  delayAbortEvalMs?: number;
}

export function thresholdsFromSlos(
  slos: readonly SloSpec[],
  opts: ThresholdOptions = {},
): GeneratedThresholds {
  const thresholds: K6Thresholds = {};
  const delay = `${Math.round((opts.delayAbortEvalMs ?? 10_000) / 1000)}s`;
  const skipped: GeneratedThresholds['skipped'] = [];
  for (const slo of slos) {
    const id = sloId(slo);
    if (slo.notMeasured !== undefined) {
      skipped.push({ slo: id, reason: `not measurable with this k6: ${slo.notMeasured}` });
      continue;
    }
    if (slo.phases.length !== 1 || slo.phases[0] !== 'all') {
      skipped.push({
        slo: id,
        reason: `phase-scoped (${slo.phases.join(', ')}); k6 thresholds cover the whole run`,
      });
      continue;
    }
    const aggregation = aggregationFor(slo);
    if (typeof aggregation !== 'string') {
      skipped.push({ slo: id, reason: aggregation.reason });
      continue;
    }
    const tags: [string, string][] = [];
    if (slo.client !== undefined) tags.push(['client', slo.client]);
    for (const [k, v] of Object.entries(slo.tags ?? {}).sort(([a], [b]) => a.localeCompare(b)))
      tags.push([k, v]);
    const key =
      tags.length === 0 ? slo.metric : `${slo.metric}{${tags.map(([k, v]) => `${k}:${v}`).join(',')}}`;
    const expression = slo.lte !== undefined ? `${aggregation}<=${slo.lte}` : `${aggregation}>=${slo.gte}`;
    (thresholds[key] ??= []).push(
      opts.abortOnFail ? { threshold: expression, abortOnFail: true, delayAbortEval: delay } : expression,
    );
  }
  return { thresholds, skipped };
}

function aggregationFor(slo: SloSpec): string | { reason: string } {
  const kind = METRICS[slo.metric].kind;
  if (kind === 'gauge') return { reason: `${slo.metric} is a gauge sampled by owui-chaos, not by k6` };
  if (kind === 'counter') {
    if (slo.stat === 'count') return 'count';
    return {
      reason: `\`${slo.stat}\` of the counter ${slo.metric} has no k6 equivalent (k6's counter rate is per second)`,
    };
  }
  // trends, and catalogue rates (k6 Trends of per-stream values)
  switch (slo.stat) {
    case 'p50':
      return 'med';
    case 'p75':
    case 'p90':
    case 'p95':
    case 'p99':
    case 'p99.9':
      return `p(${slo.stat.slice(1)})`;
    case 'min':
    case 'max':
      return slo.stat;
    case 'mean':
      return 'avg';
    case 'rate':
      return kind === 'rate' ? 'avg' : { reason: `\`rate\` of the trend ${slo.metric} has no k6 equivalent` };
    case 'count':
      return { reason: `\`count\` of the trend ${slo.metric} has no k6 threshold aggregation` };
  }
}
