// Test support for the Node engine suites: collect emitted samples in memory, read an NDJSON file.
import { readFileSync } from 'node:fs';
import type { MetricName } from '../../../../src/core/metrics.js';
import { parseSampleLine, type Sample } from '../../../../src/core/samples.js';

export interface Collected {
  metric: MetricName;
  t: number;
  v: number;
  tags: Record<string, string>;
}

export function collector(): {
  got: Collected[];
  emit: (m: MetricName, t: number, v: number, tags: string) => void;
  of: (m: MetricName) => Collected[];
} {
  const got: Collected[] = [];
  return {
    got,
    emit: (metric, t, v, tags) =>
      got.push({ metric, t, v, tags: JSON.parse(tags) as Record<string, string> }),
    of: (m) => got.filter((g) => g.metric === m),
  };
}

export function readSamples(file: string): Sample[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => parseSampleLine(l))
    .filter((s): s is Sample => s !== undefined);
}

export function countBy<T>(items: T[], key: (t: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const k = key(i) ?? '(none)';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
