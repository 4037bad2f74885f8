// `owui-chaos load`: runs load only (no faults) against a target, writes `samples.ndjson` (k6 Point
// shape) into the run directory and prints a per-metric summary and the SLO verdict.
// Thin: parse flags, wire Ctrl-C and progress, render. The work is in src/app/load.ts.

import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { durationFlag, rateFlag } from '../cli/flags.js';
import { progressPrinter } from '../cli/progress.js';
import { prometheusFlag, startPrometheus } from '../cli/prometheus-flag.js';
import { LOAD_DEFAULTS } from '../core/config/experiment.js';
import { ONE_WEEK_MS } from '../core/config/limits.js';
import { LAB_TARGET } from '../core/config/target.js';
import { UsageError } from '../core/errors.js';
import type { LoadProgress } from '../core/ports.js';
import { renderMetricSummary, renderTerminalSummary } from '../core/report/terminal.js';
import type { LoadTotals } from '../engines/node/engine.js';
import { MOCK_MODEL_ID } from '../protocol/ground-truth.js';
import { runLoad, type LoadSummary } from '../app/load.js';

export type { MetricSummary } from '../core/report/metric-summary.js';

export type LoadResult = Omit<LoadSummary, 'results'>;

export default class Load extends BaseCommand {
  static override summary = 'Run load only (chat streams and browser sockets) and summarise it';
  static override description =
    'Drives SSE chat streams (API clients) and Socket.IO browser clients against the target with the built-in Node engine, writes samples.ndjson (k6 --out json Point shape) into --out, and prints count, p50, p95, p99 and max per metric plus stream outcomes. Integrity is verified against the mock LLM ground truth when the target model is the lab mock (owui-chaos-mock). A bare number in a duration flag is seconds (`--duration 60` is one minute).';
  static override examples = [
    '<%= config.bin %> load --chat-vus 50 --socket-vus 100 --duration 60s',
    '<%= config.bin %> load --target ./prod-target.yaml --chat-rate 5/s --duration 2m --out ./runs/load1',
    '<%= config.bin %> load --socket-vus 1000 --socket-chat-interval 0 --duration 5m --json',
  ];

  static override flags = {
    target: Flags.string({
      description: '`lab` (the running lab’s target file) or a target file',
      default: LAB_TARGET,
    }),
    'chat-vus': Flags.integer({
      description: 'closed model: API virtual users streaming chats back to back',
      min: 1,
      exclusive: ['chat-rate'],
    }),
    'chat-rate': rateFlag({
      description: 'open model: chat arrivals such as `5/s` or `300/m` (a bare number is per second)',
      exclusive: ['chat-vus'],
    }),
    'max-in-flight': Flags.integer({
      description: 'open model: cap on chats in flight (default 10 × rate)',
      min: 1,
    }),
    'think-time': durationFlag({
      description: 'closed model: pause between a VU’s chats (as in experiments)',
      default: `${LOAD_DEFAULTS.thinkTimeMs / 1000}s`,
    }),
    'socket-vus': Flags.integer({ description: 'browser clients (Socket.IO, socket-mode chats)', min: 0 }),
    'socket-chat-interval': durationFlag({
      description:
        'one chat per browser client every interval; `0` = idle clients (connect, join, heartbeat)',
      default: `${LOAD_DEFAULTS.chatIntervalMs / 1000}s`,
    }),
    duration: durationFlag({
      description: 'how long to run, e.g. `60s`, `5m` (a bare number is seconds)',
      default: '60s',
      positive: true,
    }),
    'allow-long': Flags.boolean({ description: 'allow a --duration longer than a week' }),
    tokens: Flags.integer({ description: 'tokens per reply (mock LLM directive)', default: 120, min: 1 }),
    tps: Flags.integer({
      description: 'mock LLM pacing in tokens per second (default: the mock’s own)',
      min: 1,
    }),
    workers: Flags.integer({
      description: 'worker threads (default: one per core; 0 = run in the main thread)',
      min: 0,
    }),
    verify: Flags.boolean({
      description:
        'check integrity against the mock LLM ground truth (default: on when the model is ' +
        MOCK_MODEL_ID +
        ')',
      allowNo: true,
    }),
    'lab-name': Flags.string({ description: 'lab name for `--target lab`', default: 'default' }),
    engine: Flags.string({
      description: 'load engine: the built-in Node engine or k6 (bundled scenarios, `k6 run --out json`)',
      options: ['node', 'k6'],
      default: 'node',
    }),
    'k6-binary': Flags.string({ description: 'k6 executable for `--engine k6` (default: k6 on PATH)' }),
    prometheus: prometheusFlag,
    slo: Flags.string({
      description:
        'SLO file (a list, or a mapping with `slos:`) judged over the whole run, on top of the defaults; exit 10 on a breach',
    }),
    'no-default-slos': Flags.boolean({
      description: 'do not apply experiments/slos/default.yaml (only --slo FILE gates)',
    }),
  };

  async run(): Promise<LoadResult> {
    const { flags } = await this.parse(Load);
    if (flags.duration > ONE_WEEK_MS && !flags['allow-long']) {
      throw new UsageError(
        `--duration ${Math.round(flags.duration / 1000)} s is longer than a week; pass --allow-long if that is meant`,
        { code: 'BAD_DURATION' },
      );
    }
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const progress = progressPrinter((p) => progressLine(p, flags.duration), { live: !this.jsonEnabled() });
    const prometheus = await startPrometheus(flags.prometheus);
    const socketVus = flags['socket-vus'] ?? 0;
    let summary: LoadSummary;
    try {
      summary = await runLoad({
        target: flags.target,
        labName: flags['lab-name'],
        durationMs: flags.duration,
        ...(flags['chat-vus'] !== undefined
          ? { chat: { vus: flags['chat-vus'], thinkTimeMs: flags['think-time'] } }
          : flags['chat-rate'] !== undefined
            ? {
                chat: {
                  ratePerSecond: flags['chat-rate'],
                  ...(flags['max-in-flight'] !== undefined ? { maxInFlight: flags['max-in-flight'] } : {}),
                },
              }
            : {}),
        ...(socketVus > 0
          ? { sockets: { vus: socketVus, chatIntervalMs: flags['socket-chat-interval'] } }
          : {}),
        tokens: flags.tokens,
        ...(flags.tps !== undefined ? { tokensPerSecond: flags.tps } : {}),
        ...(flags.verify !== undefined ? { verify: flags.verify } : {}),
        engine: flags.engine === 'k6' ? 'k6' : 'node',
        ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
        ...(flags['k6-binary'] !== undefined ? { k6Binary: flags['k6-binary'] } : {}),
        ...(flags.out !== undefined ? { outDir: flags.out } : {}),
        ...(flags.slo !== undefined ? { sloFile: flags.slo } : {}),
        noDefaultSlos: flags['no-default-slos'],
        signal: abort.signal,
        onProgress: (p) => progress.update(p),
        onNotice: (text) => (text.startsWith('k6 ') ? this.warn(text) : this.say(text)),
        ...(prometheus ? { sampleSink: prometheus.sampleSink } : {}),
      });
    } finally {
      progress.stop();
      await prometheus?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (!this.jsonEnabled()) {
      this.log(renderSummary(summary));
      this.log('\n' + renderTerminalSummary(summary.results, { paths: summary.reports }).trimEnd());
    }
    process.exitCode = summary.exitCode;
    const { results: _results, ...result } = summary;
    return result;
  }
}

function progressLine(p: LoadProgress, durationMs: number): string {
  const ttft = p.ttftP95Ms === undefined ? '–' : `${Math.round(p.ttftP95Ms)} ms`;
  return `${Math.round(p.elapsedMs / 1000)}/${Math.round(durationMs / 1000)} s  streams ${p.activeStreams}  sockets ${p.activeSockets}  completed ${p.completed}  errors ${p.errors}  p95 ttft ${ttft}`;
}

function renderSummary(summary: LoadSummary): string {
  const text = [renderMetricSummary(summary.metrics)];
  if (summary.malformedSamples.length > 0)
    text.push(
      `${summary.malformedSamples.length} sample line(s) were not JSON and were skipped (first: ${summary.malformedSamples[0]})`,
    );
  const totals: LoadTotals | undefined = summary.totals;
  if (totals) {
    text.push('');
    text.push(
      `completed ${totals.completed}, errors ${totals.errors}, cancelled at the deadline ${totals.cancelled}, missed starts ${totals.missedStarts}, socket disconnects ${totals.disconnects}, reconnects ${totals.reconnects}` +
        (totals.unverified > 0
          ? `, integrity unverified for ${totals.unverified} chats (no ground truth)`
          : ''),
    );
    text.push(
      `Open WebUI ${totals.credentials.version}, ${totals.credentials.users} users (${totals.credentials.signIns} sign-ins), ${totals.workers} worker thread(s)`,
    );
  }
  text.push(
    'Times in ms; ttft/e2e from the request start (intended start in the open model); garbled_token_rate and split_event_rate per stream.',
  );
  return text.join('\n');
}
