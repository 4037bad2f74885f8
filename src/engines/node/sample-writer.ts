// Turns samples into k6 Point NDJSON lines (src/core/samples.ts) fast enough for tens of
// thousands of samples per second per worker, and batches them for one consumer (a worker's
// postMessage, or a sink in-process).
//
// Contract: `pointText(metric, t, v, tagsJson)` is byte-identical to core's `pointLine(metric, t, v,
// tags)` when `tagsJson === JSON.stringify(tags)`. Tags are serialised once per stream, not per
// sample. Values are rounded to 1 µs (0.001 ms) and non-finite values are dropped (a NaN in a
// trend would poison every percentile downstream). `flush()` hands the pending lines over as one
// string; the writer flushes by itself past `flushBytes`.

import type { MetricName } from '../../core/metrics.js';
import type { SampleTags } from '../../core/samples.js';

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

import type { Emit } from '../measure/emit.js';
export type { Emit };

export class SampleWriter {
  private parts: string[] = [];
  private bytes = 0;
  lines = 0;

  constructor(
    private readonly out: (ndjson: string) => void,
    private readonly flushBytes = 256 * 1024,
  ) {}

  readonly emit: Emit = (metric, timeMs, value, tagsJsonText) => {
    if (!Number.isFinite(value) || !Number.isFinite(timeMs)) return;
    const line = pointText(metric, timeMs, roundValue(value), tagsJsonText);
    this.parts.push(line);
    this.bytes += line.length;
    this.lines++;
    if (this.bytes >= this.flushBytes) this.flush();
  };

  flush(): void {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    this.out(text);
  }
}
