// The tracks of a run's aggregation: one accumulator per (metric, client, tag selector), per phase
// and — for charted or recovery-relevant tracks — per second. Contract: memory is bounded by
// (selectors × phases) histograms plus (per-second selectors × run seconds) sparse buckets, never
// by the number of samples; routing a sample is commutative, so the order of samples and files
// does not matter. Pure: no I/O.

import { METRICS, METRIC_NAMES, type MetricName } from '../metrics.js';
import type { Sample } from '../samples.js';
import { addValue, emptyAcc, type Acc } from '../slo/measure.js';
import type { SloSpec } from '../slo/spec.js';
import {
  fillFromSparse,
  newHistogram,
  recordScaled,
  recordSparse,
  recordingScale,
  type SparseBuckets,
} from './histogram.js';
import type { ClientKey } from './results.js';

export interface Selector {
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
export const SELF_CANCELLED = 'cancelled';

export interface SecondAcc {
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: SparseBuckets | null;
}

export interface Track {
  key: string;
  selector: Selector;
  scale: number;
  keepHist: boolean;
  phases: Map<string, Acc>;
  /** Per-second accumulators; only for tracks that are charted or needed by recovery_time. */
  seconds: Map<number, SecondAcc> | null;
}

export function selectorKey(s: Selector): string {
  const tags = s.tags
    ? Object.entries(s.tags)
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(',')
    : '';
  return `${s.metric}|${s.client ?? '*'}|${tags}${s.judged ? '|judged' : ''}`;
}

/** Whether a sample belongs to a selector (a `judged` one leaves out streams we cancelled). */
export function tagsMatch(sample: Sample, selector: Selector): boolean {
  if (selector.client !== undefined && sample.tags.client !== selector.client) return false;
  if (selector.tags)
    for (const [k, v] of Object.entries(selector.tags)) if (sample.tags[k] !== v) return false;
  if (selector.judged && sample.tags.outcome === SELF_CANCELLED) return false;
  return true;
}

/** The SLO's own selector (metric + client + tags). */
export function ownSelector(slo: Pick<SloSpec, 'metric' | 'client' | 'tags'>): Selector {
  return {
    metric: slo.metric,
    ...(slo.client ? { client: slo.client } : {}),
    ...(slo.tags && Object.keys(slo.tags).length > 0 ? { tags: slo.tags } : {}),
  };
}

/**
 * The denominator of a share (`stream_outcome` rate with `tags`): every judged stream of the SLO's
 * client. The tags filter the numerator only; a client written as a tag was moved to `client` when
 * the SLO was parsed (src/core/slo/spec.ts), so a per-client share is over that client's streams.
 */
export function baseSelector(slo: Pick<SloSpec, 'metric' | 'client'>): Selector {
  return {
    metric: slo.metric,
    ...(slo.client ? { client: slo.client } : {}),
    ...(slo.metric === 'stream_outcome' ? { judged: true as const } : {}),
  };
}

/** Every track of a run, created up front for the SLOs and on demand for generic metrics. */
export class TrackSet {
  private readonly tracks = new Map<string, Track>();
  /** SLO selectors with tag filters, by metric (the others are the generic/client tracks). */
  private readonly tagged = new Map<string, Track[]>();
  private judgedCache: Track[] | undefined;

  constructor(slos: readonly SloSpec[]) {
    for (const slo of slos) {
      const selector = ownSelector(slo);
      const track = this.track(selector, true);
      if (selector.tags && !(this.tagged.get(slo.metric) ?? []).includes(track)) {
        this.tagged.set(slo.metric, [...(this.tagged.get(slo.metric) ?? []), track]);
      }
      // The denominator of a share (`stream_outcome` rate) needs its own seconds too.
      if (selector.tags) this.track(baseSelector(slo), true);
    }
  }

  track(selector: Selector, perSecond: boolean): Track {
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

  /** Records one valid catalogue sample into every track it belongs to. */
  route(metric: MetricName, sample: Sample, phases: readonly string[], second: number): void {
    recordValue(this.track({ metric }, true), phases, second, sample.value);
    const client = sample.tags.client;
    if (client === 'api' || client === 'browser') {
      recordValue(this.track({ metric, client }, false), phases, second, sample.value);
    }
    for (const track of this.tagged.get(metric) ?? []) {
      if (tagsMatch(sample, track.selector)) recordValue(track, phases, second, sample.value);
    }
    if (metric === 'stream_outcome') {
      // tagsMatch leaves out what we cancelled ourselves (a judged selector).
      for (const judged of this.judgedTracks) {
        if (tagsMatch(sample, judged.selector)) recordValue(judged, phases, second, sample.value);
      }
    }
  }

  get(selector: Selector): Track | undefined {
    return this.tracks.get(selectorKey(selector));
  }

  values(): IterableIterator<Track> {
    return this.tracks.values();
  }

  private get judgedTracks(): Track[] {
    this.judgedCache ??= [...this.tracks.values()].filter((t) => t.selector.judged);
    return this.judgedCache;
  }

  /** The denominator track of an SLO (every judged stream of its client). */
  baseOf(slo: SloSpec): Track | undefined {
    return this.get(baseSelector(slo));
  }

  /** The SLO's own track (its metric, client and tags). */
  trackOf(slo: SloSpec): Track | undefined {
    return this.get(ownSelector(slo));
  }

  /** The steady state produces a metric when its selector has baseline samples. */
  steadyStateProduces(slo: SloSpec): boolean {
    return (this.flowingTrackOf(slo)?.phases.get('baseline')?.count ?? 0) > 0;
  }

  /** The track whose samples show the SLO's metric flowing (a tagged counter: its denominator). */
  flowingTrackOf(slo: SloSpec): Track | undefined {
    return METRICS[slo.metric].kind === 'counter' && slo.tags ? this.baseOf(slo) : this.trackOf(slo);
  }

  /** The per-metric tracks (all clients, then api, browser) that hold data, in catalogue order. */
  genericTracks(): Array<{ track: Track; client: ClientKey }> {
    const out: Array<{ track: Track; client: ClientKey }> = [];
    for (const metric of METRIC_NAMES) {
      for (const client of ['all', 'api', 'browser'] as const) {
        const track = this.get(client === 'all' ? { metric } : { metric, client });
        if (track && track.phases.size > 0) out.push({ track, client });
      }
    }
    return out;
  }
}

export function recordValue(track: Track, phases: readonly string[], second: number, value: number): void {
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

/** Accumulator over the seconds [start, end) of a track; percentiles via the scratch histogram. */
export function windowAcc(
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
