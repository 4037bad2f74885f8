// Synthetic samples and journals with known answers, shared by the report and SLO tests.
import type { Journal, JournalActivity } from '../../../../src/core/journal.js';
import type { MetricName } from '../../../../src/core/metrics.js';
import type { Sample, SampleTags } from '../../../../src/core/samples.js';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export function sample(metric: MetricName, timeMs: number, value: number, tags: SampleTags = {}): Sample {
  return { metric, timeMs, value, tags };
}

export function journalWith(
  faults: Array<{ name: string; action?: string; start: number; end: number }>,
  endedAt = T0 + 120_000,
): Journal {
  const activities: JournalActivity[] = [];
  for (const f of faults) {
    activities.push({
      name: f.name,
      kind: 'inject',
      action: f.action ?? 'toxic.latency',
      startedAt: f.start,
      endedAt: f.start + 5,
      status: 'succeeded',
    });
    activities.push({
      name: f.name,
      kind: 'revert',
      action: f.action ?? 'toxic.latency',
      startedAt: f.end - 5,
      endedAt: f.end,
      status: 'succeeded',
    });
  }
  return {
    schemaVersion: 1,
    runId: 'run-test',
    experiment: { title: 'synthetic' },
    target: { name: 'lab', url: 'http://127.0.0.1:1' },
    engine: 'node',
    startedAt: T0,
    endedAt,
    status: 'completed',
    deviated: false,
    activities,
  };
}

/**
 * One `ttft` sample every 100 ms from `from` to `to` (exclusive): `value(t)` decides the latency,
 * plus one completed stream_outcome per sample.
 */
export function ttftSeries(
  from: number,
  to: number,
  value: (t: number) => number,
  tags: SampleTags = { client: 'api' },
): Sample[] {
  const out: Sample[] = [];
  for (let t = from; t < to; t += 100) {
    out.push(sample('ttft', t, value(t), tags));
    out.push(sample('stream_outcome', t, 1, { ...tags, outcome: 'completed' }));
  }
  return out;
}
