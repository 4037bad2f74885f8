// `load`'s per-metric summary: count, p50, p95, p99 and max of every catalogue metric in NDJSON
// sample files (HDR histograms, as the SLO evaluation), counters summed by `outcome`/`status` tag.
// Read through forEachSample, so a malformed line is skipped and counted, not a crash.

import { METRICS, isMetricName, type MetricName } from '../metrics.js';
import { newHistogram, percentileOf, recordScaled, recordingScale, type Histogram } from './histogram.js';
import { forEachSample } from './sample-file.js';

export interface MetricSummary {
  metric: string;
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  /** Counters: sum of values by `outcome`/`status` tag where present (`client:` prefixed). */
  by?: Record<string, number>;
}

export interface MetricSummaries {
  metrics: MetricSummary[];
  /** `file:line` of each line that was not JSON. */
  malformed: string[];
}

export async function summarizeSampleFiles(files: readonly string[]): Promise<MetricSummaries> {
  const hists = new Map<string, { h: Histogram; scale: number; count: number; by: Record<string, number> }>();
  const malformed: string[] = [];
  try {
    for (const file of files) {
      await forEachSample(file, {
        onMalformed: (where) => malformed.push(where),
        onSample: (s) => {
          if (!isMetricName(s.metric)) return;
          let entry = hists.get(s.metric);
          if (!entry) {
            entry = { h: newHistogram(), scale: recordingScale(METRICS[s.metric].unit), count: 0, by: {} };
            hists.set(s.metric, entry);
          }
          entry.count++;
          recordScaled(entry.h, s.value, entry.scale);
          const key = s.tags.outcome ?? s.tags.status;
          if (METRICS[s.metric].kind === 'counter' && key !== undefined) {
            const k = s.tags.client ? `${s.tags.client}:${key}` : key;
            entry.by[k] = (entry.by[k] ?? 0) + s.value;
          }
        },
      });
    }
    const metrics: MetricSummary[] = [];
    for (const [metric, e] of [...hists.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const m: MetricSummary = { metric, count: e.count };
      if (METRICS[metric as MetricName].kind !== 'counter') {
        for (const [k, p] of [
          ['p50', 50],
          ['p95', 95],
          ['p99', 99],
          ['max', 100],
        ] as const) {
          const v = percentileOf(e.h, p, e.scale);
          if (v !== undefined) m[k] = v;
        }
      }
      if (Object.keys(e.by).length > 0) m.by = e.by;
      metrics.push(m);
    }
    return { metrics, malformed };
  } finally {
    for (const { h } of hists.values()) h.destroy();
  }
}
