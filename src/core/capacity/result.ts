// The `capacity.json` document (schemaVersion 1) and the recommendation for `--for`
// (docs/capacity.md "Reading the result"). Additive changes keep version 1.

import type { SloSpec } from '../slo/spec.js';
import type { StepMeasurement } from './step.js';
import type { KneeResult, StepReason, StepVerdict, SweepConfig } from './sweep.js';
import type { Demand, StepTiming, SweepTarget } from './plan.js';

export const CAPACITY_SCHEMA_VERSION = 1;

/**
 * What a sweep's load counts: API chats per second (the open model's arrival rate), or connected
 * browser users each chatting every `chatIntervalMs` on their own schedule (docs/capacity.md
 * "Browser users"). A document without `unit` counts chats/s.
 */
export type LoadUnit = 'chats/s' | 'users';

/** A load with its unit: `7.5/s`, `48 users`. */
export function formatLoad(load: number, unit: LoadUnit = 'chats/s'): string {
  const v = Number(load.toPrecision(3));
  return unit === 'users' ? `${v} user${v === 1 ? '' : 's'}` : `${v}/s`;
}

export interface GeneratorLag {
  /** Event-loop delay of the load generator's thread during the step, ms. */
  p99Ms: number;
  maxMs: number;
  /** The limit above which a step is invalid. */
  limitMs: number;
}

export interface CapacityStep {
  index: number;
  /** Offered load in the document's unit: chats per second, or connected users. */
  load: number;
  reason: StepReason;
  verdict: StepVerdict;
  /** Why a step is invalid or stopped early. */
  note?: string;
  stoppedEarly: boolean;
  startedAt: number;
  durationMs: number;
  lag: GeneratorLag;
  /** API arrivals the generator could not start (its in-flight cap): the step is invalid. */
  missedStarts: number;
  /**
   * Browser users: arrivals whose user's previous chat was still running at the intended time —
   * the target's doing, counted as unanswered (censored), never as a generator fault.
   */
  missedArrivals?: number;
  /**
   * Time waited before this step until the target answered a probe chat in time again (after an
   * overloaded step a real server may still work off requests its clients gave up on).
   */
  settle?: { waitedMs: number; settled: boolean };
  measurement: StepMeasurement;
}

export interface CapacitySweep extends SweepTarget {
  label: string;
  /** The replica killed for the whole sweep (minus-one). */
  downReplica?: string;
  steps: CapacityStep[];
  result: KneeResult;
  /** Completed streams per second at the knee step (mean over its runs). */
  throughputAtKnee: number | null;
  /** The SLO that broke at the lowest failing load, and by how much. */
  firstBreach: {
    id: string;
    objective: string;
    measured: number | null;
    censored: boolean;
    margin: number | null;
  } | null;
  /** Run-to-run spread of the primary SLO at the knee (re-measure). */
  kneeSpread: number | null;
  durationMs: number;
}

export interface Recommendation {
  demand: Demand;
  /** The unit the knees were measured in; with `users`, `demandUsers`/`neededUsers` are compared. */
  unit?: LoadUnit;
  demandUsers?: number;
  neededUsers?: number;
  /** Chats per second the demand means, and with headroom. */
  demandPerSecond: number;
  neededPerSecond: number;
  headroom: number;
  /** Replicas needed (null: cannot tell). */
  replicas: number | null;
  /** Same with one replica down (when minus-one sweeps ran). */
  replicasMinusOne?: number | null;
  /** `measured`: a measured count suffices; `extrapolated`: beyond the measured counts. */
  basis: 'measured' | 'extrapolated' | 'unknown';
  perReplicaPerSecond: number | null;
  text: string;
}

export interface CapacityDocument {
  schemaVersion: typeof CAPACITY_SCHEMA_VERSION;
  generatedAt: number;
  target: { name: string; url: string; kind: 'lab' | 'file' };
  client: 'api' | 'browser' | 'mixed';
  /** The unit of every load, knee and recommendation figure (absent: chats/s). */
  unit?: LoadUnit;
  /** Sweeps in users: how often each user starts a chat (its open schedule), ms. */
  chatIntervalMs?: number;
  /** `--client mixed`: the share of the users that are browser users (the rest chat over the API). */
  browserShare?: number;
  /** `closed`: the control's closed loop (chat, wait, think) instead of the open schedule. */
  browserSchedule?: 'open' | 'closed';
  tokens: number;
  slos: SloSpec[];
  sweep: SweepConfig;
  timing: StepTiming;
  /** Known in advance on the lab with a capacity model (labKneePerSecond per replica count). */
  expectedKnees?: Record<string, number>;
  sweeps: CapacitySweep[];
  recommendation?: Recommendation;
  status: 'complete' | 'interrupted' | 'budget';
  durationMs: number;
}

/** The knee of a sweep as a rate, only when it was found or lies above every offered load. */
function kneeOf(s: CapacitySweep): number | null {
  return s.result.status === 'found' || s.result.status === 'above-max' ? s.result.knee : null;
}

/**
 * Replicas needed for `neededPerSecond`: the smallest measured count whose knee covers it; beyond
 * the measured counts, a straight line through the origin fitted to the measured knees (least
 * squares: per-replica capacity = Σ n·k / Σ n²), which assumes the shared parts (load balancer,
 * Redis, database, LLM) do not saturate first — the recommendation says so.
 */
export function recommend(
  sweeps: readonly CapacitySweep[],
  demand: Demand,
  demandPerSecond: number,
  headroom: number,
  /** Sweeps in users: the users' chat interval (ms); the knees are compared in users. */
  users?: { chatIntervalMs: number },
): Recommendation {
  const perUser = users ? users.chatIntervalMs / 1000 : 1;
  const demandUsers = users
    ? demand.kind === 'users'
      ? demand.users
      : demandPerSecond * perUser
    : undefined;
  // The figure the knees are compared with, in their unit.
  const needed = (demandUsers ?? demandPerSecond) * (1 + headroom);
  const pick = (
    minusOne: boolean,
  ): { n: number | null; basis: Recommendation['basis']; per: number | null } => {
    const points = sweeps
      .filter((s) => s.minusOne === minusOne)
      .map((s) => ({ n: minusOne ? s.replicas - 1 : s.replicas, total: s.replicas, knee: kneeOf(s) }))
      .filter((p): p is { n: number; total: number; knee: number } => p.knee !== null && p.n > 0)
      .sort((a, b) => a.total - b.total);
    if (points.length === 0) return { n: null, basis: 'unknown', per: null };
    const hit = points.find((p) => p.knee >= needed);
    const per = points.reduce((a, p) => a + p.n * p.knee, 0) / points.reduce((a, p) => a + p.n * p.n, 0);
    if (hit) return { n: hit.total, basis: 'measured', per };
    if (!(per > 0)) return { n: null, basis: 'unknown', per: null };
    const serving = Math.ceil(needed / per - 1e-9);
    return { n: minusOne ? serving + 1 : serving, basis: 'extrapolated', per };
  };
  const normal = pick(false);
  const hasMinusOne = sweeps.some((s) => s.minusOne);
  const down = hasMinusOne ? pick(true) : undefined;
  const unit: LoadUnit = users ? 'users' : 'chats/s';
  const rate = (v: number): string => formatLoad(v, unit);
  const perSecond = (v: number): string => formatLoad(v);
  const demandText = users
    ? `${Number(demandUsers!.toPrecision(3))} users chatting every ${perUser} s (${perSecond(demandPerSecond)})`
    : demand.kind === 'users'
      ? `${demand.users} users (${rate(demandPerSecond)})`
      : rate(demandPerSecond);
  const parts: string[] = [];
  if (normal.n === null)
    parts.push(`no knee was found, so the replicas needed for ${demandText} are unknown`);
  else
    parts.push(
      `${demandText} with ${Math.round(headroom * 100)} % headroom needs ${rate(needed)}: ${normal.n} replica${normal.n === 1 ? '' : 's'}` +
        (normal.basis === 'extrapolated'
          ? ` (extrapolated beyond the measured counts at ${rate(normal.per!)} per replica, assuming Redis, the database, the load balancer and the LLM do not saturate first)`
          : ' (measured)'),
    );
  if (down) {
    if (down.n === null) parts.push('with one replica down: unknown (no minus-one knee)');
    else
      parts.push(
        `with one replica down: ${down.n} replicas` +
          (down.basis === 'extrapolated'
            ? ` (extrapolated at ${rate(down.per!)} per serving replica)`
            : ' (measured)'),
      );
  }
  const basis =
    normal.basis === 'extrapolated' || down?.basis === 'extrapolated' ? 'extrapolated' : normal.basis;
  return {
    demand,
    ...(users ? { unit, demandUsers: demandUsers!, neededUsers: needed } : {}),
    demandPerSecond,
    neededPerSecond: users ? demandPerSecond * (1 + headroom) : needed,
    headroom,
    replicas: normal.n,
    ...(down ? { replicasMinusOne: down.n } : {}),
    basis,
    perReplicaPerSecond: normal.per,
    text: parts.join('; '),
  };
}

/** Summary rows of the result table. */
export interface CapacityRow {
  label: string;
  status: string;
  knee: number | null;
  throughput: number | null;
  firstBreach: string;
  steps: number;
  durationMs: number;
  expected?: number;
}

export function capacityRows(doc: Pick<CapacityDocument, 'sweeps' | 'expectedKnees'>): CapacityRow[] {
  // Loads and knees are in the document's unit (formatLoad); throughput is always chats/s.
  return doc.sweeps.map((s) => {
    const b = s.firstBreach;
    const fmt = (v: number | null): string => (v === null ? '—' : `${Number(v.toPrecision(3))}`);
    const by =
      b && b.margin !== null
        ? ` (${b.censored ? '≥ ' : ''}${fmt(b.measured)}, ${Math.round(-b.margin * 100)} % past ${b.objective})`
        : '';
    const expected = doc.expectedKnees?.[expectedKey(s)];
    return {
      label: s.label,
      status: s.result.status,
      knee: s.result.knee,
      throughput: s.throughputAtKnee,
      firstBreach: b ? `${b.id}${by}` : '—',
      steps: s.steps.length,
      durationMs: s.durationMs,
      ...(expected !== undefined ? { expected } : {}),
    };
  });
}

/** Key of `expectedKnees`: the number of replicas serving. */
export function expectedKey(t: SweepTarget): string {
  return String(t.minusOne ? t.replicas - 1 : t.replicas);
}
