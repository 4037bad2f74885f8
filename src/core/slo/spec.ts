// SLO specification: the zod schema is the single source of truth for the `slos` section of
// experiment files and for experiments/slos/default.yaml. Evaluation lives next to it in core/slo.

import { z } from 'zod';
import { METRIC_NAMES } from '../metrics.js';

export const SLO_STATS = [
  'p50',
  'p75',
  'p90',
  'p95',
  'p99',
  'p99.9',
  'min',
  'max',
  'mean',
  'rate',
  'count',
] as const;
export type SloStat = (typeof SLO_STATS)[number];

/** `baseline`, `fault` (every fault window), `recovery`, `all`, or a timeline entry's name. */
export const PhaseSelector = z.string().min(1);

export const SloSpecSchema = z
  .strictObject({
    metric: z.enum(METRIC_NAMES),
    stat: z.enum(SLO_STATS),
    /** Objective: measured ≤ lte (latencies, error counts, garbled rate). */
    lte: z.number().optional(),
    /** Objective: measured ≥ gte (e.g. completed share). */
    gte: z.number().optional(),
    phases: z.array(PhaseSelector).min(1).default(['all']),
    /** Only samples whose `client` tag matches. */
    client: z.enum(['api', 'browser']).optional(),
    /** Only samples whose tags match all of these, e.g. `{ outcome: completed }`. */
    tags: z.record(z.string(), z.string()).optional(),
    /**
     * No samples is acceptable for this SLO (e.g. `ws_reconnect_time` when nothing disconnected).
     * Without it a gating SLO that measured nothing fails the verdict: silence is not a pass.
     */
    allowNoData: z.boolean().optional(),
    description: z.string().optional(),
  })
  .refine((s) => (s.lte === undefined) !== (s.gte === undefined), {
    message: 'give exactly one objective: `lte: <number>` (at most) or `gte: <number>` (at least)',
  });

export type SloSpec = z.infer<typeof SloSpecSchema> & {
  /**
   * Set by the run (never by a file: the schema refuses it) when the load engine cannot measure
   * this SLO, with the reason, e.g. plain k6 reading SSE bodies whole cannot time `ttft` of API
   * chats. Without data such an SLO is reported as "not measurable" with that reason, counted in
   * the headline, and does not gate; with data it is judged as usual (docs/k6.md).
   */
  notMeasured?: string;
};

/** A stable id for an SLO, used to merge defaults with overrides and in JUnit test names. */
export function sloId(slo: Pick<SloSpec, 'metric' | 'stat' | 'client' | 'tags'>): string {
  const tags = slo.tags
    ? Object.entries(slo.tags)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',')
    : '';
  return [slo.metric, slo.stat, slo.client ?? '', tags].filter(Boolean).join(':');
}

export function objectiveText(slo: Pick<SloSpec, 'lte' | 'gte'>): string {
  return slo.lte !== undefined ? `≤ ${slo.lte}` : `≥ ${slo.gte}`;
}
