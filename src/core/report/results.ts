// The `results.json` document (schemaVersion 1): every number of a run, so a report can be
// re-rendered and two runs compared later without the samples. Additive changes keep version 1;
// renaming or removing a field bumps it.

import type { FaultWindow, Journal } from '../journal.js';
import type { MetricDefinition } from '../metrics.js';
import type { SloSpec } from '../slo/spec.js';
import type { Verdict } from '../slo/measure.js';
import { decideOutcome, sloExitCode, type RunStop, type RunVerdict } from './outcome.js';
import type { Diagnosis } from './diagnose.js';
import type { PhaseInfo } from './phases.js';

export const RESULTS_SCHEMA_VERSION = 1;

export type ClientKey = 'all' | 'api' | 'browser';

export interface StatSummary {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Percentiles from HDR histograms (absent for counters). */
  p50?: number;
  p75?: number;
  p90?: number;
  p95?: number;
  p99?: number;
  'p99.9'?: number;
}

export interface MetricPhaseSummary extends StatSummary {
  metric: string;
  phase: string;
  client: ClientKey;
  /** Percentile curve (p, value) for trend metrics, for distribution plots. */
  distribution?: Array<{ p: number; value: number }>;
}

export interface SloResult {
  /** `sloId` of the spec. */
  id: string;
  phase: string;
  slo: SloSpec;
  objectiveText: string;
  measured: number | null;
  samples: number;
  verdict: Verdict;
  note?: string;
}

export interface RecoveryResult {
  fault: string;
  action: string;
  injectedAt: number;
  revertedAt: number;
  windowMs: number;
  recovered: boolean;
  recoveryTimeMs: number | null;
  /** The moment after which every SLO held until the end of the observation (core/slo/recovery.ts). */
  recoveredAt: number | null;
  /** First breach of an SLO after the injection; null when none broke (absent in older results). */
  impactedAt?: number | null;
  timeToImpactMs?: number | null;
  /** End of the observation: the next (non-overlapping) fault's injection, or the end of the data. */
  observedUntil?: number;
  /** Why `recovered: false`: still breaching at the end, or observed for less than one window. */
  reason?: 'never-recovered' | 'observation-too-short';
  /** Ids of the SLOs (phases `recovery` or `all`) that had to hold. */
  slos: string[];
  /** False when no SLO applies to recovery: then `recovered: false` means "not measured". */
  evaluated?: boolean;
  note?: string;
}

export interface SeriesPoint {
  /** Start of the second, epoch ms. */
  t: number;
  count: number;
  sum: number;
  mean: number;
  min: number;
  max: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

export interface PhaseCounts {
  samples: number;
  streams: Record<string, number>;
  reconnects: number;
  disconnects: number;
  missedDone: number;
  httpErrors: number;
}

export interface RunCounts extends PhaseCounts {
  httpErrorsBy: Array<{ status: string; endpoint: string; count: number }>;
  /** Failed browser connection attempts by `reason` (and handshake `status`); absent in older results. */
  connectErrorsBy?: Array<{ reason: string; status: string; count: number; phases: string[] }>;
  byPhase: Record<string, PhaseCounts>;
}

export interface EncodedHistogram {
  metric: string;
  phase: string;
  client: ClientKey;
  /** Recorded integer = value × scale (µs for ms metrics). */
  scale: number;
  encoded: string;
}

export interface RunResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  generatedAt: number;
  run: {
    runId: string | null;
    title: string | null;
    engine: string | null;
    target: string | null;
    status: string | null;
    startedAt: number | null;
    endedAt: number | null;
  };
  input: {
    sampleFiles: string[];
    samples: number;
    /** Points of metrics outside the catalogue (k6 built-ins such as `http_reqs`). */
    ignoredSamples: number;
    malformedLines: number;
    warnings: string[];
    firstSampleAt: number | null;
    lastSampleAt: number | null;
  };
  phases: Array<PhaseInfo & { samples: number }>;
  faults: FaultWindow[];
  /** The run's one outcome (core/report/outcome.ts): every report renders these three fields. */
  verdict: RunVerdict;
  exitCode: number;
  /** What the verdict means in one line, e.g. "steady state broken before the first fault…". */
  headline: string;
  /** Why the run stopped early, most important first; empty for a run that went to the end. */
  stops: RunStop[];
  /** Likely causes of what failed, from the symptoms (core/report/diagnose.ts); absent in older results. */
  diagnoses?: Diagnosis[];
  slos: SloResult[];
  recoveryWindowMs: number;
  recovery: RecoveryResult[];
  counts: RunCounts;
  metrics: MetricDefinition[];
  summary: MetricPhaseSummary[];
  series: Record<string, SeriesPoint[]>;
  histograms: EncodedHistogram[];
  journal: Journal | null;
}

/**
 * Exit code of DESIGN §7 for the SLOs alone: 10 when any SLO × phase is breached or a gating SLO
 * has no data (unless it says `allowNoData: true`), or when no SLO was judged at all; else 0.
 */
export function exitCodeFor(results: Pick<RunResults, 'slos'>): number {
  return sloExitCode(results.slos);
}

/** Sets the outcome fields from the SLOs and the early stops (the one place that does). */
export function applyOutcome<
  T extends Pick<RunResults, 'slos' | 'verdict' | 'exitCode' | 'headline' | 'stops'>,
>(results: T, stops: readonly RunStop[] = []): T {
  const o = decideOutcome(results.slos, stops);
  results.verdict = o.verdict;
  results.exitCode = o.exitCode;
  results.headline = o.headline;
  results.stops = o.stops;
  return results;
}
