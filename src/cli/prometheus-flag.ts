// The `--prometheus HOST:PORT` flag shared by `run`, `load` and `gameday`: starts the /metrics
// endpoint (src/app/prometheus-metrics.ts), prints its URL, and gives the command what to wire:
// a tapped sample sink and a run-event hook that labels samples by phase and fault.

import { basename, dirname } from 'node:path';
import { Flags } from '@oclif/core';
import type { RunEvent } from '../core/runner/runner.js';
import { PrometheusMetrics, parseListenAddress, phaseTracker } from '../app/prometheus-metrics.js';
import { tappedSinkFactory } from '../app/sample-tap.js';
import type { NdjsonFileSink } from '../engines/node/ndjson-file-sink.js';

export const prometheusFlag = Flags.string({
  description:
    'serve Prometheus metrics on HOST:PORT/metrics while this runs (port 0 = a free port; the URL is printed)',
  helpValue: '127.0.0.1:PORT',
});

export interface LivePrometheus {
  metrics: PrometheusMetrics;
  url: string;
  /** The sample file's sink; the `testid` label becomes the run directory's name. */
  sampleSink: (path: string) => NdjsonFileSink;
  onRunEvent(e: RunEvent): void;
  close(): Promise<void>;
}

/** Starts the endpoint when the flag is given; its URL goes to stderr (also in `--json` mode). */
export async function startPrometheus(
  value: string | undefined,
  say: (text: string) => void = (t) => process.stderr.write(`${t}\n`),
): Promise<LivePrometheus | undefined> {
  if (value === undefined) return undefined;
  const address = parseListenAddress('--prometheus', value);
  const metrics = new PrometheusMetrics('');
  const url = await metrics.listen(address);
  say(`prometheus: metrics at ${url}`);
  const tap = tappedSinkFactory([(s) => metrics.observe(s)]);
  const phases = phaseTracker(metrics);
  return {
    metrics,
    url,
    sampleSink: (path) => {
      metrics.testid = basename(dirname(path));
      return tap(path);
    },
    onRunEvent(e) {
      if (e.type === 'inject-done') phases.injected(e.name);
      else if (e.type === 'revert-done' || e.type === 'revert-failed') phases.reverted(e.name);
    },
    close: () => metrics.close(),
  };
}
