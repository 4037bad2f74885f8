// Samples in k6's `--out json` Point shape (DESIGN §5), so the Node engine and k6 feed one
// reporter and outputs of several k6 runners merge. `data.time` is an RFC 3339 string as k6
// writes it; `data.value` is in the metric's unit (ms for trends).

import type { ClientKind, MetricName } from './metrics.js';

export interface SampleTags {
  client?: ClientKind;
  /** Replica that served the request, from the `X-Upstream`/replica response header. */
  replica?: string;
  status?: string;
  outcome?: string;
  endpoint?: string;
  phase?: string;
  [tag: string]: string | undefined;
}

export interface SamplePoint {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags: SampleTags };
}

/** A parsed sample with its time as epoch milliseconds (what every consumer works in). */
export interface Sample {
  metric: string;
  timeMs: number;
  value: number;
  tags: SampleTags;
}

export function toPoint(metric: MetricName, timeMs: number, value: number, tags: SampleTags): SamplePoint {
  return { type: 'Point', metric, data: { time: new Date(timeMs).toISOString(), value, tags } };
}

export function pointLine(metric: MetricName, timeMs: number, value: number, tags: SampleTags): string {
  return JSON.stringify(toPoint(metric, timeMs, value, tags)) + '\n';
}

/**
 * Parses one NDJSON line. Returns undefined for lines that are not samples (k6 also writes
 * `{"type":"Metric"…}` declarations), and throws on malformed JSON so a corrupt file is noticed.
 */
export function parseSampleLine(line: string): Sample | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  const raw = JSON.parse(trimmed) as Partial<SamplePoint> & { type?: string };
  if (raw.type !== 'Point' || !raw.data || typeof raw.metric !== 'string') return undefined;
  const timeMs = Date.parse(raw.data.time);
  if (!Number.isFinite(timeMs) || typeof raw.data.value !== 'number') return undefined;
  return { metric: raw.metric, timeMs, value: raw.data.value, tags: raw.data.tags ?? {} };
}

/** Where an engine sends samples; the engine never knows whether they go to a file or a test. */
export interface SampleSink {
  write(metric: MetricName, timeMs: number, value: number, tags: SampleTags): void;
}
