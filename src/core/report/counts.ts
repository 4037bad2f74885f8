// Run-wide and per-phase counts for the report: samples, stream outcomes, reconnects,
// disconnects, lost `done` events, HTTP errors by status and endpoint, socket connect errors by
// reason. Pure; bounded by the number of distinct (status, endpoint) and (reason, status) pairs.

import { STREAM_OUTCOMES, type MetricName } from '../metrics.js';
import type { Sample } from '../samples.js';
import type { PhaseCounts, RunCounts } from './results.js';

export function emptyCounts(): PhaseCounts {
  return { samples: 0, streams: {}, reconnects: 0, disconnects: 0, missedDone: 0, httpErrors: 0 };
}

export class CountsAccumulator {
  private readonly counts: RunCounts = { ...emptyCounts(), httpErrorsBy: [], byPhase: {} };
  private readonly httpErrorsBy = new Map<string, { status: string; endpoint: string; count: number }>();
  private readonly connectErrorsBy = new Map<
    string,
    { reason: string; status: string; count: number; phases: Set<string> }
  >();

  /** Samples counted in a phase so far. */
  samplesIn(phase: string): number {
    return this.counts.byPhase[phase]?.samples ?? 0;
  }

  add(metric: MetricName, sample: Sample, phases: readonly string[]): void {
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

  finish(): RunCounts {
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
    return counts;
  }
}
