// Incremental SLO evaluation for live views (the game-day console, docs/gameday.md). Contract:
// - samples are folded once, as they arrive, into per-phase accumulators (HDR histograms for
//   trends, counters for the rest) of every tracked selector: baseline, each fault window, fault,
//   recovery and all. Nothing is ever re-read; memory is bounded by selectors × phases × HDR
//   buckets, never by the number of samples or the length of the session;
// - a sample is folded only once it is older than the caller's `horizon`, so every window boundary
//   before it is known (a fault's start is only learnt when its injection has finished). Newer
//   samples wait in a staging buffer bounded by `maxStaged` (beyond it the oldest are folded and
//   the result is marked `approximate`, as it is when a window starts before samples already folded);
// - the one phase that changes after the fact is `recovery` (after the last window's end): a new
//   fault makes the samples between two faults belong to `all` only, so recovery restarts empty;
// - judgement is the aggregator's (src/core/report/aggregator.ts): same phase keys as phases.ts,
//   same HDR recording (`recordScaled`), same `judge()`, so a live row equals the final report's row
//   on the same samples and journal (tested in test/unit/core/report/incremental.test.ts).
// Pure: no files, no clock, no printing.

import { RESERVED_PHASES } from '../config/slo-defaults.js';
import type { FaultWindow } from '../journal.js';
import { METRICS, METRIC_NAMES, STREAM_OUTCOMES, isMetricName, type MetricName } from '../metrics.js';
import type { Sample } from '../samples.js';
import { addValue, emptyAcc, type Acc } from '../slo/measure.js';
import { objectiveText, sloId, type SloSpec } from '../slo/spec.js';
import { newHistogram, recordScaled, recordingScale } from './histogram.js';
import { phaseInfos, phasePlan, type PhasePlan } from './phases.js';
import type { SloResult } from './results.js';
import { judgeSloInPhase, judgedPhases } from './slo-evaluation.js';
import { baseSelector, ownSelector, selectorKey, tagsMatch, type Selector } from './tracks.js';

/** What an SLO (or a hypothesis check) measures: a metric, optionally one client kind and tags. */
/** The same selector as the run report's tracks (src/core/report/tracks.ts). */
export type IncrementalSelector = Selector;

interface Track {
  key: string;
  selector: IncrementalSelector;
  scale: number;
  keepHist: boolean;
}

/** A fault window as learnt so far; `end` null while it is injected. */
interface KnownWindow {
  key: string;
  name: string;
  start: number;
  end: number | null;
}

export interface IncrementalEvaluatorOptions {
  /** Already merged SLOs (defaults + experiment); their selectors are tracked. */
  slos: readonly SloSpec[];
  /** Track, besides, every metric overall and per client (and stream outcomes) for ad-hoc checks. */
  trackAll?: boolean;
  maxStaged?: number;
}

export interface IncrementalEvaluation {
  slos: SloResult[];
  /** Samples folded so far / waiting for the horizon. */
  folded: number;
  staged: number;
  /** A boundary arrived after samples beyond it were folded, or staging overflowed. */
  approximate: boolean;
}

/** An instantaneous fault still owns the millisecond it happened in (as in phases.ts). */
function effectiveEnd(w: FaultWindow): number {
  return Math.max(w.end, w.start + 1);
}

export class IncrementalSloEvaluator {
  private readonly tracks = new Map<string, Track>();
  private readonly byMetric = new Map<MetricName, Track[]>();
  /** track key → phase key → accumulator. */
  private readonly accs = new Map<string, Map<string, Acc>>();
  private readonly windows: KnownWindow[] = [];
  private staged: Sample[] = [];
  private horizon = Number.NEGATIVE_INFINITY;
  private folded = 0;
  private latestFolded = Number.NEGATIVE_INFINITY;
  private approximate = false;
  private readonly maxStaged: number;
  // Phase lists repeat for every sample of a millisecond; cache the last lookup.
  private cachedTime = Number.NaN;
  private cachedPhases: string[] = [];

  constructor(private readonly options: IncrementalEvaluatorOptions) {
    this.maxStaged = options.maxStaged ?? 200_000;
    for (const slo of options.slos) {
      this.track(ownSelector(slo));
      this.track(baseSelector(slo));
    }
    if (options.trackAll) {
      for (const metric of METRIC_NAMES)
        for (const client of [undefined, 'api', 'browser'] as const) {
          this.track({ metric, ...(client ? { client } : {}) });
          if (metric === 'stream_outcome') {
            this.track({ metric, ...(client ? { client } : {}), judged: true });
            for (const outcome of STREAM_OUTCOMES)
              this.track({ metric, ...(client ? { client } : {}), tags: { outcome } });
          }
        }
    }
  }

  /** Whether `selector` has been tracked from the start (a check on anything else cannot be judged). */
  isTracked(selector: IncrementalSelector): boolean {
    return this.tracks.has(selectorKey(selector));
  }

  private track(selector: IncrementalSelector): void {
    const key = selectorKey(selector);
    if (this.tracks.has(key)) return;
    const def = METRICS[selector.metric];
    const track: Track = { key, selector, scale: recordingScale(def.unit), keepHist: def.kind !== 'counter' };
    this.tracks.set(key, track);
    this.byMetric.set(selector.metric, [...(this.byMetric.get(selector.metric) ?? []), track]);
  }

  /** A new sample (any order). Folded now when older than the horizon, else staged. */
  add(sample: Sample): void {
    if (sample.timeMs < this.horizon) this.fold(sample);
    else {
      this.staged.push(sample);
      if (this.staged.length > this.maxStaged) {
        // Bounded memory wins over exactness: fold the oldest half now.
        this.staged.sort((a, b) => a.timeMs - b.timeMs);
        const old = this.staged.splice(0, Math.floor(this.maxStaged / 2));
        for (const s of old) this.fold(s);
        this.approximate = true;
      }
    }
  }

  /** The phases a sample at `t` belongs to, under the windows known now (phases.ts' rules). */
  private phasesAt(t: number): string[] {
    if (t === this.cachedTime) return this.cachedPhases;
    const keys = ['all'];
    const first = this.windows[0];
    if (!first || t < first.start) keys.push('baseline');
    else {
      const inside = this.windows.filter((w) => t >= w.start && (w.end === null || t < w.end));
      if (inside.length > 0) keys.push('fault', ...inside.map((w) => w.key));
      else if (this.windows.every((w) => w.end !== null && t >= w.end)) keys.push('recovery');
    }
    this.cachedTime = t;
    this.cachedPhases = keys;
    return keys;
  }

  private fold(sample: Sample): void {
    if (!isMetricName(sample.metric) || !Number.isFinite(sample.value) || !Number.isFinite(sample.timeMs))
      return;
    this.folded += 1;
    if (sample.timeMs > this.latestFolded) this.latestFolded = sample.timeMs;
    const phases = this.phasesAt(sample.timeMs);
    for (const track of this.byMetric.get(sample.metric) ?? []) {
      if (!tagsMatch(sample, track.selector)) continue;
      let byPhase = this.accs.get(track.key);
      if (!byPhase) this.accs.set(track.key, (byPhase = new Map()));
      for (const phase of phases) {
        let acc = byPhase.get(phase);
        if (!acc) byPhase.set(phase, (acc = emptyAcc(track.keepHist ? newHistogram() : null)));
        addValue(acc, sample.value);
        if (acc.hist) recordScaled(acc.hist, sample.value, track.scale);
      }
    }
  }

  /** Learns new windows and closed ends (windows start in time order during a session). */
  private learn(windows: ReadonlyArray<FaultWindow & { open?: boolean }>): void {
    for (const w of [...windows].sort((a, b) => a.start - b.start)) {
      const end = w.open ? null : effectiveEnd(w);
      const known = this.windows.find((k) => k.name === w.name && k.start === w.start);
      if (known) {
        if (known.end === null && end !== null) {
          if (this.latestFolded >= end) this.approximate = true;
          known.end = end;
          this.cachedTime = Number.NaN;
        }
        continue;
      }
      // Keys as phases.ts gives them: the name, or `name#2` when reserved or taken.
      const used = new Set<string>([...RESERVED_PHASES, ...this.windows.map((k) => k.key)]);
      let key = w.name;
      for (let i = 2; used.has(key); i++) key = `${w.name}#${i}`;
      if (this.latestFolded >= w.start) this.approximate = true;
      const last = this.windows[this.windows.length - 1];
      if (last && w.start < last.start) this.approximate = true;
      this.windows.push({ key, name: w.name, start: w.start, end });
      // Samples after the previous windows were recovery; with a fault after them they are not.
      for (const byPhase of this.accs.values()) byPhase.delete('recovery');
      this.cachedTime = Number.NaN;
    }
  }

  /**
   * Folds staged samples older than `horizon` (with the windows known so far) and judges every SLO
   * per phase. `windows`: the fault windows so far, open ones ending at the caller's "now".
   */
  evaluate(input: {
    /** `open`: still injected; its end is the caller's "now". */
    windows: ReadonlyArray<FaultWindow & { open?: boolean }>;
    faultsPlanned: boolean;
    horizon: number;
  }): IncrementalEvaluation {
    this.advance(input.windows, input.horizon);
    return {
      slos: this.judgeSlos(this.options.slos, input.windows, input.faultsPlanned),
      folded: this.folded,
      staged: this.staged.length,
      approximate: this.approximate,
    };
  }

  /** Learns the windows, then folds staged samples older than `horizon`. */
  advance(windows: ReadonlyArray<FaultWindow & { open?: boolean }>, horizon: number): void {
    this.learn(windows);
    if (horizon > this.horizon) {
      this.horizon = horizon;
      const keep: Sample[] = [];
      for (const s of this.staged) {
        if (s.timeMs < this.horizon) this.fold(s);
        else keep.push(s);
      }
      this.staged = keep;
    }
  }

  /** Folds everything staged (the session is over). */
  flush(): void {
    for (const s of this.staged) this.fold(s);
    this.staged = [];
    this.horizon = Number.POSITIVE_INFINITY;
  }

  /** Judges any SLOs on what is folded (their selectors must be tracked; see `isTracked`). */
  judgeSlos(
    slos: readonly SloSpec[],
    windows: ReadonlyArray<FaultWindow & { open?: boolean }>,
    faultsPlanned: boolean,
  ): SloResult[] {
    this.learn(windows);
    return this.judgeAll(phasePlan(windows, { faultsPlanned }), slos);
  }

  private acc(key: string, phase: string): Acc | undefined {
    return this.accs.get(key)?.get(phase);
  }

  /** Judges every SLO in its phases with the run report's own judgement (judgeSloInPhase). */
  private judgeAll(plan: PhasePlan, slos: readonly SloSpec[]): SloResult[] {
    const phaseNames = new Set(phaseInfos(plan).map((p) => p.name));
    const out: SloResult[] = [];
    for (const slo of slos) {
      const kind = METRICS[slo.metric].kind;
      const ownKey = selectorKey(ownSelector(slo));
      const baseKey = selectorKey(baseSelector(slo));
      const steadyKey = kind === 'counter' && slo.tags ? baseKey : ownKey;
      const steadyStateProduces = (this.acc(steadyKey, 'baseline')?.count ?? 0) > 0;
      for (const phase of judgedPhases(slo, plan)) {
        if (!this.tracks.has(ownKey)) {
          out.push({
            id: sloId(slo),
            phase,
            slo,
            objectiveText: objectiveText(slo),
            measured: null,
            samples: 0,
            verdict: 'no-data',
            note: 'not tracked from the start of the session',
          });
          continue;
        }
        out.push(
          judgeSloInPhase(slo, phase, plan, phaseNames, {
            own: this.acc(ownKey, phase),
            base: this.acc(baseKey, phase),
            steadyStateProduces,
          }),
        );
      }
    }
    return out;
  }

  /** Memory-relevant sizes (for benchmarks): windows, accumulators, HDR histograms, staged samples. */
  size(): { windows: number; accumulators: number; histograms: number; staged: number } {
    let accumulators = 0;
    let histograms = 0;
    for (const byPhase of this.accs.values())
      for (const acc of byPhase.values()) {
        accumulators += 1;
        if (acc.hist) histograms += 1;
      }
    return { windows: this.windows.length, accumulators, histograms, staged: this.staged.length };
  }
}
