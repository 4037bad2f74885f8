// The built-in load engine (DESIGN §2 "engines", §5): NodeLoadEngine implements core's LoadEngine.
//
// Contract:
// - `run(plan, sink, {signal, onProgress})` provisions credentials once (provisioning.ts) unless
//   given, splits the plan over worker threads (one per core by default; `workers: 0` runs inline
//   in this thread), starts them together, and resolves when every worker has finished: that is
//   `plan.durationMs` after the start plus the time to cancel in-flight streams and close sockets.
//   Aborting `signal` stops every worker early the same way (in-flight streams → `cancelled`).
// - Workers send NDJSON sample batches; they reach `sink.writeRaw` as-is when the sink has it
//   (NdjsonFileSink), else they are parsed and passed to `sink.write`. One sink, one file.
// - Every `progressIntervalMs` (1 s) this thread writes `active_streams` and `active_sockets`
//   gauges and calls `onProgress` (elapsed, active streams and sockets, completed, errors, p95
//   ttft over the last 10 s).
// - Plan semantics: `chat.vus` → closed model (think time `chat.thinkTimeMs`, ramp stages from the
//   engine option `chatStages`); `chat.ratePerSecond` → open model capped at `chat.maxInFlight`
//   in flight (default 10 × rate). `sockets.chatIntervalMs`: absent → each browser client chats
//   back to back; > 0 → one chat start per interval; ≤ 0 → idle clients (connect, join,
//   heartbeat only). `sockets.schedule: 'open'` with an interval > 0: each client on its own
//   schedule (user-schedule.ts), the phases spread over all the plan's clients; `'think'`: the
//   interval is think time after each chat ends (a closed loop).
// - `setLoad(change)` while a run goes on changes it live (docs/gameday.md): the new chat VU
//   count (closed model), chat rate (open model) or browser-client count is split over the
//   workers like the plan's and sent to each (a message to a worker thread); nothing restarts.
//   A change the plan cannot take (a rate for a closed-model plan, browser clients for a plan
//   without them) is a UsageError.
// - Fails with LoadGeneratorError when a worker crashes or does not finish within
//   `plan.durationMs + finishGraceMs`; with PreflightError from provisioning.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { LoadGeneratorError, UsageError } from '../../core/errors.js';
import type { MetricName } from '../../core/metrics.js';
import type { LiveLoad, LoadEngine, LoadPlan, LoadProgress } from '../../core/ports.js';
import { parseSampleLine, type SampleSink } from '../../core/samples.js';
import { createAgent, type StreamTransport } from './http.js';
import { isRawSampleSink } from './ndjson-file-sink.js';
import { provisionCredentials, type AuthSource, type Credentials } from './provisioning.js';
import { REFERENCE_OPENWEBUI_VERSION } from '../../protocol/openwebui.js';
import {
  runShare,
  zeroCounters,
  type Pacing,
  type ShareCounters,
  type ShareLoad,
  type ShareSpec,
  type ShareStats,
} from './share.js';
import type { LoopFigures } from './loop-probe.js';
import { LiveValue, type Stage } from './workload.js';

export interface NodeEngineOptions {
  /** How to get credentials; or `credentials` already provisioned. Neither: no auth (e.g. the mock LLM directly). */
  auth?: AuthSource;
  credentials?: Credentials;
  /** Worker threads; default one per core. 0 runs everything in the calling thread. */
  workers?: number;
  /** Chat endpoint path; default `/api/chat/completions`. The mock LLM directly: `/v1/chat/completions`. */
  chatPath?: string;
  /** Check integrity against the mock LLM's ground truth (default true); false against a real model ("unverified"). */
  verify?: boolean;
  /** Pacing asked of the mock LLM in each prompt's directive. */
  pacing?: Pacing;
  /** Closed-model ramp; the plan's `chat.vus` is then the starting VU count. */
  chatStages?: Stage[];
  /** Per-stream and per-chat timeout. Default 120 s. */
  streamTimeoutMs?: number;
  /** Spread the first socket connects over this long. Default min(5 s, duration / 4). */
  socketRampMs?: number;
  progressIntervalMs?: number;
  /** Extra time after the deadline for workers to cancel and close. Default 30 s. */
  finishGraceMs?: number;
  /**
   * Measure each worker's event-loop delay and GC pauses (the engine bench): `loopLog` then holds
   * one entry per worker per stats interval (250 ms). Costs ~1 % of a core per worker.
   */
  probeLoop?: boolean;
  /**
   * What carries the API chat streams: `builtin` (default, stream-connection.ts) or `undici`
   * (the bench's A/B, or a fallback for a server our HTTP/1.1 reader mishandles).
   */
  streamTransport?: StreamTransport;
}

/** One worker's event-loop figures over one stats interval, received at `atMs`. */
export interface LoopLogEntry extends LoopFigures {
  atMs: number;
  worker: number;
}

export interface LoadTotals {
  completed: number;
  errors: number;
  cancelled: number;
  unverified: number;
  missedStarts: number;
  disconnects: number;
  reconnects: number;
  workers: number;
  credentials: { version: string; users: number; signIns: number };
}

interface WorkerMessage {
  type: 'ready' | 'samples' | 'stats' | 'done' | 'error';
  /** NDJSON batch (UTF-8, whole lines), transferred from the worker. */
  bytes?: Uint8Array;
  stats?: ShareStats;
  message?: string;
  stack?: string;
}

export class NodeLoadEngine implements LoadEngine {
  readonly name = 'node';
  /** Totals of the last run (for summaries and tests). */
  lastTotals: LoadTotals | undefined;
  /** With the option `probeLoop`: the workers' event-loop figures of the last run, in arrival order. */
  loopLog: LoopLogEntry[] = [];

  /** Sends a live change to the run in progress (set while one runs). */
  private control: ((load: LiveLoad) => void) | undefined;

  constructor(private readonly opts: NodeEngineOptions = {}) {}

  setLoad(load: LiveLoad): void {
    if (!this.control) throw new UsageError('no load is running to change', { code: 'NO_LOAD_RUNNING' });
    this.control(load);
  }

  async run(
    plan: LoadPlan,
    sink: SampleSink,
    runOpts: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void } = {},
  ): Promise<void> {
    validatePlan(plan);
    const credentials = this.opts.credentials ?? (await this.provision(plan, runOpts.signal));
    const sockets = plan.sockets && plan.sockets.vus > 0 ? plan.sockets : undefined;
    if (sockets && credentials.users.length === 0) {
      throw new UsageError(
        `${sockets.vus} browser clients need user accounts, but the target gives none (API keys cannot open a socket)`,
        {
          code: 'NO_SOCKET_USERS',
          suggestions: [
            'Set auth.admin with auth.users.provision, or auth.users.existing, in the target file.',
          ],
        },
      );
    }
    const shares = this.split(plan, credentials);
    const decoder = new TextDecoder();
    const write = isRawSampleSink(sink)
      ? (batch: Uint8Array) => sink.writeRaw(batch)
      : (batch: Uint8Array) => {
          for (const line of decoder.decode(batch).split('\n')) {
            const s = parseSampleLine(line);
            if (s) sink.write(s.metric as MetricName, s.timeMs, s.value, s.tags);
          }
        };
    const latest = new Map<number, ShareStats>();
    const ttftWindow: { t: number; v: number }[] = [];
    this.loopLog = [];
    const onStats = (s: ShareStats): void => {
      latest.set(s.index, s);
      const t = Date.now();
      if (s.loop) this.loopLog.push({ atMs: t, worker: s.index, ...s.loop });
      for (const v of s.ttfts) ttftWindow.push({ t, v });
    };
    let startedAt = Date.now();
    const tick = (): void => {
      const now = Date.now();
      const total = sumStats([...latest.values()]);
      sink.write('active_streams', now, total.activeStreams, {});
      sink.write('active_sockets', now, total.activeSockets, {});
      while (ttftWindow.length > 0 && (ttftWindow[0] as { t: number }).t < now - 10_000) ttftWindow.shift();
      if (ttftWindow.length > 20_000) ttftWindow.splice(0, ttftWindow.length - 20_000);
      const progress: LoadProgress = {
        elapsedMs: now - startedAt,
        activeStreams: total.activeStreams,
        activeSockets: total.activeSockets,
        completed: total.completed,
        errors: total.errors,
      };
      const p95 = percentile(
        ttftWindow.map((x) => x.v),
        0.95,
      );
      if (p95 !== undefined) progress.ttftP95Ms = p95;
      runOpts.onProgress?.(progress);
    };
    let ticker: NodeJS.Timeout | undefined;
    const controls = shares.map(() => new LiveValue<ShareLoad | undefined>(undefined));
    let send = (i: number, load: ShareLoad): void => controls[i]?.set(load);
    this.control = (load) => {
      const parts = liveShares(plan, shares, credentials, load);
      parts.forEach((part, i) => send(i, part));
    };
    try {
      if (this.opts.workers === 0) {
        ticker = setInterval(tick, this.opts.progressIntervalMs ?? 1000);
        const signal = runOpts.signal ?? new AbortController().signal;
        await Promise.all(
          shares.map((spec, i) => runShare(spec, { samples: write, stats: onStats }, signal, controls[i])),
        );
      } else {
        await this.runWorkers(
          shares,
          plan,
          write,
          onStats,
          runOpts.signal,
          () => {
            startedAt = Date.now();
            ticker = setInterval(tick, this.opts.progressIntervalMs ?? 1000);
          },
          (post) => {
            send = post;
          },
        );
      }
    } finally {
      this.control = undefined;
      if (ticker) clearInterval(ticker);
    }
    tick();
    const total = sumStats([...latest.values()]);
    this.lastTotals = {
      completed: total.completed,
      errors: total.errors,
      cancelled: total.cancelled,
      unverified: total.unverified,
      missedStarts: total.missedStarts,
      disconnects: total.disconnects,
      reconnects: total.reconnects,
      workers: shares.length,
      credentials: {
        version: credentials.version,
        users: credentials.users.length,
        signIns: credentials.signIns,
      },
    };
  }

  private async provision(plan: LoadPlan, signal?: AbortSignal): Promise<Credentials> {
    if (!this.opts.auth)
      return { version: REFERENCE_OPENWEBUI_VERSION, apiTokens: [], users: [], signIns: 0 };
    const agent = createAgent(8);
    try {
      return await provisionCredentials(agent, plan.baseUrl, this.opts.auth, signal ? { signal } : {});
    } finally {
      await agent.close().catch(() => undefined);
    }
  }

  /** Splits the plan over workers: VUs, sockets and in-flight caps divided, open arrivals interleaved. */
  split(plan: LoadPlan, credentials: Credentials): ShareSpec[] {
    const cores = availableParallelism();
    const wanted = this.opts.workers === 0 ? 1 : Math.max(1, this.opts.workers ?? cores);
    const chat = plan.chat;
    const socketVus = plan.sockets?.vus ?? 0;
    const stageMax = Math.max(0, ...(this.opts.chatStages ?? []).map((s) => s.target));
    const units = Math.max(
      chat?.ratePerSecond !== undefined ? wanted : Math.max(chat?.vus ?? 0, stageMax),
      socketVus,
      1,
    );
    const n = Math.min(wanted, units);
    const part = (total: number, i: number): number =>
      Math.floor((total * (i + 1)) / n) - Math.floor((total * i) / n);
    const timeoutMs = this.opts.streamTimeoutMs ?? 120_000;
    const shares: ShareSpec[] = [];
    let socketOffset = 0;
    for (let i = 0; i < n; i++) {
      const spec: ShareSpec = {
        index: i,
        baseUrl: plan.baseUrl,
        model: plan.model,
        durationMs: plan.durationMs,
        verify: this.opts.verify ?? true,
        version: credentials.version,
        apiTokens: credentials.apiTokens,
        connections: 1,
      };
      if (this.opts.chatPath !== undefined) spec.chatPath = this.opts.chatPath;
      if (this.opts.pacing) spec.pacing = this.opts.pacing;
      if (this.opts.probeLoop) spec.probeLoop = true;
      if (this.opts.streamTransport) spec.streamTransport = this.opts.streamTransport;
      let streams = 0;
      if (chat) {
        if (chat.ratePerSecond !== undefined) {
          const cap = chat.maxInFlight ?? Math.max(10, Math.ceil(chat.ratePerSecond * 10));
          const maxInFlight = Math.max(1, Math.ceil(cap / n));
          spec.chat = {
            ratePerSecond: chat.ratePerSecond / n,
            phaseMs: (1000 / chat.ratePerSecond) * i,
            maxInFlight,
            tokens: chat.tokens,
            timeoutMs,
          };
          streams = maxInFlight;
        } else {
          const stages = this.opts.chatStages?.map((s) => ({
            durationMs: s.durationMs,
            target: part(s.target, i),
          }));
          spec.chat = {
            vus: part(chat.vus ?? 0, i),
            maxInFlight: part(chat.vus ?? 0, i),
            tokens: chat.tokens,
            timeoutMs,
            thinkTimeMs: chat.thinkTimeMs ?? 0,
          };
          if (stages && stages.length > 0) {
            spec.chat.stages = stages;
            spec.chat.startVus = spec.chat.vus ?? 0;
            streams = Math.max(spec.chat.startVus, ...stages.map((s) => s.target));
          } else streams = spec.chat.vus ?? 0;
        }
      }
      const mySockets = part(socketVus, i);
      // Every share of a plan with browser clients can take more of them live (docs/gameday.md).
      if (plan.sockets && socketVus > 0) {
        const users = Array.from(
          { length: mySockets },
          (_, k) => credentials.users[(socketOffset + k) % credentials.users.length]!,
        );
        socketOffset += mySockets;
        spec.sockets = {
          users,
          tokens: plan.sockets.tokens,
          timeoutMs,
          rampMs: this.opts.socketRampMs ?? Math.min(5000, plan.durationMs / 4),
        };
        if (plan.sockets.chatIntervalMs !== undefined)
          spec.sockets.chatIntervalMs = plan.sockets.chatIntervalMs;
        if (plan.sockets.schedule === 'open' || plan.sockets.schedule === 'think')
          spec.sockets.open = { firstUser: socketOffset - mySockets, totalUsers: socketVus };
        if (plan.sockets.schedule === 'think') spec.sockets.think = true;
        if (plan.sockets.origin !== undefined) spec.sockets.origin = plan.sockets.origin;
        if (plan.sockets.eventGraceMs !== undefined) spec.sockets.eventGraceMs = plan.sockets.eventGraceMs;
      }
      // One connection per concurrent stream, plus the sockets' side requests (version, chat POST).
      spec.connections = Math.max(4, streams + Math.ceil(mySockets / 4));
      shares.push(spec);
    }
    return shares;
  }

  private runWorkers(
    shares: ShareSpec[],
    plan: LoadPlan,
    write: (batch: Uint8Array) => void,
    onStats: (s: ShareStats) => void,
    signal: AbortSignal | undefined,
    onStart: () => void,
    onControl: (post: (i: number, load: ShareLoad) => void) => void,
  ): Promise<void> {
    const workers = shares.map((spec) => startWorker(spec));
    onControl((i, load) => workers[i]?.postMessage({ type: 'load', load }));
    return new Promise<void>((resolve, reject) => {
      let ready = 0;
      let done = 0;
      let failed = false;
      let guard: NodeJS.Timeout | undefined;
      const finish = (error?: Error): void => {
        if (failed) return;
        if (error) failed = true;
        if (!error && done < workers.length) return;
        clearTimeout(guard);
        signal?.removeEventListener('abort', onAbort);
        // Workers close their own port at the end; terminate() reclaims a stuck one.
        Promise.all(workers.map((w) => w.terminate().catch(() => undefined))).then(
          () => (error ? reject(error) : resolve()),
          reject,
        );
      };
      const onAbort = (): void => {
        for (const w of workers) w.postMessage({ type: 'stop' });
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      workers.forEach((w, i) => {
        w.on('message', (m: WorkerMessage) => {
          switch (m.type) {
            case 'ready':
              if (++ready === workers.length) {
                const atMs = Date.now() + 50;
                for (const x of workers) x.postMessage({ type: 'start', atMs });
                onStart();
                if (signal?.aborted) onAbort();
                guard = setTimeout(
                  () =>
                    finish(
                      new LoadGeneratorError(
                        `load workers did not finish within ${Math.round((plan.durationMs + (this.opts.finishGraceMs ?? 30_000)) / 1000)} s of the start`,
                        { code: 'WORKER_STUCK' },
                      ),
                    ),
                  plan.durationMs + (this.opts.finishGraceMs ?? 30_000),
                );
              }
              break;
            case 'samples':
              if (m.bytes) write(m.bytes);
              break;
            case 'stats':
              if (m.stats) onStats(m.stats);
              break;
            case 'done':
              done++;
              finish();
              break;
            case 'error':
              finish(
                new LoadGeneratorError(`load worker ${i} failed: ${m.message ?? 'unknown error'}`, {
                  code: 'WORKER_FAILED',
                  cause: m.stack,
                }),
              );
              break;
          }
        });
        w.on('error', (err) =>
          finish(
            new LoadGeneratorError(`load worker ${i} crashed: ${err.message}`, {
              code: 'WORKER_CRASHED',
              cause: err,
            }),
          ),
        );
        w.on('exit', (code) => {
          if (done < workers.length && !failed && code !== 0)
            finish(
              new LoadGeneratorError(`load worker ${i} exited with code ${code}`, { code: 'WORKER_EXITED' }),
            );
        });
      });
    });
  }
}

/**
 * V8's memory reducer runs a full GC of an isolate some seconds after its allocation rate drops,
 * to shrink its heap: about 60 ms per worker, which stalls every socket the worker reads and was
 * 28 % of the workers' busy time with 1,000 idle browser clients (docs/engine-bench.md, "Idle
 * heap shrinking"). A load generator keeps its heap instead. The flag is read when an isolate's
 * heap is set up, so it reaches the workers started after it (and leaves the main thread's alone).
 */
let heapFlagSet = false;
function noIdleHeapShrinking(): void {
  if (heapFlagSet) return;
  heapFlagSet = true;
  setFlagsFromString('--no-memory-reducer');
}

/**
 * From dist/*.js a worker runs worker.js plainly. From src/*.ts (vitest, tsx) it must load
 * TypeScript: `execArgv: ['--import', 'tsx']` does not reach worker threads on Node 20 (module
 * hooks registered by --import stay on the main thread), so a tiny ESM bootstrap registers tsx's
 * loader in the worker through its public API and then imports worker.ts.
 */
function startWorker(spec: ShareSpec): Worker {
  noIdleHeapShrinking();
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./worker.js', import.meta.url), { workerData: spec });
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports?: Record<string, { import?: { default?: string } }>;
  };
  const api = pathToFileURL(
    join(dirname(pkgPath), pkg.exports?.['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs'),
  ).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData: spec });
}

/** `part` of `total` for share `i` of `n`: the shares' parts add up to the total. */
function partOf(total: number, i: number, n: number): number {
  return Math.floor((total * (i + 1)) / n) - Math.floor((total * i) / n);
}

/**
 * A live change split over the shares like the plan (`split`): VUs and browser clients divided,
 * open arrivals interleaved at the new rate. Throws UsageError for a change the plan cannot take.
 */
export function liveShares(
  plan: LoadPlan,
  shares: readonly ShareSpec[],
  credentials: Credentials,
  load: LiveLoad,
): ShareLoad[] {
  const n = shares.length;
  const chat = plan.chat;
  if (load.chatVus !== undefined && !(chat && chat.ratePerSecond === undefined))
    throw new UsageError(
      'chatVus (API chat concurrency) changes a closed-model plan (`chat.vus`); this plan has none',
      {
        code: 'LOAD_CHANGE_KIND',
        suggestions: [chat ? 'change chatRate instead' : 'the plan has no API chat load'],
      },
    );
  if (load.chatRate !== undefined && chat?.ratePerSecond === undefined)
    throw new UsageError(
      'chatRate (API chat arrivals per second) changes an open-model plan (`chat.rate`); this plan has none',
      {
        code: 'LOAD_CHANGE_KIND',
        suggestions: [chat ? 'change chatVus instead' : 'the plan has no API chat load'],
      },
    );
  if (load.socketVus !== undefined && !(plan.sockets && plan.sockets.vus > 0 && credentials.users.length > 0))
    throw new UsageError('socketVus (browser clients) changes a plan with `sockets`; this plan has none', {
      code: 'LOAD_CHANGE_KIND',
    });
  let socketOffset = 0;
  return shares.map((_, i) => {
    const part: ShareLoad = {};
    if (load.chatVus !== undefined) part.chatVus = partOf(load.chatVus, i, n);
    if (load.chatRate !== undefined) {
      const rate = load.chatRate;
      const cap = chat?.maxInFlight ?? Math.max(10, Math.ceil(rate * 10));
      part.chatRate = {
        ratePerSecond: rate / n,
        phaseMs: (1000 / rate) * i,
        maxInFlight: Math.max(1, Math.ceil(cap / n)),
      };
    }
    if (load.socketVus !== undefined) {
      const mine = partOf(load.socketVus, i, n);
      part.socketUsers = Array.from(
        { length: mine },
        (_u, k) => credentials.users[(socketOffset + k) % credentials.users.length]!,
      );
      socketOffset += mine;
    }
    return part;
  });
}

function validatePlan(plan: LoadPlan): void {
  if (!(plan.durationMs > 0))
    throw new UsageError(`load duration must be positive, got ${plan.durationMs} ms`, {
      code: 'BAD_DURATION',
    });
  if (plan.chat && plan.chat.vus !== undefined && plan.chat.ratePerSecond !== undefined) {
    throw new UsageError('give either chat VUs (closed model) or a chat rate (open model), not both', {
      code: 'BAD_WORKLOAD',
    });
  }
}

function sumStats(all: ShareStats[]): ShareCounters {
  const t = zeroCounters();
  for (const s of all) {
    for (const key of Object.keys(t) as Array<keyof ShareCounters>) t[key] += s[key];
  }
  return t;
}

/** Nearest-rank percentile; undefined for no values. */
export function percentile(values: number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
