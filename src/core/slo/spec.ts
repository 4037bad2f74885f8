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

const SloSpecObject = z
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
  })
  .refine((s) => s.tags?.['client'] === undefined, {
    // Only reached when clientOutOfTags left the tag in place: no client, or a second one.
    message: '`tags.client` must be `api` or `browser` and agree with `client` (give the client once)',
    path: ['tags', 'client'],
  });

export const SloSpecSchema = z.preprocess(clientOutOfTags, SloSpecObject);

/**
 * `tags: { client: api }` and `client: api` select the same samples, but only `client` is part of
 * a share's denominator: left in `tags`, a per-client completion share would be taken over every
 * client's streams (docs/capacity.md "Mixed sweeps"). So the client tag is moved out, once, here.
 */
function clientOutOfTags(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const s = input as { client?: unknown; tags?: unknown };
  if (typeof s.tags !== 'object' || s.tags === null) return input;
  const { client, ...rest } = s.tags as Record<string, unknown>;
  const known = client === 'api' || client === 'browser';
  if (!known || (s.client !== undefined && s.client !== client)) return input; // refused below
  const { tags: _tags, ...spec } = s;
  void _tags;
  return { ...spec, client, ...(Object.keys(rest).length > 0 ? { tags: rest } : {}) };
}

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
