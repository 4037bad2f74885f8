// Number and label formatting shared by the terminal, HTML and JUnit renderers, so every output
// states a measurement the same way (ms/s for latencies, % for ratios).

import { METRICS, isMetricName, type MetricDefinition } from '../metrics.js';
import type { SloSpec } from '../slo/spec.js';

export function unitOf(metric: string): MetricDefinition['unit'] {
  return isMetricName(metric) ? METRICS[metric].unit : 'count';
}

function trim(n: number, digits: number): string {
  return Number(n.toFixed(digits)).toString();
}

export function formatValue(metric: string, value: number | null | undefined, stat?: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (stat === 'count') return trim(value, 2);
  // A share of streams (`stream_outcome` rate) is a ratio even though the metric is a counter.
  const unit = stat === 'rate' ? 'ratio' : unitOf(metric);
  switch (unit) {
    case 'ms':
      if (Math.abs(value) >= 10_000) return `${trim(value / 1000, 1)} s`;
      if (Math.abs(value) >= 1000) return `${trim(value / 1000, 2)} s`;
      return `${trim(value, value >= 100 ? 0 : 1)} ms`;
    case 'ratio':
      return `${trim(value * 100, value < 0.01 ? 3 : 2)} %`;
    default:
      return trim(value, 2);
  }
}

export function formatObjective(slo: Pick<SloSpec, 'metric' | 'stat' | 'lte' | 'gte'>): string {
  return slo.lte !== undefined
    ? `≤ ${formatValue(slo.metric, slo.lte, slo.stat)}`
    : `≥ ${formatValue(slo.metric, slo.gte, slo.stat)}`;
}

/** `ttft [api] {outcome=completed}`: the metric and its filters, without the stat. */
export function selectorLabel(slo: Pick<SloSpec, 'metric' | 'client' | 'tags'>): string {
  const tags = slo.tags
    ? Object.entries(slo.tags)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',')
    : '';
  return [slo.metric, slo.client ? `[${slo.client}]` : '', tags ? `{${tags}}` : ''].filter(Boolean).join(' ');
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number(s.toFixed(s < 10 ? 1 : 0))} s`;
}

/** `+12.3 s` relative to the run start. */
export function formatOffset(ms: number, origin: number): string {
  return `+${formatSeconds(ms - origin)}`;
}
