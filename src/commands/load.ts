// `owui-chaos load`: runs load only (no faults) against a target with the built-in Node engine,
// writes `samples.ndjson` (k6 Point shape) into --out and prints a per-metric summary.
// Thin: parse flags, resolve the target, wire NodeLoadEngine + NdjsonFileSink, render.

import { siteOrigin } from '../protocol/browser-session.js';
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { progressPrinter } from '../cli/progress.js';
import { prometheusFlag, startPrometheus } from '../cli/prometheus-flag.js';
import { defaultSlosFile } from '../cli/paths.js';
import { defaultsForClients, loadSloDefaults } from '../core/config/slo-defaults.js';
import { evaluateRun } from '../core/report/evaluate.js';
import { applyOutcome } from '../core/report/results.js';
import { renderTerminalSummary } from '../core/report/terminal.js';
import { writeReports } from '../core/report/write.js';
import { loadSloFile } from '../core/slo/load.js';
import { parseDuration } from '../core/clock.js';
import { parseRate } from '../core/config/duration.js';
import { MAX_TIMER_MS, ONE_WEEK_MS } from '../core/config/limits.js';
import { LAB_TARGET, loadTarget } from '../core/config/target.js';
import { ExitCode, UsageError } from '../core/errors.js';
import { METRICS, isMetricName, type MetricName } from '../core/metrics.js';
import type { LoadPlan, LoadProgress } from '../core/ports.js';
import {
  newHistogram,
  percentileOf,
  recordScaled,
  recordingScale,
  type Histogram,
} from '../core/report/histogram.js';
import { parseSampleLine } from '../core/samples.js';
import { K6LoadEngine, detectK6 } from '../engines/k6/engine.js';
import type { SloSpec } from '../core/slo/spec.js';
import { markNotMeasured } from '../engines/k6/measurable.js';
import { hasXk6Sse } from '../engines/k6/version.js';
import { NodeLoadEngine, type LoadTotals } from '../engines/node/engine.js';
import { NdjsonFileSink } from '../engines/node/ndjson-file-sink.js';
import { authSourceFromTarget } from '../engines/node/provisioning.js';
import { defaultLabStateDir, readLabState } from '../infra/lab-state.js';

/** The lab's mock LLM model id: only its answers have a ground truth to verify. */
const MOCK_MODEL = 'owui-chaos-mock';

export interface MetricSummary {
  metric: string;
  count: number;
  p50?: number;
  p95?: number;
  p99?: number;
  max?: number;
  /** Counters: sum of values by `outcome`/`status` tag where present. */
  by?: Record<string, number>;
}

export interface LoadResult {
  verdict: string;
  exitCode: number;
  headline: string;
  slos: Array<{ id: string; phase: string; verdict: string; measured: number | null; objective: string }>;
  reports: { resultsJson: string; html: string; junit: string };
  target: string;
  samplesFile: string;
  plan: LoadPlan;
  totals: LoadTotals | undefined;
  interrupted: boolean;
  metrics: MetricSummary[];
}

export default class Load extends BaseCommand {
  static override summary = 'Run load only (chat streams and browser sockets) and summarise it';
  static override description =
    'Drives SSE chat streams (API clients) and Socket.IO browser clients against the target with the built-in Node engine, writes samples.ndjson (k6 --out json Point shape) into --out, and prints count, p50, p95, p99 and max per metric plus stream outcomes. Integrity is verified against the mock LLM ground truth when the target model is the lab mock (owui-chaos-mock).';
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
    'chat-rate': Flags.string({
      description: 'open model: chat arrivals such as `5/s` or `300/m`',
      exclusive: ['chat-vus'],
    }),
    'max-in-flight': Flags.integer({
      description: 'open model: cap on chats in flight (default 10 × rate)',
      min: 1,
    }),
    'think-time': Flags.string({ description: 'closed model: pause between a VU’s chats', default: '0s' }),
    'socket-vus': Flags.integer({ description: 'browser clients (Socket.IO, socket-mode chats)', min: 0 }),
    'socket-chat-interval': Flags.string({
      description:
        'one chat per browser client every interval; `0` = idle clients (connect, join, heartbeat)',
      default: '5s',
    }),
    duration: Flags.string({ description: 'how long to run, e.g. `60s`, `5m`', default: '60s' }),
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
        'check integrity against the mock LLM ground truth (default: on when the model is owui-chaos-mock)',
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
    const durationMs = parseDurationFlag('--duration', flags.duration);
    if (durationMs > ONE_WEEK_MS && !flags['allow-long']) {
      throw new UsageError(
        `--duration ${flags.duration} is longer than a week; pass --allow-long if that is meant`,
        {
          code: 'BAD_DURATION',
        },
      );
    }
    const ratePerSecond = flags['chat-rate'] === undefined ? undefined : parseRate(flags['chat-rate']);
    if (flags['chat-rate'] !== undefined && !(ratePerSecond !== undefined && ratePerSecond > 0)) {
      throw new UsageError(
        `--chat-rate ${flags['chat-rate']} is not an arrival rate; use e.g. 5/s or 300/m`,
        { code: 'BAD_RATE' },
      );
    }
    const socketVus = flags['socket-vus'] ?? 0;
    if (flags['chat-vus'] === undefined && ratePerSecond === undefined && socketVus === 0) {
      throw new UsageError('nothing to run: give --chat-vus N, --chat-rate R/s and/or --socket-vus N', {
        code: 'NO_LOAD',
        suggestions: ['owui-chaos load --chat-vus 10 --socket-vus 20 --duration 30s'],
      });
    }

    const labTargetFile =
      flags.target === LAB_TARGET
        ? readLabState(defaultLabStateDir(flags['lab-name']))?.targetFile
        : undefined;
    const { target } = await loadTarget(flags.target, labTargetFile === undefined ? {} : { labTargetFile });
    const plan: LoadPlan = { durationMs, baseUrl: target.openwebui.url, model: target.model };
    if (flags['chat-vus'] !== undefined || ratePerSecond !== undefined) {
      plan.chat = { tokens: flags.tokens };
      if (flags['chat-vus'] !== undefined) {
        plan.chat.vus = flags['chat-vus'];
        plan.chat.thinkTimeMs = parseDurationFlag('--think-time', flags['think-time']);
      } else if (ratePerSecond !== undefined) {
        plan.chat.ratePerSecond = ratePerSecond;
        if (flags['max-in-flight'] !== undefined) plan.chat.maxInFlight = flags['max-in-flight'];
      }
    }
    if (socketVus > 0)
      plan.sockets = {
        vus: socketVus,
        tokens: flags.tokens,
        chatIntervalMs: parseDurationFlag('--socket-chat-interval', flags['socket-chat-interval']),
        origin: siteOrigin(target.openwebui.url, target.openwebui.origin),
      };

    const outDir = resolve(
      flags.out ?? join('.owui-chaos', 'runs', `load-${new Date().toISOString().replace(/[:.]/g, '-')}`),
    );
    mkdirSync(outDir, { recursive: true });
    const samplesFile = join(outDir, 'samples.ndjson');
    const prometheus = await startPrometheus(flags.prometheus);
    const sink = prometheus ? prometheus.sampleSink(samplesFile) : new NdjsonFileSink(samplesFile);
    const needUsers = Math.max(socketVus, flags['chat-vus'] ?? 0, 1);
    const auth = authSourceFromTarget(target.auth, needUsers, target.openwebui.version);
    const verify = flags.verify ?? target.model === MOCK_MODEL;
    const pacing = flags.tps !== undefined ? { pacing: { tokensPerSecond: flags.tps } } : {};
    const k6 = flags.engine === 'k6' ? await detectK6(flags['k6-binary'] ?? 'k6') : undefined;
    const engine =
      flags.engine === 'k6'
        ? new K6LoadEngine({
            auth,
            verify,
            workDir: join(outDir, 'k6'),
            onLogProblem: (p) =>
              this.warn(`k6 ${p.level}: ${p.message} (all output: ${join(outDir, 'k6', 'k6.log')})`),
            ...(flags['k6-binary'] ? { binary: flags['k6-binary'] } : {}),
            ...pacing,
          })
        : new NodeLoadEngine({
            auth,
            verify,
            ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
            ...pacing,
          });

    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const progress = progressPrinter((p) => progressLine(p, durationMs), { live: !this.jsonEnabled() });
    this.say(
      `load: ${describePlan(plan)} against ${target.openwebui.url} (${target.name}); samples → ${samplesFile}`,
    );
    try {
      await engine.run(plan, sink, {
        signal: abort.signal,
        onProgress: (p) => progress.update(p),
      });
    } finally {
      progress.stop();
      sink.close();
      await prometheus?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }

    const metrics = await summarizeSamples(samplesFile);
    if (!this.jsonEnabled())
      this.log(renderSummary(metrics, engine instanceof NodeLoadEngine ? engine.lastTotals : undefined));

    // Load gates like a run (and like k6 thresholds): the SLOs are judged over the whole run.
    const clients = { api: plan.chat !== undefined, browser: plan.sockets !== undefined };
    const defaults =
      flags['no-default-slos'] || !existsSync(defaultSlosFile())
        ? []
        : defaultsForClients(await loadSloDefaults(defaultSlosFile(), process.env), clients);
    const own = flags.slo ? await loadSloFile(flags.slo) : [];
    // What this k6 cannot measure is reported as such, not judged as "no data" (docs/k6.md).
    const measurable = (list: SloSpec[]): SloSpec[] =>
      k6 ? markNotMeasured(list, { sse: hasXk6Sse(k6) ? 'xk6' : 'plain', clients }) : list;
    const results = applyOutcome(
      await evaluateRun({
        sampleFiles: [samplesFile],
        journal: null,
        slos: measurable(own),
        defaultSlos: measurable(defaults),
      }),
      abort.signal.aborted
        ? [
            {
              reason: 'interrupted',
              code: 'INTERRUPTED',
              message: 'The load was interrupted before its duration',
              suggestions: [],
            },
          ]
        : [],
    );
    const reports = await writeReports(results, outDir);
    if (!this.jsonEnabled()) this.log('\n' + renderTerminalSummary(results, { paths: reports }).trimEnd());
    process.exitCode = abort.signal.aborted ? ExitCode.interrupted : results.exitCode;
    return {
      verdict: results.verdict,
      exitCode: results.exitCode,
      headline: results.headline,
      slos: results.slos.map((x) => ({
        id: x.id,
        phase: x.phase,
        verdict: x.verdict,
        measured: x.measured,
        objective: x.objectiveText,
      })),
      reports,
      target: target.name,
      samplesFile,
      plan,
      totals: engine instanceof NodeLoadEngine ? engine.lastTotals : undefined,
      interrupted: abort.signal.aborted,
      metrics,
    };
  }
}

function parseDurationFlag(flag: string, text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (cause) {
    throw new UsageError(`${flag} ${text} is not a duration; use e.g. 30s, 5m, 500ms`, {
      code: 'BAD_DURATION',
      cause,
    });
  }
  if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) {
    throw new UsageError(
      `${flag} ${text} is longer than Node's timers can wait (2^31−1 ms ≈ 24.8 days); use at most 24d`,
      { code: 'BAD_DURATION' },
    );
  }
  return ms;
}

function describePlan(plan: LoadPlan): string {
  const parts: string[] = [];
  if (plan.chat?.vus !== undefined) parts.push(`${plan.chat.vus} chat VUs`);
  if (plan.chat?.ratePerSecond !== undefined) parts.push(`${plan.chat.ratePerSecond} chats/s`);
  if (plan.sockets)
    parts.push(
      `${plan.sockets.vus} browser clients${(plan.sockets.chatIntervalMs ?? 1) <= 0 ? ' (idle)' : ''}`,
    );
  return `${parts.join(' + ')} for ${Math.round(plan.durationMs / 1000)} s`;
}

function progressLine(p: LoadProgress, durationMs: number): string {
  const ttft = p.ttftP95Ms === undefined ? '–' : `${Math.round(p.ttftP95Ms)} ms`;
  return `${Math.round(p.elapsedMs / 1000)}/${Math.round(durationMs / 1000)} s  streams ${p.activeStreams}  sockets ${p.activeSockets}  completed ${p.completed}  errors ${p.errors}  p95 ttft ${ttft}`;
}

/** count, p50, p95, p99, max per metric from an NDJSON sample file (HDR histograms; counters by outcome/status). */
export async function summarizeSamples(file: string): Promise<MetricSummary[]> {
  const hists = new Map<string, { h: Histogram; scale: number; count: number; by: Record<string, number> }>();
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    const s = parseSampleLine(line);
    if (!s || !isMetricName(s.metric)) continue;
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
  }
  const out: MetricSummary[] = [];
  for (const [metric, e] of [...hists.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const m: MetricSummary = { metric, count: e.count };
    const kind = METRICS[metric as MetricName].kind;
    if (kind !== 'counter') {
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
    out.push(m);
  }
  for (const { h } of hists.values()) h.destroy();
  return out;
}

function renderSummary(metrics: MetricSummary[], totals: LoadTotals | undefined): string {
  const fmt = (v: number | undefined, metric: string): string => {
    if (v === undefined) return '';
    const unit = METRICS[metric as MetricName].unit;
    if (unit === 'ratio') return v.toFixed(4);
    if (unit === 'ms') return v < 10 ? v.toFixed(2) : v.toFixed(0);
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  };
  const rows = metrics.map((m) => [
    m.metric,
    String(m.count),
    fmt(m.p50, m.metric),
    fmt(m.p95, m.metric),
    fmt(m.p99, m.metric),
    fmt(m.max, m.metric),
    m.by
      ? Object.entries(m.by)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
      : '',
  ]);
  const head = ['metric', 'count', 'p50', 'p95', 'p99', 'max', 'by outcome/status'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const text = [line(head), ...rows.map(line)];
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
