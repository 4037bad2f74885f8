// Streaming aggregation of samples into per-phase and per-second accumulators. Contract: memory is
// bounded by (metrics × clients × phases) histograms plus (tracked selectors × run seconds) sparse
// buckets — never by the number of samples. Feed samples in any order, from any number of files
// (k6 runners, workers): aggregation is commutative, so merging files equals one concatenated file.
// `finish()` produces the `results.json` document; nothing here prints or touches files.

import { faultWindows, faultsPlanned, type Journal } from '../journal.js';
import { METRICS, METRIC_NAMES, STREAM_OUTCOMES, isMetricName, type MetricName } from '../metrics.js';
import type { Sample } from '../samples.js';
import { addValue, emptyAcc, judge, type Acc } from '../slo/measure.js';
import { DEFAULT_RECOVERY_WINDOW_MS, findRecovery } from '../slo/recovery.js';
import { objectiveText, sloId, type SloSpec } from '../slo/spec.js';
import {
  distributionOf,
  encodeHistogram,
  fillFromSparse,
  newHistogram,
  percentileOf,
  recordScaled,
  recordSparse,
  recordingScale,
  type SparseBuckets,
} from './histogram.js';
import { diagnose } from './diagnose.js';
import { phaseInfos, phasePlan, phasesAt, type PhasePlan } from './phases.js';
import {
  RESULTS_SCHEMA_VERSION,
  applyOutcome,
  type ClientKey,
  type EncodedHistogram,
  type MetricPhaseSummary,
  type PhaseCounts,
  type RecoveryResult,
  type RunCounts,
  type RunResults,
  type SeriesPoint,
  type SloResult,
  type StatSummary,
} from './results.js';

interface Selector {
  metric: MetricName;
  client?: 'api' | 'browser';
  tags?: Record<string, string>;
  /**
   * Denominator of a `stream_outcome` share: every stream except those WE cancelled at the load's
   * deadline (outcome `cancelled`), which say nothing about the target.
   */
  judged?: true;
}

/** Streams the load generator cancelled itself (deadline, Ctrl-C); not a failure of the target. */
const SELF_CANCELLED = 'cancelled';

interface SecondAcc {
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: SparseBuckets | null;
}

interface Track {
  key: string;
  selector: Selector;
  scale: number;
  keepHist: boolean;
  phases: Map<string, Acc>;
  /** Per-second accumulators; only for tracks that are charted or needed by recovery_time. */
  seconds: Map<number, SecondAcc> | null;
}

function selectorKey(s: Selector): string {
  const tags = s.tags
    ? Object.entries(s.tags)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',')
    : '';
  return `${s.metric}|${s.client ?? '*'}|${tags}${s.judged ? '|judged' : ''}`;
}

function tagsMatch(sample: Sample, selector: Selector): boolean {
  if (selector.client !== undefined && sample.tags.client !== selector.client) return false;
  if (selector.tags)
    for (const [k, v] of Object.entries(selector.tags)) if (sample.tags[k] !== v) return false;
  return true;
}

function emptyCounts(): PhaseCounts {
  return { samples: 0, streams: {}, reconnects: 0, disconnects: 0, missedDone: 0, httpErrors: 0 };
}

export interface AggregatorOptions {
  journal: Journal | null;
  /** Already merged (defaults + experiment). */
  slos: readonly SloSpec[];
  recoveryWindowMs?: number;
  sampleFiles?: string[];
  /** Injectable for golden files. */
  now?: () => number;
}

const SUMMARY_PERCENTILES = [
  ['p50', 50],
  ['p75', 75],
  ['p90', 90],
  ['p95', 95],
  ['p99', 99],
  ['p99.9', 99.9],
] as const;

export class RunAggregator {
  private readonly plan: PhasePlan;
  private readonly tracks = new Map<string, Track>();
  /** SLO selectors with tag filters, by metric (the others are the generic/client tracks). */
  private readonly tagged = new Map<string, Track[]>();
  private readonly counts: RunCounts = { ...emptyCounts(), httpErrorsBy: [], byPhase: {} };
  private readonly httpErrorsBy = new Map<string, { status: string; endpoint: string; count: number }>();
  private readonly connectErrorsBy = new Map<
    string,
    { reason: string; status: string; count: number; phases: Set<string> }
  >();
  private samples = 0;
  private ignored = 0;
  private malformed = 0;
  private readonly warnings: string[] = [];
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  // Phase lists repeat for every sample of a second; cache the last lookup.
  private cachedTime = Number.NaN;
  private cachedPhases: string[] = [];
  private judgedCache: Track[] | undefined;

  constructor(private readonly options: AggregatorOptions) {
    this.plan = phasePlan(options.journal ? faultWindows(options.journal) : [], {
      faultsPlanned: options.journal ? faultsPlanned(options.journal) : false,
    });
    for (const slo of options.slos) {
      const selector: Selector = {
        metric: slo.metric,
        ...(slo.client ? { client: slo.client } : {}),
        ...(slo.tags && Object.keys(slo.tags).length > 0 ? { tags: slo.tags } : {}),
      };
      const track = this.track(selector, true);
      if (selector.tags && !(this.tagged.get(slo.metric) ?? []).includes(track)) {
        this.tagged.set(slo.metric, [...(this.tagged.get(slo.metric) ?? []), track]);
      }
      // The denominator of a share (`stream_outcome` rate) needs its own seconds too.
      if (selector.tags) this.track(this.baseSelector(slo), true);
    }
  }

  private track(selector: Selector, perSecond: boolean): Track {
    const key = selectorKey(selector);
    let track = this.tracks.get(key);
    if (!track) {
      const def = METRICS[selector.metric];
      track = {
        key,
        selector,
        scale: recordingScale(def.unit),
        keepHist: def.kind !== 'counter',
        phases: new Map(),
        seconds: perSecond ? new Map() : null,
      };
      this.tracks.set(key, track);
    } else if (perSecond && !track.seconds) {
      track.seconds = new Map();
    }
    return track;
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

    this.record(this.track({ metric }, true), phases, second, sample.value);
    const client = sample.tags.client;
    if (client === 'api' || client === 'browser') {
      this.record(this.track({ metric, client }, false), phases, second, sample.value);
    }
    for (const track of this.tagged.get(metric) ?? []) {
      if (tagsMatch(sample, track.selector)) this.record(track, phases, second, sample.value);
    }
    if (metric === 'stream_outcome' && sample.tags.outcome !== SELF_CANCELLED) {
      for (const judged of this.judgedTracks) {
        if (tagsMatch(sample, judged.selector)) this.record(judged, phases, second, sample.value);
      }
    }
    this.count(metric, sample, phases);
  }

  private record(track: Track, phases: readonly string[], second: number, value: number): void {
    for (const phase of phases) {
      let acc = track.phases.get(phase);
      if (!acc) {
        acc = emptyAcc(track.keepHist ? newHistogram() : null);
        track.phases.set(phase, acc);
      }
      addValue(acc, value);
      if (acc.hist) recordScaled(acc.hist, value, track.scale);
    }
    if (track.seconds) {
      let s = track.seconds.get(second);
      if (!s) {
        s = {
          count: 0,
          sum: 0,
          min: Number.POSITIVE_INFINITY,
          max: Number.NEGATIVE_INFINITY,
          buckets: track.keepHist ? new Map() : null,
        };
        track.seconds.set(second, s);
      }
      s.count += 1;
      s.sum += value;
      if (value < s.min) s.min = value;
      if (value > s.max) s.max = value;
      if (s.buckets) recordSparse(s.buckets, value, track.scale);
    }
  }

  private count(metric: MetricName, sample: Sample, phases: readonly string[]): void {
    const targets = [this.counts as PhaseCounts];
    for (const phase of phases) {
      let c = this.counts.byPhase[phase];
      if (!c) this.counts.byPhase[phase] = c = emptyCounts();
      targets.push(c);
    }
    for (const c of targets) {
      c.samples += 1;
      switch (metric) {
        case 'stream_outcome': {
          const outcome = sample.tags.outcome ?? 'unknown';
          c.streams[outcome] = (c.streams[outcome] ?? 0) + 1;
          break;
        }
        case 'ws_reconnects':
          c.reconnects += sample.value;
          break;
        case 'ws_disconnects':
          c.disconnects += sample.value;
          break;
        case 'ws_missed_done':
          c.missedDone += sample.value;
          break;
        case 'http_errors':
          c.httpErrors += sample.value;
          break;
        default:
          break;
      }
    }
    if (metric === 'ws_connect_errors') {
      const reason = sample.tags.reason ?? 'unknown';
      const status = sample.tags.status ?? '';
      const key = `${reason} ${status}`;
      const entry = this.connectErrorsBy.get(key) ?? { reason, status, count: 0, phases: new Set<string>() };
      entry.count += sample.value;
      for (const p of phases) entry.phases.add(p);
      this.connectErrorsBy.set(key, entry);
    }
    if (metric === 'http_errors') {
      const status = sample.tags.status ?? 'unknown';
      const endpoint = sample.tags.endpoint ?? 'unknown';
      const key = `${status} ${endpoint}`;
      const entry = this.httpErrorsBy.get(key) ?? { status, endpoint, count: 0 };
      entry.count += sample.value;
      this.httpErrorsBy.set(key, entry);
    }
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
      samples: this.counts.byPhase[p.name]?.samples ?? 0,
    }));

    const slos = this.evaluateSlos(phaseNames);
    const recovery = this.recoveryTimes(windowMs);
    const referenced = new Set<string>(this.options.slos.map((s) => s.metric));
    for (const t of this.tracks.values()) if (t.phases.size > 0) referenced.add(t.selector.metric);

    const counts: RunCounts = {
      ...this.counts,
      httpErrorsBy: [...this.httpErrorsBy.values()].sort(
        (a, b) => b.count - a.count || a.status.localeCompare(b.status),
      ),
    };
    counts.connectErrorsBy = [...this.connectErrorsBy.values()]
      .map((e) => ({ reason: e.reason, status: e.status, count: e.count, phases: [...e.phases].sort() }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    for (const outcome of STREAM_OUTCOMES) counts.streams[outcome] ??= 0;

    const results: RunResults = {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      generatedAt: (this.options.now ?? Date.now)(),
      run: {
        runId: journal?.runId ?? null,
        title: journal?.experiment.title ?? null,
        engine: journal?.engine ?? null,
        target: journal ? `${journal.target.name} (${journal.target.url})` : null,
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
      summary: this.summaries(),
      series: this.series(),
      histograms: this.encodedHistograms(),
      journal,
    };
    applyOutcome(results);
    results.diagnoses = diagnose(results);
    return results;
  }

  private baseSelector(slo: SloSpec): Selector {
    return {
      metric: slo.metric,
      ...(slo.client ? { client: slo.client } : {}),
      ...(slo.metric === 'stream_outcome' ? { judged: true as const } : {}),
    };
  }

  private get judgedTracks(): Track[] {
    this.judgedCache ??= [...this.tracks.values()].filter((t) => t.selector.judged);
    return this.judgedCache;
  }

  private baseOf(slo: SloSpec): Track | undefined {
    return this.tracks.get(selectorKey(this.baseSelector(slo)));
  }

  private trackOf(slo: SloSpec): Track | undefined {
    return this.tracks.get(
      selectorKey({
        metric: slo.metric,
        ...(slo.client ? { client: slo.client } : {}),
        ...(slo.tags && Object.keys(slo.tags).length > 0 ? { tags: slo.tags } : {}),
      }),
    );
  }

  /** The steady state produces a metric when its selector has baseline samples. */
  private steadyStateProduces(slo: SloSpec): boolean {
    const track = METRICS[slo.metric].kind === 'counter' && slo.tags ? this.baseOf(slo) : this.trackOf(slo);
    return (track?.phases.get('baseline')?.count ?? 0) > 0;
  }

  private evaluateSlos(phaseNames: Set<string>): SloResult[] {
    const out: SloResult[] = [];
    for (const slo of this.options.slos) {
      const kind = METRICS[slo.metric].kind;
      const track = this.trackOf(slo);
      const base = this.baseOf(slo);
      const scale = recordingScale(METRICS[slo.metric].unit);
      // A load-only run judges every SLO once, over the whole run, whatever phases it names.
      const phases = this.plan.loadOnly ? ['all'] : slo.phases;
      for (const phase of phases) {
        const common = { id: sloId(slo), phase, slo, objectiveText: objectiveText(slo) };
        if (!phaseNames.has(phase)) {
          out.push({
            ...common,
            measured: null,
            samples: 0,
            verdict: 'no-data',
            note:
              this.plan.windows.length === 0
                ? `phase \`${phase}\` not reached: the run stopped before the first fault`
                : `this run has no phase \`${phase}\``,
          });
          continue;
        }
        const j = judge(slo, kind, track?.phases.get(phase), base?.phases.get(phase), scale, {
          steadyStateProduces: phase !== 'baseline' && this.steadyStateProduces(slo),
        });
        const loadOnlyNote =
          this.plan.loadOnly && slo.phases.some((p) => p !== 'all')
            ? `load only: judged over the whole run (declared for ${slo.phases.join(', ')})`
            : undefined;
        const notMeasured =
          j.verdict === 'no-data' && slo.notMeasured !== undefined
            ? `not measurable: ${slo.notMeasured}`
            : undefined;
        const note = [notMeasured ?? j.note, loadOnlyNote].filter(Boolean).join('; ');
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

  private recoveryTimes(windowMs: number): RecoveryResult[] {
    const slos = this.options.slos.filter((s) => s.phases.includes('recovery') || s.phases.includes('all'));
    const ids = slos.map((s) => sloId(s));
    const dataEnd = this.samples > 0 ? Math.floor(this.last / 1000) * 1000 + 1000 : 0;
    const scratch = newHistogram();
    const memo = new Map<string, boolean>();
    // Metrics the steady state produces must be flowing when the window starts: otherwise a window
    // that is empty but for its last second (a stall ending) would count as recovered.
    const flowing = slos
      .filter((slo) => this.steadyStateProduces(slo))
      .map((slo) =>
        METRICS[slo.metric].kind === 'counter' && slo.tags ? this.baseOf(slo) : this.trackOf(slo),
      );
    const judgeWindow = (start: number, end: number, lenient = false): boolean => {
      const started = flowing.length === 0 || flowing.some((t) => (t?.seconds?.get(start)?.count ?? 0) > 0);
      if (!started && !lenient) return false;
      return slos.every((slo) => {
        const kind = METRICS[slo.metric].kind;
        const scale = recordingScale(METRICS[slo.metric].unit);
        const own = this.windowAcc(this.trackOf(slo), start, end, scratch);
        const base =
          kind === 'counter' && slo.tags ? this.windowAcc(this.baseOf(slo), start, end, null) : undefined;
        const j = judge(slo, kind, own, base, scale, {
          steadyStateProduces: !lenient && this.steadyStateProduces(slo),
        });
        return j.verdict !== 'breach';
      });
    };
    const holds = (start: number, end: number): boolean => {
      const key = `${start}:${end}`;
      const known = memo.get(key);
      if (known !== undefined) return known;
      const ok = judgeWindow(start, end);
      memo.set(key, ok);
      return ok;
    };
    return this.plan.windows.map((w): RecoveryResult => {
      const common = {
        fault: w.key,
        action: w.action,
        injectedAt: w.start,
        revertedAt: w.end,
        windowMs,
        slos: ids,
      };
      if (slos.length === 0) {
        return {
          ...common,
          recovered: false,
          recoveryTimeMs: null,
          recoveredAt: null,
          evaluated: false,
          note: 'no SLO with phase `recovery` or `all` to recover to',
        };
      }
      // Observed until the next fault that starts after this one ended (it would be blamed on this
      // one otherwise), else to the end of the data.
      const next = this.plan.windows.find((o) => o !== w && o.start >= w.end && o.start > w.start);
      const observedUntil = next ? Math.floor(next.start / 1000) * 1000 : dataEnd;
      const outcome = findRecovery({
        injectedAt: w.start,
        windowMs,
        dataEnd: observedUntil,
        holds,
        holdsPrefix: (start, end) => judgeWindow(start, end, true),
      });
      return {
        ...common,
        ...outcome,
        observedUntil,
        ...(outcome.recovered
          ? {}
          : {
              note:
                outcome.reason === 'observation-too-short'
                  ? `observed for less than one ${windowMs / 1000} s window after injection`
                  : `never recovered: SLOs still breached in the last ${windowMs / 1000} s window of the observation`,
            }),
      };
    });
  }

  /** Accumulator over the seconds [start, end) of a track; percentiles via the scratch histogram. */
  private windowAcc(
    track: Track | undefined,
    start: number,
    end: number,
    scratch: ReturnType<typeof newHistogram> | null,
  ): Acc | undefined {
    if (!track?.seconds) return undefined;
    const acc = emptyAcc(null);
    const buckets: SparseBuckets[] = [];
    for (let t = start; t < end; t += 1000) {
      const s = track.seconds.get(t);
      if (!s) continue;
      acc.count += s.count;
      acc.sum += s.sum;
      acc.min = Math.min(acc.min, s.min);
      acc.max = Math.max(acc.max, s.max);
      if (s.buckets) buckets.push(s.buckets);
    }
    if (acc.count > 0 && track.keepHist && scratch) acc.hist = fillFromSparse(scratch, buckets);
    return acc;
  }

  private genericTracks(): Array<{ track: Track; client: ClientKey }> {
    const out: Array<{ track: Track; client: ClientKey }> = [];
    for (const metric of METRIC_NAMES) {
      for (const client of ['all', 'api', 'browser'] as const) {
        const track = this.tracks.get(selectorKey(client === 'all' ? { metric } : { metric, client }));
        if (track && track.phases.size > 0) out.push({ track, client });
      }
    }
    return out;
  }

  private summaries(): MetricPhaseSummary[] {
    const order = phaseInfos(this.plan).map((p) => p.name);
    const out: MetricPhaseSummary[] = [];
    for (const { track, client } of this.genericTracks()) {
      for (const phase of order) {
        const acc = track.phases.get(phase);
        if (!acc) continue;
        const stats: StatSummary = {
          count: acc.count,
          sum: acc.sum,
          min: acc.count ? acc.min : null,
          max: acc.count ? acc.max : null,
          mean: acc.count ? acc.sum / acc.count : null,
        };
        if (acc.hist) {
          for (const [name, p] of SUMMARY_PERCENTILES) {
            const v = percentileOf(acc.hist, p, track.scale);
            if (v !== undefined) stats[name] = v;
          }
        }
        const summary: MetricPhaseSummary = { metric: track.selector.metric, phase, client, ...stats };
        if (acc.hist && METRICS[track.selector.metric].kind === 'trend') {
          summary.distribution = distributionOf(acc.hist, track.scale);
        }
        out.push(summary);
      }
    }
    return out;
  }

  private series(): Record<string, SeriesPoint[]> {
    const out: Record<string, SeriesPoint[]> = {};
    const scratch = newHistogram();
    for (const metric of METRIC_NAMES) {
      const track = this.tracks.get(selectorKey({ metric }));
      if (!track?.seconds || track.seconds.size === 0) continue;
      const points: SeriesPoint[] = [];
      for (const t of [...track.seconds.keys()].sort((a, b) => a - b)) {
        const s = track.seconds.get(t);
        if (!s) continue;
        const point: SeriesPoint = {
          t,
          count: s.count,
          sum: s.sum,
          mean: s.sum / s.count,
          min: s.min,
          max: s.max,
        };
        if (s.buckets && METRICS[metric].kind === 'trend') {
          fillFromSparse(scratch, [s.buckets]);
          point.p50 = scratch.getValueAtPercentile(50) / track.scale;
          point.p95 = scratch.getValueAtPercentile(95) / track.scale;
          point.p99 = scratch.getValueAtPercentile(99) / track.scale;
        }
        points.push(point);
      }
      out[metric] = points;
    }
    return out;
  }

  private encodedHistograms(): EncodedHistogram[] {
    const order = phaseInfos(this.plan).map((p) => p.name);
    const out: EncodedHistogram[] = [];
    for (const { track, client } of this.genericTracks()) {
      if (!track.keepHist) continue;
      for (const phase of order) {
        const acc = track.phases.get(phase);
        if (!acc?.hist || acc.hist.totalCount === 0) continue;
        out.push({
          metric: track.selector.metric,
          phase,
          client,
          scale: track.scale,
          encoded: encodeHistogram(acc.hist),
        });
      }
    }
    return out;
  }
}
