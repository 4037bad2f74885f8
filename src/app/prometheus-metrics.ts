// `--prometheus HOST:PORT`: serves `/metrics` (prom-client) while `run`, `load` or `gameday` runs,
// fed from the sample stream (src/app/sample-tap.ts). An adapter: core knows nothing of it.
//
// Names follow what k6's Prometheus remote-write output makes of the same catalogue
// (src/core/metrics.ts), so one Grafana dashboard (dashboards/owui-chaos-k6.json) reads both
// engines (dashboards/README.md):
//   counters           → `k6_<name>_total`
//   gauges             → `k6_<name>`
//   time trends (ms)   → classic histogram `k6_<name>_seconds` (seconds), plus the cumulative
//                        trend-stat gauges `k6_<name>_p50|_p95|_p99|_max` (seconds) k6 sends
//   other trends/rates → classic histogram `k6_<name>`, plus the same trend-stat gauges
// k6 sends native histograms; prom-client exposes classic ones (`_bucket{le}`), which is why every
// latency query on the dashboard has a classic-histogram alternative.
// Labels: `client` (api/browser), `phase` (baseline, fault, recovery), `fault` (the names of the
// faults injected when the sample arrived, comma-separated), `testid` (the run id), and for
// counters the sample's `outcome`, `status` and `endpoint`.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram as PromHistogram, Registry, collectDefaultMetrics } from 'prom-client';
import { UsageError } from '../core/errors.js';
import { METRICS, METRIC_NAMES, isMetricName, type MetricName } from '../core/metrics.js';
import {
  newHistogram,
  percentileOf,
  recordScaled,
  recordingScale,
  type Histogram,
} from '../core/report/histogram.js';
import type { Sample } from '../core/samples.js';

export const PROMETHEUS_PREFIX = 'k6_';

const SERIES_LABELS = ['client', 'phase', 'fault', 'testid'] as const;
const COUNTER_LABELS = [...SERIES_LABELS, 'outcome', 'status', 'endpoint'] as const;
const TREND_STATS = [
  ['p50', 50],
  ['p95', 95],
  ['p99', 99],
  ['max', 100],
] as const;

/** Seconds: from a fast local hop to the 120 s stream timeout. */
const TIME_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60, 120];
const TOKEN_BUCKETS = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500];
const RATIO_BUCKETS = [0, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1];

export interface ListenAddress {
  host: string;
  port: number;
}

/** `PORT`, `:PORT` or `HOST:PORT` (port 0 = a free one). The host defaults to 127.0.0.1. */
export function parseListenAddress(flag: string, text: string): ListenAddress {
  const m = /^(?:(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)?:)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new UsageError(`${flag} ${text} is not an address to listen on; use e.g. 127.0.0.1:9464 or 0`, {
      code: 'BAD_LISTEN_ADDRESS',
      suggestions: [`${flag} 127.0.0.1:0   # any free port; the URL is printed at start`],
    });
  }
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}

interface TrendSeries {
  labels: Record<string, string>;
  hist: Histogram;
}

export class PrometheusMetrics {
  readonly registry = new Registry();
  private readonly counters = new Map<MetricName, Counter>();
  private readonly gauges = new Map<MetricName, Gauge>();
  private readonly histograms = new Map<MetricName, { h: PromHistogram; divisor: number }>();
  /** Cumulative HDR histograms per trend and label set, for the trend-stat gauges. */
  private readonly trends = new Map<MetricName, Map<string, TrendSeries>>();
  private phase = 'baseline';
  private faults: string[] = [];
  private server: Server | undefined;
  /** Samples observed (for tests and the progress line). */
  observed = 0;
  /** `gameday --annotate prometheus`: 1 while a fault is injected, 0 after (docs/gameday.md). */
  private readonly faultActive = new Gauge({
    name: 'owui_chaos_fault_active',
    help: 'game day: 1 while the fault is injected, 0 once reverted (an annotation query for Grafana)',
    labelNames: ['fault', 'action', 'run'],
    registers: [this.registry],
  });
  private readonly notesTotal = new Counter({
    name: 'owui_chaos_notes_total',
    help: 'game day: notes written (hypotheses and observations)',
    labelNames: ['kind', 'run'],
    registers: [this.registry],
  });

  /** The `testid` label (the run id; settable once the run directory is known). */
  constructor(public testid: string) {
    collectDefaultMetrics({ register: this.registry });
    for (const name of METRIC_NAMES) {
      const def = METRICS[name];
      const help = `${def.definition} (owui-chaos, DESIGN §5)`;
      if (def.kind === 'counter') {
        this.counters.set(
          name,
          new Counter({
            name: `${PROMETHEUS_PREFIX}${name}_total`,
            help,
            labelNames: COUNTER_LABELS,
            registers: [this.registry],
          }),
        );
      } else if (def.kind === 'gauge') {
        this.gauges.set(
          name,
          new Gauge({
            name: `${PROMETHEUS_PREFIX}${name}`,
            help,
            labelNames: SERIES_LABELS,
            registers: [this.registry],
          }),
        );
      } else {
        const time = def.unit === 'ms';
        this.histograms.set(name, {
          h: new PromHistogram({
            name: `${PROMETHEUS_PREFIX}${name}${time ? '_seconds' : ''}`,
            help,
            labelNames: SERIES_LABELS,
            buckets: time ? TIME_BUCKETS : def.unit === 'ratio' ? RATIO_BUCKETS : TOKEN_BUCKETS,
            registers: [this.registry],
          }),
          divisor: time ? 1000 : 1,
        });
        this.trends.set(name, new Map());
        const scale = recordingScale(def.unit);
        const series = this.trends.get(name)!;
        for (const [stat, p] of TREND_STATS) {
          new Gauge({
            name: `${PROMETHEUS_PREFIX}${name}_${stat}`,
            help: `${stat} of ${name} since the series started (as k6's trend stats)${time ? ', seconds' : ''}`,
            labelNames: SERIES_LABELS,
            registers: [this.registry],
            collect() {
              this.reset();
              for (const s of series.values()) {
                const v = percentileOf(s.hist, p, scale);
                if (v !== undefined) this.set(s.labels, time ? v / 1000 : v);
              }
            },
          });
        }
      }
    }
  }

  /** A fault window opens (`--annotate prometheus`). */
  faultInjected(fault: string, action: string): void {
    this.faultActive.set({ fault, action, run: this.testid }, 1);
  }

  /** A fault window closes (`--annotate prometheus`). */
  faultReverted(fault: string, action: string): void {
    this.faultActive.set({ fault, action, run: this.testid }, 0);
  }

  /** A note was written (`--annotate prometheus`). */
  noted(kind: string): void {
    this.notesTotal.inc({ kind, run: this.testid });
  }

  /** The phase and the faults injected now; later samples carry them as labels. */
  setPhase(phase: string, faults: string[]): void {
    this.phase = phase;
    this.faults = [...faults].sort();
  }

  observe(sample: Sample): void {
    if (!isMetricName(sample.metric)) return;
    const name = sample.metric;
    this.observed++;
    const labels: Record<string, string> = {
      phase: this.phase,
      fault: this.faults.join(','),
      testid: this.testid,
    };
    if (sample.tags.client) labels.client = sample.tags.client;
    const counter = this.counters.get(name);
    if (counter) {
      for (const key of ['outcome', 'status', 'endpoint'] as const) {
        const v = sample.tags[key];
        if (v !== undefined) labels[key] = v;
      }
      if (sample.value > 0) counter.inc(labels, sample.value);
      else counter.inc(labels, 0); // the series exists from its first sample, as a k6 counter's does
      return;
    }
    const gauge = this.gauges.get(name);
    if (gauge) {
      gauge.set(labels, sample.value);
      return;
    }
    const hist = this.histograms.get(name);
    if (!hist) return;
    hist.h.observe(labels, sample.value / hist.divisor);
    const key = JSON.stringify(labels);
    const series = this.trends.get(name)!;
    let s = series.get(key);
    if (!s) {
      s = { labels, hist: newHistogram(true) };
      series.set(key, s);
    }
    recordScaled(s.hist, sample.value, recordingScale(METRICS[name].unit));
  }

  /** Starts `/metrics`; resolves with its URL. */
  async listen(address: ListenAddress): Promise<string> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || !req.url || !req.url.startsWith('/metrics')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('owui-chaos serves /metrics only\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
      );
    });
    this.server = server;
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
    const { port } = server.address() as AddressInfo;
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    return `http://${host}:${port}/metrics`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
    for (const series of this.trends.values()) for (const s of series.values()) s.hist.destroy();
    this.trends.clear();
  }
}

/** Follows a run's events to label samples by phase and fault (DESIGN §7 phases). */
export function phaseTracker(metrics: PrometheusMetrics): {
  injected(name: string): void;
  reverted(name: string): void;
} {
  const active = new Set<string>();
  let anyFault = false;
  const update = (): void =>
    metrics.setPhase(active.size > 0 ? 'fault' : anyFault ? 'recovery' : 'baseline', [...active]);
  return {
    injected(name) {
      anyFault = true;
      active.add(name);
      update();
    },
    reverted(name) {
      active.delete(name);
      update();
    },
  };
}
