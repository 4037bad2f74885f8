// Streaming aggregation of samples into per-phase and per-second accumulators, and `finish()` into
// the `results.json` document. Contract: memory is bounded by (metrics × clients × phases)
// histograms plus (tracked selectors × run seconds) sparse buckets — never by the number of
// samples. Feed samples in any order, from any number of files (k6 runners, workers): aggregation
// is commutative, so merging files equals one concatenated file. The parts: tracks.ts (where a
// sample is recorded), counts.ts (counts for the report), slo-evaluation.ts (verdicts, recovery),
// projections.ts (summaries, series, histograms). Nothing here prints or touches files.

import { faultWindows, faultsPlanned, type Journal } from '../journal.js';
import { METRICS, METRIC_NAMES, isMetricName } from '../metrics.js';
import type { Sample } from '../samples.js';
import { DEFAULT_RECOVERY_WINDOW_MS } from '../slo/recovery.js';
import type { SloSpec } from '../slo/spec.js';
import { CountsAccumulator } from './counts.js';
import { diagnose } from './diagnose.js';
import { phaseInfos, phasePlan, phasesAt, type PhasePlan } from './phases.js';
import { encodedHistograms, series, summaries } from './projections.js';
import { RESULTS_SCHEMA_VERSION, applyOutcome, type RunResults } from './results.js';
import { evaluateSlos, recoveryTimes } from './slo-evaluation.js';
import { TrackSet } from './tracks.js';

export interface AggregatorOptions {
  journal: Journal | null;
  /** Already merged (defaults + experiment). */
  slos: readonly SloSpec[];
  recoveryWindowMs?: number;
  sampleFiles?: string[];
  /** Injectable for golden files. */
  now?: () => number;
}

export class RunAggregator {
  private readonly plan: PhasePlan;
  private readonly tracks: TrackSet;
  private readonly counts = new CountsAccumulator();
  private samples = 0;
  private ignored = 0;
  private malformed = 0;
  private readonly warnings: string[] = [];
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  // Phase lists repeat for every sample of a second; cache the last lookup.
  private cachedTime = Number.NaN;
  private cachedPhases: string[] = [];

  constructor(private readonly options: AggregatorOptions) {
    this.plan = phasePlan(options.journal ? faultWindows(options.journal) : [], {
      faultsPlanned: options.journal ? faultsPlanned(options.journal) : false,
    });
    this.tracks = new TrackSet(options.slos);
  }

  /** Counts a line that is not valid JSON; the evaluator reports where. */
  noteMalformed(where: string): void {
    this.malformed += 1;
    if (this.warnings.length < 20) this.warnings.push(`malformed NDJSON line at ${where}`);
  }

  add(sample: Sample): void {
    if (!isMetricName(sample.metric) || !Number.isFinite(sample.value) || !Number.isFinite(sample.timeMs)) {
      this.ignored += 1;
      return;
    }
    const metric = sample.metric;
    this.samples += 1;
    if (sample.timeMs < this.first) this.first = sample.timeMs;
    if (sample.timeMs > this.last) this.last = sample.timeMs;
    if (sample.timeMs !== this.cachedTime) {
      this.cachedTime = sample.timeMs;
      this.cachedPhases = phasesAt(this.plan, sample.timeMs);
    }
    const phases = this.cachedPhases;
    const second = Math.floor(sample.timeMs / 1000) * 1000;
    this.tracks.route(metric, sample, phases, second);
    this.counts.add(metric, sample, phases);
  }

  finish(): RunResults {
    const journal = this.options.journal;
    const windowMs = this.options.recoveryWindowMs ?? DEFAULT_RECOVERY_WINDOW_MS;
    const hasData = this.samples > 0;
    const first = hasData ? this.first : null;
    const last = hasData ? this.last : null;
    const phaseNames = new Set(phaseInfos(this.plan).map((p) => p.name));

    const phases = phaseInfos(this.plan).map((p) => ({
      ...p,
      start: p.start ?? first,
      end: p.end ?? last,
      samples: this.counts.samplesIn(p.name),
    }));

    const slos = evaluateSlos(this.tracks, this.options.slos, this.plan, phaseNames);
    const dataEnd = this.samples > 0 ? Math.floor(this.last / 1000) * 1000 + 1000 : 0;
    const recovery = recoveryTimes(this.tracks, this.options.slos, this.plan, windowMs, dataEnd);
    const referenced = new Set<string>(this.options.slos.map((s) => s.metric));
    for (const t of this.tracks.values()) if (t.phases.size > 0) referenced.add(t.selector.metric);

    const counts = this.counts.finish();

    const results: RunResults = {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      generatedAt: (this.options.now ?? Date.now)(),
      run: {
        runId: journal?.runId ?? null,
        title: journal?.experiment.title ?? null,
        engine: journal?.engine ?? null,
        target: journal ? targetLine(journal.target) : null,
        status: journal?.status ?? null,
        startedAt: journal?.startedAt ?? null,
        endedAt: journal?.endedAt ?? null,
      },
      input: {
        sampleFiles: this.options.sampleFiles ?? [],
        samples: this.samples,
        ignoredSamples: this.ignored,
        malformedLines: this.malformed,
        warnings: [...this.warnings],
        firstSampleAt: first,
        lastSampleAt: last,
      },
      phases,
      faults: this.plan.windows.map(({ name, action, start, end }) => ({ name, action, start, end })),
      verdict: 'pass',
      exitCode: 0,
      headline: '',
      stops: [],
      slos,
      recoveryWindowMs: windowMs,
      recovery,
      counts,
      metrics: METRIC_NAMES.filter((m) => referenced.has(m)).map((m) => METRICS[m]),
      summary: summaries(this.tracks, this.plan),
      series: series(this.tracks),
      histograms: encodedHistograms(this.tracks, this.plan),
      journal,
    };
    applyOutcome(results);
    results.diagnoses = diagnose(results);
    return results;
  }
}

/** "lab (http://…, Open WebUI 0.12.4)": which release a verdict is about belongs in every report. */
export function targetLine(t: Journal['target']): string {
  return `${t.name} (${t.url}${t.version ? `, Open WebUI ${t.version}` : ''})`;
}
