// Game-day hypotheses and their verdicts (docs/gameday.md). A hypothesis is a statement with checks
// that can be measured: the plan's own SLOs (each with its description, judged in the phases it
// names) and hypothesis notes written during the session with an optional check ("ttft p95 ≤ 3000
// during the next fault"). Verdict rules, the same live and in the report:
// - broken: a check was measured and missed its objective (or the load stalled where the steady
//   state produced the metric — the SLO judge's rule);
// - held: every check was measured and met its objective;
// - no data: a check measured nothing, or its phase never happened (a hypothesis about the next
//   fault when none followed). Silence is never "held";
// - pending (live only): the phase has not happened yet.
// Pure: the measurements come from the SLO judge (src/core/report/incremental.ts).

import { z } from 'zod';
import { METRIC_NAMES, STREAM_OUTCOMES } from '../metrics.js';
import type { SloResult } from '../report/results.js';
import { SLO_STATS, objectiveText, type SloSpec } from '../slo/spec.js';
import { ValidationError } from '../errors.js';
import { translateZodIssues } from '../config/issues.js';
import type { FaultWindow, JournalHypothesis, JournalNote } from '../journal.js';
import type { IncrementalSloEvaluator } from '../report/incremental.js';
import { phaseInfos, phasePlan } from '../report/phases.js';

export type HypothesisVerdict = JournalHypothesis['verdict'];

/** `during`: `next-fault` (default: the first fault injected after the note), a phase or a fault name. */
export const HypothesisCheckSchema = z
  .strictObject({
    metric: z.enum(METRIC_NAMES),
    stat: z.enum(SLO_STATS),
    lte: z.number().optional(),
    gte: z.number().optional(),
    client: z.enum(['api', 'browser']).optional(),
    /** For `stream_outcome`: the outcome whose share (`rate`) or count is checked. */
    outcome: z.enum(STREAM_OUTCOMES).optional(),
    during: z.string().min(1).max(200).default('next-fault'),
  })
  .refine((c) => (c.lte === undefined) !== (c.gte === undefined), {
    message: 'give exactly one objective: `lte` (at most) or `gte` (at least)',
  })
  .refine((c) => !(c.metric === 'stream_outcome' && c.stat === 'rate' && c.outcome === undefined), {
    message: 'a stream_outcome rate needs `outcome` (e.g. completed): the share of streams with it',
  });

export interface HypothesisCheck {
  metric: (typeof METRIC_NAMES)[number];
  stat: (typeof SLO_STATS)[number];
  lte?: number;
  gte?: number;
  client?: 'api' | 'browser';
  outcome?: (typeof STREAM_OUTCOMES)[number];
  during: string;
}

/** Validates a check from the console or the terminal; throws ValidationError with file-style issues. */
export function parseHypothesisCheck(input: unknown): HypothesisCheck {
  const parsed = HypothesisCheckSchema.safeParse(input);
  if (!parsed.success)
    throw new ValidationError(
      'The hypothesis check is not valid',
      translateZodIssues(parsed.error.issues, { schema: HypothesisCheckSchema, data: input, secrets: [] }),
      { code: 'INVALID_CHECK' },
    );
  // Absent, not undefined (exactOptionalPropertyTypes; the journal keeps no empty keys).
  return Object.fromEntries(
    Object.entries(parsed.data).filter(([, v]) => v !== undefined),
  ) as unknown as HypothesisCheck;
}

export interface Hypothesis {
  id: string;
  source: 'plan' | 'note';
  text: string;
  /** When it was written (notes); null for the plan's. */
  at: number | null;
  /** The checks, phases still symbolic for notes (`next-fault`). */
  slos: SloSpec[];
}

/** The verdict record (stored in the journal, shown in the console and report.html). */
export type HypothesisResult = JournalHypothesis;

/** The check as an SLO spec (phase still symbolic). */
export function checkToSlo(check: HypothesisCheck): SloSpec {
  return {
    metric: check.metric,
    stat: check.stat,
    ...(check.lte !== undefined ? { lte: check.lte } : {}),
    ...(check.gte !== undefined ? { gte: check.gte } : {}),
    ...(check.client ? { client: check.client } : {}),
    ...(check.outcome ? { tags: { outcome: check.outcome } } : {}),
    phases: [check.during],
  };
}

export function describeCheck(
  slo: Pick<SloSpec, 'metric' | 'stat' | 'client' | 'tags' | 'lte' | 'gte'>,
): string {
  const tags = slo.tags
    ? `{${Object.entries(slo.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}}`
    : '';
  return `${slo.metric}${tags}${slo.client ? ` (${slo.client})` : ''} ${slo.stat} ${objectiveText(slo)}`;
}

/**
 * Resolves symbolic phases: `next-fault` becomes the phase key of the first fault window that
 * started at or after the note (undefined: none yet).
 */
export function resolvePhase(
  phase: string,
  at: number | null,
  windows: ReadonlyArray<{ key: string; start: number }>,
): string | undefined {
  if (phase !== 'next-fault') return phase;
  if (at === null) return undefined;
  return [...windows].sort((a, b) => a.start - b.start).find((w) => w.start >= at)?.key;
}

/**
 * The verdict of one hypothesis from the judged rows of its checks (in the resolved phases).
 * `unresolved`: checks whose phase has not happened (no fault after the note); `live`: the session
 * is still running, so a phase not reached is pending rather than missing.
 */
export function judgeHypothesis(
  h: Hypothesis,
  rows: readonly SloResult[],
  opts: { live: boolean; unresolved: number; phaseExists: (phase: string) => boolean },
): HypothesisResult {
  const checks = rows.map((r) => ({
    check: describeCheck(r.slo),
    phase: r.phase,
    objective: r.objectiveText,
    measured: r.measured,
    samples: r.samples,
    verdict: r.verdict,
    ...(r.note ? { note: r.note } : {}),
  }));
  const base = { id: h.id, source: h.source, text: h.text, at: h.at, checks };
  // Live, nothing measured yet (the first seconds of a window, recovery while a fault is in) is
  // pending, as in the live SLO table; the final verdict keeps the judge's "load stalled" breach.
  const unmeasured = (r: SloResult): boolean => opts.live && r.samples === 0 && r.measured === null;
  const broken = rows.find((r) => r.verdict === 'breach' && !unmeasured(r) && opts.phaseExists(r.phase));
  if (broken) {
    return {
      ...base,
      verdict: 'broken',
      reason: `${describeCheck(broken.slo)} in \`${broken.phase}\`: ${broken.measured === null ? (broken.note ?? 'no samples') : `measured ${round(broken.measured)}`}`,
    };
  }
  // Live, a phase still to come is pending even when its check reads "pass" (a count of 0 before
  // recovery has begun is not a measurement of recovery).
  const missing = rows.filter((r) => r.verdict !== 'pass' || (opts.live && !opts.phaseExists(r.phase)));
  // (a breach left here is a live phase still to come)
  if (opts.unresolved > 0 || missing.length > 0 || rows.length === 0) {
    const notYet = opts.unresolved > 0 || missing.some((r) => !opts.phaseExists(r.phase) || unmeasured(r));
    if (opts.live && notYet) return { ...base, verdict: 'pending', reason: 'its phase has not happened yet' };
    const first = missing[0];
    return {
      ...base,
      verdict: 'no-data',
      reason:
        opts.unresolved > 0
          ? 'no fault was injected after it was written'
          : first
            ? `${describeCheck(first.slo)} in \`${first.phase}\`: ${first.note ?? 'no samples'}`
            : 'nothing to measure',
    };
  }
  return { ...base, verdict: 'held', reason: `${rows.length} check${rows.length === 1 ? '' : 's'} met` };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** A hypothesis note with a check as a hypothesis. */
export function noteHypothesis(note: JournalNote, id: string): Hypothesis {
  if (!note.check) throw new Error(`note ${id} has no check`);
  return {
    id,
    source: 'note',
    text: note.text,
    at: note.at,
    slos: [checkToSlo(parseHypothesisCheck(note.check))],
  };
}

/**
 * A count check (`http_errors ≤ 0`) reads 0 when nothing happened — also when the load was dead in
 * its phase. So a count that passed needs evidence that load ran in that phase: streams that
 * ended there (`stream_outcome` samples, of the check's client when it names one). Without any,
 * the row is not a pass: "load stalled" (a breach) when the baseline had streams, else no data.
 * Live, such a row reads as unmeasured (pending) until the phase has load.
 */
function withLoadEvidence(
  evaluator: Pick<IncrementalSloEvaluator, 'judgeSlos'>,
  row: SloResult,
  windows: ReadonlyArray<FaultWindow & { open?: boolean }>,
): SloResult {
  if (row.slo.stat !== 'count' || row.verdict !== 'pass' || row.slo.metric === 'stream_outcome') return row;
  const evidence = (phase: string): number =>
    evaluator.judgeSlos(
      [
        {
          metric: 'stream_outcome',
          stat: 'count',
          gte: 1,
          phases: [phase],
          ...(row.slo.client ? { client: row.slo.client } : {}),
        },
      ],
      windows,
      true,
    )[0]?.samples ?? 0;
  if (evidence(row.phase) > 0) return row;
  const stalled = row.phase !== 'baseline' && evidence('baseline') > 0;
  return {
    ...row,
    measured: null,
    samples: 0,
    verdict: stalled ? 'breach' : 'no-data',
    note: stalled
      ? `load stalled: no stream ended in \`${row.phase}\` (the baseline had streams), so a count of ${row.measured ?? 0} is not evidence`
      : `no load ran in \`${row.phase}\` (no stream ended there): a count of ${row.measured ?? 0} is not evidence`,
  };
}

/**
 * Judges every hypothesis on what the evaluator has folded, under the fault windows so far (open
 * ones: still injected). Phases are judged as in a run with faults planned: a hypothesis about
 * `recovery` before any fault is "not reached", never judged over the whole session.
 */
export function judgeHypotheses(
  evaluator: Pick<IncrementalSloEvaluator, 'judgeSlos'>,
  hypotheses: readonly Hypothesis[],
  windows: ReadonlyArray<FaultWindow & { open?: boolean }>,
  live: boolean,
): HypothesisResult[] {
  const plan = phasePlan(windows, { faultsPlanned: true });
  const phases = new Set(phaseInfos(plan).map((p) => p.name));
  const anyOpen = windows.some((w) => w.open);
  return hypotheses.map((h) => {
    let unresolved = 0;
    const slos: SloSpec[] = h.slos.flatMap((slo) => {
      const resolved = slo.phases.flatMap((p) => {
        const r = resolvePhase(p, h.at, plan.windows);
        if (r === undefined) unresolved += 1;
        return r === undefined ? [] : [r];
      });
      return resolved.length > 0 ? [{ ...slo, phases: resolved }] : [];
    });
    const rows = evaluator.judgeSlos(slos, windows, true).map((r) => withLoadEvidence(evaluator, r, windows));
    return judgeHypothesis(h, rows, {
      live,
      unresolved,
      // While a fault is injected, its window and `recovery` are still to come.
      phaseExists: (p) => phases.has(p) && !(anyOpen && p === 'recovery'),
    });
  });
}
