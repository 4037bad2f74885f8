// Turns samples into k6 Point NDJSON lines (src/core/samples.ts) fast enough for well over a
// hundred thousand samples per second per worker, and batches them for one consumer (a worker's
// postMessage, or a sink in-process).
//
// Contract: `pointText(metric, t, v, tagsJson)` is byte-identical to core's `pointLine(metric, t, v,
// tags)` when `tagsJson === JSON.stringify(tags)`; `SampleWriter` writes exactly the UTF-8 bytes of
// `pointText` for each accepted sample. Tags are serialised once per stream, not per sample.
// Values are rounded to 1 µs (0.001 ms) and non-finite values are dropped (a NaN in a trend would
// poison every percentile downstream). `flush()` hands the pending lines over as one Uint8Array
// that owns its ArrayBuffer (so a worker can transfer it without a copy); the writer flushes by
// itself past `flushBytes`.
//
// Why bytes: building each line as a JS string cost a chain of string concatenations, a join per
// batch, a structured clone per postMessage and a UTF-16 → UTF-8 conversion at the file write.
// Writing into a byte buffer costs a few short copies per sample; the constant parts of a line
// (metric prefix, tags suffix) are encoded once and cached, and values are written as digits
// without an intermediate string (~200 ns per sample instead of ~430).

import type { MetricName } from '../../core/metrics.js';
import type { SampleTags } from '../../core/samples.js';
import type { Emit } from '../measure/emit.js';
export type { Emit };

export function tagsJson(tags: SampleTags): string {
  return JSON.stringify(tags);
}

// Samples come in bursts within the same millisecond: format each millisecond's timestamp once.
let lastMs = Number.NaN;
let lastIso = '';
function isoOf(timeMs: number): string {
  const ms = Math.floor(timeMs);
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

export function pointText(metric: MetricName, timeMs: number, value: number, tagsJsonText: string): string {
  return (
    '{"type":"Point","metric":"' +
    metric +
    '","data":{"time":"' +
    isoOf(timeMs) +
    '","value":' +
    JSON.stringify(value) +
    ',"tags":' +
    tagsJsonText +
    '}}\n'
  );
}

export function roundValue(value: number): number {
  return Math.round(value * 1000) / 1000;
}

const encoder = new TextEncoder();
const VALUE_INFIX = encoder.encode('","value":');
/** Room for the ISO time (24), the value infix (10) and any number JSON.stringify writes (≤ 25). */
const VARIABLE_BYTES = 64;
/** Distinct tag sets cached before the cache starts over (streams share a handful). */
const TAGS_CACHE_LIMIT = 4096;

export class SampleWriter {
  private buf: Uint8Array;
  private pos = 0;
  private readonly prefixes = new Map<string, Uint8Array>();
  private readonly suffixes = new Map<string, Uint8Array>();
  lines = 0;

  constructor(
    private readonly out: (ndjson: Uint8Array) => void,
    private readonly flushBytes = 256 * 1024,
  ) {
    this.buf = new Uint8Array(flushBytes + 1024);
  }

  readonly emit: Emit = (metric, timeMs, value, tagsJsonText) => {
    if (!Number.isFinite(value) || !Number.isFinite(timeMs)) return;
    const prefix = this.prefixOf(metric);
    const suffix = this.suffixOf(tagsJsonText);
    const need = prefix.length + VARIABLE_BYTES + suffix.length;
    if (this.pos + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = new Uint8Array(need);
    }
    const buf = this.buf;
    let p = this.pos;
    buf.set(prefix, p);
    p += prefix.length;
    p = writeAscii(buf, p, isoOf(timeMs));
    buf.set(VALUE_INFIX, p);
    p += VALUE_INFIX.length;
    p = writeValue(buf, p, value);
    buf.set(suffix, p);
    this.pos = p + suffix.length;
    this.lines++;
    if (this.pos >= this.flushBytes) this.flush();
  };

  flush(): void {
    if (this.pos === 0) return;
    const batch = this.buf.slice(0, this.pos);
    this.pos = 0;
    this.out(batch);
  }

  private prefixOf(metric: string): Uint8Array {
    let b = this.prefixes.get(metric);
    if (b === undefined) {
      b = encoder.encode('{"type":"Point","metric":"' + metric + '","data":{"time":"');
      this.prefixes.set(metric, b);
    }
    return b;
  }

  private suffixOf(tags: string): Uint8Array {
    let b = this.suffixes.get(tags);
    if (b === undefined) {
      if (this.suffixes.size >= TAGS_CACHE_LIMIT) this.suffixes.clear();
      b = encoder.encode(',"tags":' + tags + '}}\n');
      this.suffixes.set(tags, b);
    }
    return b;
  }
}

/** Below this, k/1000 prints as its plain decimal digits (far from exponent notation and 2^53). */
const PLAIN_LIMIT = 1e12;

/**
 * Writes `JSON.stringify(roundValue(value))` without building the string: for |value| < 1e12 the
 * value is k/1000 with an integer k, whose shortest round-trip form is k's digits with the decimal
 * point three places from the right and trailing zeros dropped (division by 1000 is correctly
 * rounded, so no shorter decimal maps to the same double). Larger values take JSON.stringify.
 */
function writeValue(buf: Uint8Array, at: number, value: number): number {
  if (!(value > -PLAIN_LIMIT && value < PLAIN_LIMIT))
    return writeAscii(buf, at, JSON.stringify(roundValue(value)));
  let k = Math.round(value * 1000);
  if (k === 0) {
    buf[at] = 0x30; // also -0: JSON.stringify(-0) is "0"
    return at + 1;
  }
  if (k < 0) {
    buf[at++] = 0x2d;
    k = -k;
  }
  let int = Math.floor(k / 1000);
  let frac = k - int * 1000;
  // Integer part: count its digits, then fill them in from the right.
  let digits = 1;
  for (let x = int; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let d = digits - 1; d >= 0; d--) {
    buf[at + d] = 0x30 + (int % 10);
    int = Math.floor(int / 10);
  }
  at += digits;
  if (frac !== 0) {
    buf[at++] = 0x2e;
    let places = 3;
    while (frac % 10 === 0) {
      frac /= 10;
      places--;
    }
    for (let d = places - 1; d >= 0; d--) {
      buf[at + d] = 0x30 + (frac % 10);
      frac = Math.floor(frac / 10);
    }
    at += places;
  }
  return at;
}

/** Writes an ASCII string (ISO time, a JSON number) byte by byte; cheaper than a native call for a few bytes. */
function writeAscii(buf: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at + i] = s.charCodeAt(i);
  return at + s.length;
}
