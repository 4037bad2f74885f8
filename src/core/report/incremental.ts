// Incremental SLO evaluation for live views (the game-day console, docs/gameday.md). Contract:
// - samples are folded once, as they arrive, into per-segment accumulators; a segment is the time
//   between two consecutive fault-window boundaries (every window start and end), so its phase
//   membership is constant and every phase (baseline, each window, fault, recovery, all) is a union
//   of segments. Nothing is ever re-read: memory is bounded by segments × tracked selectors ×
//   distinct HDR buckets (3 significant digits), never by the number of samples or the run length;
// - a sample is folded only once it is older than the caller's `horizon` (boundaries before it are
//   known: a fault's start is only learnt when its injection finished). Newer samples wait in a
//   staging buffer, bounded by `maxStaged` (beyond it the oldest are folded and the result is
//   marked `approximate`);
// - judgement is the aggregator's (src/core/report/aggregator.ts): same phase plan, same HDR
//   bucketing (`recordSparse` + `fillFromSparse`), same `judge()`, so a live row equals the final
//   report's row on the same samples and journal (tested).
// Pure: no files, no clock, no printing.

import type { FaultWindow } from '../journal.js';
import { METRICS, METRIC_NAMES, STREAM_OUTCOMES, isMetricName, type MetricName } from '../metrics.js';
import type { Sample } from '../samples.js';
import { emptyAcc, judge, type Acc } from '../slo/measure.js';
import { objectiveText, sloId, type SloSpec } from '../slo/spec.js';
import {
  fillFromSparse,
  newHistogram,
  recordSparse,
  recordingScale,
  type SparseBuckets,
} from './histogram.js';
import { phaseInfos, phasePlan, phasesAt, type PhasePlan } from './phases.js';
import type { SloResult } from './results.js';

/** What an SLO (or a hypothesis check) measures: a metric, optionally one client kind and tags. */
export interface IncrementalSelector {
  metric: MetricName;
  client?: 'api' | 'browser';
  tags?: Record<string, string>;
  /** `stream_outcome` share denominator: every stream but those the load generator cancelled. */
  judged?: true;
}

interface SegAcc {
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: SparseBuckets | null;
}

interface Track {
  key: string;
  selector: IncrementalSelector;
  scale: number;
  keepHist: boolean;
}

interface Segment {
  /** Inclusive start (−∞ for the first). */
  start: number;
  /** Latest sample time folded here (to detect a boundary learnt too late). */
  lastTime: number;
  accs: Map<string, SegAcc>;
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

const SELF_CANCELLED = 'cancelled';

export function selectorKey(s: IncrementalSelector): string {
  const tags = s.tags
    ? Object.entries(s.tags)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',')
    : '';
  return `${s.metric}|${s.client ?? '*'}|${tags}${s.judged ? '|judged' : ''}`;
}

/** The SLO's own selector (metric + client + tags). */
export function ownSelector(slo: Pick<SloSpec, 'metric' | 'client' | 'tags'>): IncrementalSelector {
  return {
    metric: slo.metric,
    ...(slo.client ? { client: slo.client } : {}),
    ...(slo.tags && Object.keys(slo.tags).length > 0 ? { tags: slo.tags } : {}),
  };
}

/** The share's denominator (the aggregator's `baseSelector`). */
export function baseSelector(slo: Pick<SloSpec, 'metric' | 'client'>): IncrementalSelector {
  return {
    metric: slo.metric,
    ...(slo.client ? { client: slo.client } : {}),
    ...(slo.metric === 'stream_outcome' ? { judged: true as const } : {}),
  };
}

function matches(sample: Sample, s: IncrementalSelector): boolean {
  if (s.client !== undefined && sample.tags.client !== s.client) return false;
  if (s.tags) for (const [k, v] of Object.entries(s.tags)) if (sample.tags[k] !== v) return false;
  if (s.judged && sample.tags.outcome === SELF_CANCELLED) return false;
  return true;
}

/** An instantaneous fault still owns the millisecond it happened in (as in phases.ts). */
function effectiveEnd(w: FaultWindow): number {
  return Math.max(w.end, w.start + 1);
}

export class IncrementalSloEvaluator {
  private readonly tracks = new Map<string, Track>();
  private readonly byMetric = new Map<MetricName, Track[]>();
  /** Sorted by start; segments[0].start = −∞. */
  private readonly segments: Segment[] = [
    { start: Number.NEGATIVE_INFINITY, lastTime: -Infinity, accs: new Map() },
  ];
  private staged: Sample[] = [];
  private horizon = Number.NEGATIVE_INFINITY;
  private folded = 0;
  private approximate = false;
  private readonly maxStaged: number;
  private readonly scratch = newHistogram();

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

  private fold(sample: Sample): void {
    if (!isMetricName(sample.metric) || !Number.isFinite(sample.value) || !Number.isFinite(sample.timeMs))
      return;
    this.folded += 1;
    const seg = this.segmentAt(sample.timeMs);
    if (sample.timeMs > seg.lastTime) seg.lastTime = sample.timeMs;
    for (const track of this.byMetric.get(sample.metric) ?? []) {
      if (!matches(sample, track.selector)) continue;
      let acc = seg.accs.get(track.key);
      if (!acc) {
        acc = {
          count: 0,
          sum: 0,
          min: Number.POSITIVE_INFINITY,
          max: Number.NEGATIVE_INFINITY,
          buckets: track.keepHist ? new Map() : null,
        };
        seg.accs.set(track.key, acc);
      }
      acc.count += 1;
      acc.sum += sample.value;
      if (sample.value < acc.min) acc.min = sample.value;
      if (sample.value > acc.max) acc.max = sample.value;
      if (acc.buckets) recordSparse(acc.buckets, sample.value, track.scale);
    }
  }

  private segmentAt(t: number): Segment {
    // Most samples land in the last segment; binary search otherwise.
    const last = this.segments[this.segments.length - 1]!;
    if (t >= last.start) return last;
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid]!.start <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.segments[lo]!;
  }

  /** Adds a segment boundary at `t` (idempotent). */
  private boundary(t: number): void {
    const seg = this.segmentAt(t);
    if (seg.start === t) return;
    // Samples at or after `t` already folded into `seg` cannot be moved: the split is approximate.
    if (seg.lastTime >= t) this.approximate = true;
    const i = this.segments.indexOf(seg);
    this.segments.splice(i + 1, 0, { start: t, lastTime: -Infinity, accs: new Map() });
  }

  /**
   * Folds staged samples older than `horizon` (with the windows known so far) and judges every SLO
   * per phase. `windows`: the fault windows so far, open ones ending at the caller's "now".
   */
  evaluate(input: {
    /** `open`: still injected; its end is the caller's "now" and does not split segments yet. */
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

  /** Learns the windows' boundaries, then folds staged samples older than `horizon`. */
  advance(windows: ReadonlyArray<FaultWindow & { open?: boolean }>, horizon: number): void {
    for (const w of windows) {
      this.boundary(w.start);
      // An open window's end moves every evaluation: only closed ends split segments. Samples after
      // an open end cannot exist yet (the end is "now"), so the last segment serves until it closes.
      if (!w.open) this.boundary(effectiveEnd(w));
    }
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

  /** Judges any SLOs on what is folded (their selectors must be tracked; see `isTracked`). */
  judgeSlos(slos: readonly SloSpec[], windows: readonly FaultWindow[], faultsPlanned: boolean): SloResult[] {
    return this.judgeAll(phasePlan(windows, { faultsPlanned }), slos);
  }

  /** Folds everything staged (the session is over). */
  flush(): void {
    for (const s of this.staged) this.fold(s);
    this.staged = [];
    this.horizon = Number.POSITIVE_INFINITY;
  }

  /** The phases each segment belongs to under `plan`. */
  private segmentPhases(plan: PhasePlan): Map<string, Segment[]> {
    const out = new Map<string, Segment[]>();
    for (const seg of this.segments) {
      for (const p of phasesAt(plan, seg.start)) {
        const list = out.get(p);
        if (list) list.push(seg);
        else out.set(p, [seg]);
      }
    }
    return out;
  }

  /** Merged accumulator of a track over segments; its histogram (if any) is the shared scratch. */
  private merged(
    key: string | undefined,
    segs: readonly Segment[] | undefined,
    withHist: boolean,
  ): Acc | undefined {
    if (key === undefined || !this.tracks.has(key)) return undefined;
    const track = this.tracks.get(key)!;
    const acc = emptyAcc(null);
    const buckets: SparseBuckets[] = [];
    for (const seg of segs ?? []) {
      const s = seg.accs.get(key);
      if (!s) continue;
      acc.count += s.count;
      acc.sum += s.sum;
      if (s.min < acc.min) acc.min = s.min;
      if (s.max > acc.max) acc.max = s.max;
      if (s.buckets) buckets.push(s.buckets);
    }
    if (acc.count === 0) return undefined;
    if (withHist && track.keepHist) acc.hist = fillFromSparse(this.scratch, buckets);
    return acc;
  }

  /** Judges `slo` in `phase` exactly as RunAggregator.evaluateSlos does. */
  private judgeAll(plan: PhasePlan, slos: readonly SloSpec[]): SloResult[] {
    const bySeg = this.segmentPhases(plan);
    const phaseNames = new Set(phaseInfos(plan).map((p) => p.name));
    const out: SloResult[] = [];
    for (const slo of slos) {
      const kind = METRICS[slo.metric].kind;
      const scale = recordingScale(METRICS[slo.metric].unit);
      const ownKey = selectorKey(ownSelector(slo));
      const baseKey = selectorKey(baseSelector(slo));
      const steadyKey = kind === 'counter' && slo.tags ? baseKey : ownKey;
      const steady = (this.merged(steadyKey, bySeg.get('baseline'), false)?.count ?? 0) > 0;
      const phases = plan.loadOnly ? ['all'] : slo.phases;
      for (const phase of phases) {
        const common = { id: sloId(slo), phase, slo, objectiveText: objectiveText(slo) };
        if (!this.tracks.has(ownKey)) {
          out.push({
            ...common,
            measured: null,
            samples: 0,
            verdict: 'no-data',
            note: 'not tracked from the start of the session',
          });
          continue;
        }
        if (!phaseNames.has(phase)) {
          out.push({
            ...common,
            measured: null,
            samples: 0,
            verdict: 'no-data',
            note:
              plan.windows.length === 0
                ? `phase \`${phase}\` not reached: the run stopped before the first fault`
                : `this run has no phase \`${phase}\``,
          });
          continue;
        }
        const segs = bySeg.get(phase);
        const base = this.merged(baseKey, segs, false);
        const own = this.merged(ownKey, segs, true);
        const j = judge(slo, kind, own, base, scale, { steadyStateProduces: phase !== 'baseline' && steady });
        const loadOnlyNote =
          plan.loadOnly && slo.phases.some((p) => p !== 'all')
            ? `load only: judged over the whole run (declared for ${slo.phases.join(', ')})`
            : undefined;
        const note = [j.note, loadOnlyNote].filter(Boolean).join('; ');
        out.push({
          ...common,
          measured: j.measured,
          samples: j.samples,
          verdict: j.verdict,
          ...(note ? { note } : {}),
        });
      }
    }
    return out;
  }

  /** Memory-relevant sizes (for benchmarks): segments, accumulators, sparse buckets, staged samples. */
  size(): { segments: number; accumulators: number; buckets: number; staged: number } {
    let accumulators = 0;
    let buckets = 0;
    for (const seg of this.segments)
      for (const acc of seg.accs.values()) {
        accumulators += 1;
        buckets += acc.buckets?.size ?? 0;
      }
    return { segments: this.segments.length, accumulators, buckets, staged: this.staged.length };
  }
}
