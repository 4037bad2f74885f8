// The game-day console's live charts (DESIGN §9): samples folded into one point per second —
// ttft / itl / e2e percentiles, active streams and sockets, completions, errors by status,
// reconnects, garbled streams. Pure and bounded: a second is closed `lagMs` after it ends (worker
// batches arrive late), percentiles are exact over at most `maxValuesPerSecond` values per metric
// (a uniform reservoir beyond that), and at most `maxPoints` seconds are kept.

import type { Sample } from '../samples.js';

export const LIVE_TRENDS = ['ttft', 'itl', 'e2e'] as const;
export type LiveTrend = (typeof LIVE_TRENDS)[number];
export const LIVE_PERCENTILES = [50, 95, 99] as const;

export interface LivePoint {
  /** Second start, epoch ms. */
  t: number;
  /** e.g. `ttft_p95`: ms, or null when the second had no value. */
  [series: string]: number | null;
}

export const LIVE_COUNTS = ['streams', 'sockets', 'completed', 'errors', 'reconnects', 'garbled'] as const;

interface Bucket {
  values: Record<LiveTrend, number[]>;
  seen: Record<LiveTrend, number>;
  completed: number;
  errors: number;
  reconnects: number;
  garbled: number;
  streams: number | null;
  sockets: number | null;
}

export interface LiveSeriesOptions {
  lagMs?: number;
  maxValuesPerSecond?: number;
  maxPoints?: number;
  random?: () => number;
}

export class LiveSeries {
  private readonly open = new Map<number, Bucket>();
  private readonly closed: LivePoint[] = [];
  /** Points dropped from the front (so `since` indexes stay stable). */
  private dropped = 0;
  private lastClosed = -Infinity;
  private readonly lagMs: number;
  private readonly maxValues: number;
  private readonly maxPoints: number;
  private readonly random: () => number;
  /** Cumulative HTTP errors by status (the `http_errors` counter). */
  readonly errorsByStatus: Record<string, number> = {};
  readonly totals = { completed: 0, errors: 0, reconnects: 0, garbled: 0, streams: 0 };

  constructor(opts: LiveSeriesOptions = {}) {
    this.lagMs = opts.lagMs ?? 2000;
    this.maxValues = opts.maxValuesPerSecond ?? 2000;
    this.maxPoints = opts.maxPoints ?? 4 * 3600;
    this.random = opts.random ?? Math.random;
  }

  observe(s: Sample): void {
    const second = Math.floor(s.timeMs / 1000) * 1000;
    if (second <= this.lastClosed) return; // too late for its second: counted in totals only
    const b = this.bucket(second);
    switch (s.metric) {
      case 'ttft':
      case 'itl':
      case 'e2e': {
        const seen = ++b.seen[s.metric];
        const arr = b.values[s.metric];
        if (arr.length < this.maxValues) arr.push(s.value);
        else {
          const i = Math.floor(this.random() * seen);
          if (i < this.maxValues) arr[i] = s.value;
        }
        break;
      }
      case 'stream_outcome':
        this.totals.streams++;
        if (s.tags.outcome === 'completed') {
          b.completed++;
          this.totals.completed++;
        } else if (s.tags.outcome !== 'cancelled') {
          b.errors++;
          this.totals.errors++;
        }
        break;
      case 'http_errors': {
        const status = s.tags.status ?? '?';
        this.errorsByStatus[status] = (this.errorsByStatus[status] ?? 0) + s.value;
        break;
      }
      case 'ws_reconnects':
        b.reconnects += s.value;
        this.totals.reconnects += s.value;
        break;
      case 'garbled_token_rate':
        if (s.value > 0) {
          b.garbled++;
          this.totals.garbled++;
        }
        break;
      case 'active_streams':
        b.streams = s.value;
        break;
      case 'active_sockets':
        b.sockets = s.value;
        break;
    }
  }

  /** Closes every second that ended more than `lagMs` before `now`. */
  advance(now: number): void {
    const limit = Math.floor((now - this.lagMs) / 1000) * 1000 - 1000;
    let next =
      this.lastClosed === -Infinity ? Math.min(...this.open.keys(), limit + 1000) : this.lastClosed + 1000;
    for (; next <= limit; next += 1000) {
      const b = this.open.get(next);
      this.open.delete(next);
      this.closed.push(this.point(next, b));
      this.lastClosed = next;
    }
    for (const k of this.open.keys()) if (k <= this.lastClosed) this.open.delete(k);
    const excess = this.closed.length - this.maxPoints;
    if (excess > 0) {
      this.closed.splice(0, excess);
      this.dropped += excess;
    }
  }

  /** Points with index ≥ `since` (indexes count from the first point ever closed). */
  since(since: number): { from: number; points: LivePoint[] } {
    const from = Math.max(since, this.dropped);
    return { from, points: this.closed.slice(from - this.dropped) };
  }

  get length(): number {
    return this.dropped + this.closed.length;
  }

  private bucket(second: number): Bucket {
    let b = this.open.get(second);
    if (!b) {
      b = {
        values: { ttft: [], itl: [], e2e: [] },
        seen: { ttft: 0, itl: 0, e2e: 0 },
        completed: 0,
        errors: 0,
        reconnects: 0,
        garbled: 0,
        streams: null,
        sockets: null,
      };
      this.open.set(second, b);
    }
    return b;
  }

  private point(t: number, b: Bucket | undefined): LivePoint {
    const p: LivePoint = { t };
    const prev = this.closed[this.closed.length - 1];
    for (const m of LIVE_TRENDS) {
      const sorted = b ? [...b.values[m]].sort((x, y) => x - y) : [];
      for (const q of LIVE_PERCENTILES) p[`${m}_p${q}`] = nearestRank(sorted, q);
    }
    // Gauges hold their last value through a second without a sample.
    p.streams = b?.streams ?? prev?.streams ?? null;
    p.sockets = b?.sockets ?? prev?.sockets ?? null;
    p.completed = b?.completed ?? 0;
    p.errors = b?.errors ?? 0;
    p.reconnects = b?.reconnects ?? 0;
    p.garbled = b?.garbled ?? 0;
    return p;
  }
}

/** Nearest-rank percentile of sorted values; null for none. */
export function nearestRank(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1));
  return sorted[i] ?? null;
}
