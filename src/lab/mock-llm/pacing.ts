// Pacing of one mock LLM stream: when each SSE content event is due, and which events go out
// together in one socket write.
//
// Contract: `eventDeadlines` returns offsets in ms from the request's start; offsets never
// decrease and are computed from the ideal schedule (each offset = previous offset + one jittered
// interval), so a late timer never shifts the rest of the stream (no accumulated drift).
// `writeGroups` says which content events share one wake-up: `event`/`split` wake for every event,
// `batch` wakes for the first event (so time to first token is intact) and then every
// BATCH_EVENTS events, writing everything due in one write.

import type { WriteMode } from '../../protocol/ground-truth.js';

export interface Pacing {
  /** Delay before the first content event, ms. */
  firstTokenMs: number;
  /** Content tokens per second; 0 or less means "as fast as possible". */
  tokensPerSecond: number;
  /** 0..1: each interval is scaled by a uniform factor in [1 - jitter, 1 + jitter]. */
  jitter: number;
  write: WriteMode;
  /** Content tokens carried by one SSE event. */
  tokensPerChunk: number;
}

export const DEFAULT_PACING: Pacing = {
  firstTokenMs: 200,
  tokensPerSecond: 50,
  jitter: 0,
  write: 'event',
  tokensPerChunk: 1,
};

/** In batch mode, how many content events one write carries after the first. */
export const BATCH_EVENTS = 3;

/** Clamps user-supplied pacing to sane ranges (negative delays, jitter > 1, chunk < 1). */
export function normalisePacing(p: Pacing): Pacing {
  const finite = (v: number, fallback: number): number => (Number.isFinite(v) ? v : fallback);
  return {
    firstTokenMs: Math.max(0, finite(p.firstTokenMs, 0)),
    tokensPerSecond: finite(p.tokensPerSecond, 0),
    jitter: Math.min(1, Math.max(0, finite(p.jitter, 0))),
    write: p.write,
    tokensPerChunk: Math.max(1, Math.floor(finite(p.tokensPerChunk, 1))),
  };
}

/** Number of content events for `tokens` tokens. */
export function eventCount(tokens: number, tokensPerChunk: number): number {
  return Math.ceil(tokens / Math.max(1, tokensPerChunk));
}

function jittered(ms: number, jitter: number, rand: () => number): number {
  if (jitter <= 0 || ms <= 0) return ms;
  return ms * (1 + jitter * (2 * rand() - 1));
}

/**
 * Offsets (ms from the request's start) at which content events 0..events-1 are due.
 * With 0 events the array holds nothing; the terminator is then due at the first-token offset.
 */
export function eventDeadlines(
  events: number,
  pacing: Pacing,
  rand: () => number = Math.random,
): Float64Array {
  const out = new Float64Array(events);
  const interval = pacing.tokensPerSecond > 0 ? (1000 * pacing.tokensPerChunk) / pacing.tokensPerSecond : 0;
  let t = jittered(pacing.firstTokenMs, pacing.jitter, rand);
  for (let k = 0; k < events; k++) {
    if (k > 0) t += jittered(interval, pacing.jitter, rand);
    out[k] = t;
  }
  return out;
}

/**
 * Index of the last content event that the wake-up starting at event `k` waits for:
 * the stream sleeps until that event's deadline, then writes every event due.
 */
export function groupEnd(k: number, events: number, write: WriteMode): number {
  if (write !== 'batch' || k === 0) return k;
  return Math.min(events - 1, k + BATCH_EVENTS - 1);
}
