// Reads an NDJSON sample file (the engine's, the CLI's format) back into the numbers a bench step
// reports: client lag (HDR histogram over a window), content events per 100 ms, stream outcomes,
// socket numbers.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { build } from 'hdr-histogram-js';

/** Where the metric name starts in a Point line (`{"type":"Point","metric":"…`). */
const METRIC_AT = '{"type":"Point","metric":"'.length;

export interface SampleScan {
  /** client_lag in the window, ms. */
  lag: { count: number; p50: number; p99: number; max: number };
  /** client_lag samples (one per content event) in [fromMs, toMs), at 100 ms resolution. */
  eventsBetween(fromMs: number, toMs: number): number;
  outcomes: Record<string, number>;
  maxActiveSockets: number;
  disconnects: number;
  connectP99: number;
  samples: number;
}

/** Reads `file`: client_lag in [fromMs, toMs] into an HDR histogram, outcomes, socket numbers. */
export async function scanSamples(file: string, fromMs: number, toMs: number): Promise<SampleScan> {
  const lag = build({ numberOfSignificantValueDigits: 3, autoResize: true, lowestDiscernibleValue: 1 });
  const connect = build({ numberOfSignificantValueDigits: 3, autoResize: true, lowestDiscernibleValue: 1 });
  const outcomes: Record<string, number> = {};
  let maxActiveSockets = 0;
  let disconnects = 0;
  let samples = 0;
  const eventTenths = new Map<number, number>();
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line === '') continue;
    samples++;
    // Cheap prefix checks first: most lines are client_lag/itl/burst_size.
    const m = line.slice(METRIC_AT, METRIC_AT + 20);
    if (m.startsWith('client_lag')) {
      const p = JSON.parse(line) as { data: { time: string; value: number } };
      const t = Date.parse(p.data.time);
      const tenth = Math.floor(t / 100);
      eventTenths.set(tenth, (eventTenths.get(tenth) ?? 0) + 1);
      if (t >= fromMs && t <= toMs) lag.recordValue(Math.max(0, Math.round(p.data.value * 1000)));
    } else if (m.startsWith('stream_outcome')) {
      const p = JSON.parse(line) as { data: { tags: { outcome?: string } } };
      const o = p.data.tags.outcome ?? '?';
      outcomes[o] = (outcomes[o] ?? 0) + 1;
    } else if (m.startsWith('active_sockets')) {
      maxActiveSockets = Math.max(
        maxActiveSockets,
        (JSON.parse(line) as { data: { value: number } }).data.value,
      );
    } else if (m.startsWith('ws_disconnects')) {
      disconnects++;
    } else if (m.startsWith('ws_connect_time')) {
      connect.recordValue(
        Math.max(0, Math.round((JSON.parse(line) as { data: { value: number } }).data.value * 1000)),
      );
    }
  }
  const result: SampleScan = {
    eventsBetween: (fromMs, toMs) => {
      let n = 0;
      for (const [tenth, c] of eventTenths)
        if (tenth >= Math.floor(fromMs / 100) && tenth < Math.floor(toMs / 100)) n += c;
      return n;
    },
    lag: {
      count: lag.totalCount,
      p50: lag.getValueAtPercentile(50) / 1000,
      p99: lag.getValueAtPercentile(99) / 1000,
      max: lag.maxValue / 1000,
    },
    outcomes,
    maxActiveSockets,
    disconnects,
    connectP99: connect.getValueAtPercentile(99) / 1000,
    samples,
  };
  lag.destroy();
  connect.destroy();
  return result;
}
