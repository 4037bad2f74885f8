// K6LoadEngine: core's LoadEngine backed by the user's k6 binary (DESIGN §2 "engines", §8).
//
// Contract:
// - Preflight: `k6 version` must run (else PreflightError `K6_NOT_FOUND` with install hints) and be
//   ≥ 0.43 (`K6_TOO_OLD`); the bundle is built for that version (target, WebSockets/timers
//   module paths) and, when `sse: 'auto'`, with xk6-sse if the binary carries it.
// - Credentials are provisioned once here (same code as the Node engine) unless given, and reach
//   k6 in a file only we can read (`OWUI_SECRETS_FILE`, mode 0600, removed when k6 ends), never in
//   the config or on the command line (which other users of the machine can read in `ps`), nor in
//   the environment: one env string may not pass 128 KiB (Linux MAX_ARG_STRLEN; ~200 users' JWTs
//   gave spawn E2BIG), and k6 copies every env var into each VU.
// - Runs `k6 run --out json=<workDir>/k6-samples.json <bundle>` and follows that file while k6
//   runs: every Point of a catalogue metric goes to the SampleSink (tags as k6 wrote them);
//   k6's `dropped_iterations` become `missed_starts`; other k6 metrics are ignored.
// - k6 exit codes are mapped to ours, never passed through (`mapK6Exit`): 0 and 99 (k6's
//   thresholds failed; owui-chaos judges SLOs itself, per phase) succeed; an invalid config is
//   usage (user K6_* settings) or our bug; a stop from outside is an interruption; every other code
//   is a LoadGeneratorError naming k6's meaning of the code (108 quotes the abort reason). Aborting `signal` sends SIGINT (k6 stops
//   gracefully, exit 105 then counts as success); k6 still running `durationMs + gracefulStop + 60 s`
//   after the start is killed (`K6_HUNG`).
// - onProgress every second: elapsed, completed and error streams, p95 ttft over the last 10 s.
//   active streams/sockets are not observable from k6's output and are reported as 0.

import { spawn, execFile, type ChildProcessByStdio } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import {
  ExitCode,
  InterruptedError,
  LoadGeneratorError,
  OwuiChaosError,
  PreflightError,
  UsageError,
  errorMessage,
} from '../../core/errors.js';
import { isMetricName, type MetricName } from '../../core/metrics.js';
import type { LoadEngine, LoadPlan, LoadProgress } from '../../core/ports.js';
import { parseSampleLine, type SampleSink } from '../../core/samples.js';
import type { SloSpec } from '../../core/slo/spec.js';
import { createAgent } from '../node/http.js';
import { provisionCredentials, type AuthSource, type Credentials } from '../node/provisioning.js';
import { REFERENCE_OPENWEBUI_VERSION } from '../../protocol/openwebui.js';
import { bundleScenarios } from './bundle.js';
import { scenarioConfigFromPlan, scenarioFor } from './plan.js';
import type { ScenarioConfig } from './scenario-config.js';
import { thresholdsFromSlos } from './thresholds.js';
import { hasXk6Sse, isSupported, MIN_K6, parseK6Version, targetFor, type K6Version } from './version.js';

export const K6_INSTALL_HINTS = [
  "Install k6: https://grafana.com/docs/k6/latest/set-up/install-k6/ (e.g. `brew install k6`, or `apt-get install k6` after adding Grafana's apt repository)",
  'Or point --k6-binary (K6LoadEngine `binary`) at a k6 executable',
  'Or use the built-in engine: --engine node',
];

export interface K6EngineOptions {
  /** k6 executable; default `k6` on PATH. */
  binary?: string;
  auth?: AuthSource;
  credentials?: Credentials;
  chatPath?: string;
  verify?: boolean;
  pacing?: ScenarioConfig['pacing'];
  /** SLOs turned into k6 thresholds (owui-chaos still evaluates them itself). */
  slos?: readonly SloSpec[];
  /** The thresholds stop k6 when crossed (k6 `abortOnFail`); see thresholds.ts. */
  abortOnFail?: boolean;
  /** `auto` (default): xk6-sse when the k6 binary has it, else plain. */
  sse?: 'plain' | 'xk6' | 'auto';
  /** Where bundles, config and k6's JSON output go; default a new temp directory. */
  workDir?: string;
  streamTimeoutMs?: number;
  gracefulStopMs?: number;
  /** Extra environment for k6 (e.g. K6_* options). */
  env?: Record<string, string>;
  progressIntervalMs?: number;
  /** Time k6 may take beyond duration + graceful stop before it is killed. Default 60 s. */
  hangGraceMs?: number;
  /**
   * More k6 outputs besides our JSON file, e.g. `experimental-prometheus-rw` for the Grafana
   * dashboards (k6 ignores `K6_OUT` once `--out` is on the command line). Default: the
   * comma-separated `OWUI_K6_EXTRA_OUT` environment variable.
   */
  extraOutputs?: string[];
  /** `testid` tag on every k6 sample (the dashboards' run selector), e.g. the run id. */
  testId?: string;
  /** Called for each warning or error k6 logs (our scripts' console.warn/error, k6's own). */
  onLogProblem?: (problem: K6LogProblem) => void;
}

export interface K6LogProblem {
  level: 'warning' | 'error';
  message: string;
}

/**
 * One line of k6's console output (logfmt: `time="…" level=warning msg="…" source=console`) → a
 * problem worth showing, or undefined. Where our scripts report a missing module or behaviour and
 * where k6 reports script errors, even when k6 then exits 0.
 */
export function k6LogProblem(line: string): K6LogProblem | undefined {
  const level = /\blevel=(warning|error|fatal)\b/.exec(line)?.[1];
  if (!level) return undefined;
  const quoted = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
  const bare = /\bmsg=(\S+)/.exec(line)?.[1];
  const message = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? line.trim());
  return { level: level === 'warning' ? 'warning' : 'error', message };
}

/**
 * A JavaScript exception k6 caught in a VU iteration: logged at `level=error` with
 * `source=stacktrace` (seen on k6 v0.49.0 to v2.2.0), after which k6 goes on and can exit 0.
 */
export function isVuException(line: string): boolean {
  return /\blevel=error\b/.test(line) && /\bsource=stacktrace\b/.test(line);
}

export interface K6RunSummary {
  k6: string;
  bundle: string;
  samplesFile: string;
  exitCode: number | null;
  thresholdsFailed: boolean;
  /** k6 stopped itself before the duration because an `abortOnFail` threshold was crossed. */
  abortedByThreshold: boolean;
  /** Wall time from spawning k6 to its exit. */
  elapsedMs: number;
  samples: number;
  skippedThresholds: { slo: string; reason: string }[];
  /** k6's whole stdout + stderr (console lines, script errors), kept beside the samples. */
  logFile: string;
  /** Warnings and errors k6 logged (first 50). */
  problems: K6LogProblem[];
  /** Exceptions thrown in VU iterations (k6 logs them and goes on, often to exit 0). */
  vuExceptions: number;
}

/** `k6 version` → parsed version, or PreflightError when k6 cannot be run. */
export async function detectK6(binary = 'k6', env?: NodeJS.ProcessEnv): Promise<K6Version> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(binary, ['version'], { timeout: 15_000, ...(env ? { env } : {}) }, (error, stdout, stderr) => {
      if (error) reject(error);
      else resolve(`${stdout}\n${stderr}`);
    });
  }).catch((error: NodeJS.ErrnoException) => {
    const missing = error.code === 'ENOENT' || error.code === 'EACCES';
    throw new PreflightError(
      missing
        ? `k6 was not found (\`${binary}\` is not an executable on PATH)`
        : `\`${binary} version\` failed: ${error.message}`,
      { code: 'K6_NOT_FOUND', cause: error, suggestions: K6_INSTALL_HINTS },
    );
  });
  const version = parseK6Version(output);
  if (!version) {
    throw new PreflightError(
      `\`${binary} version\` printed no k6 version: ${JSON.stringify(output.trim().slice(0, 200))}`,
      {
        code: 'K6_NOT_FOUND',
        suggestions: K6_INSTALL_HINTS,
      },
    );
  }
  if (!isSupported(version)) {
    throw new PreflightError(
      `${version.raw} is too old; the scenarios need k6 v${MIN_K6.major}.${MIN_K6.minor} or newer`,
      {
        code: 'K6_TOO_OLD',
        suggestions: K6_INSTALL_HINTS,
      },
    );
  }
  return version;
}

/**
 * k6's exit codes (k6's errext/exitcodes, the same list in v0.49.0, v1.3.0, v1.8.1 and v2.2.0 except
 * 110, new in v1.0.0) plus 255, k6's exit for an error that carries no code (k6 < 1.0 also exits
 * 255 for an invalid option). docs/k6.md "Thresholds and exit codes" has the table per version.
 */
export const K6_EXIT_CODES: Record<number, string> = {
  97: 'cloud test run failed',
  98: 'cloud failed to get progress',
  99: 'thresholds have failed',
  100: 'setup() timed out',
  101: 'teardown() timed out',
  102: 'generic timeout',
  103: "stopped through k6's REST API",
  104: 'invalid configuration',
  105: 'aborted from outside (a signal)',
  106: 'cannot start the REST API',
  107: 'script exception',
  108: 'script aborted (test.abort())',
  109: 'Go panic',
  110: 'test marked as failed (exec.test.fail())',
  255: 'k6 error without an exit code (bad command line, unreadable script; invalid option on k6 < 1.0)',
};

export interface K6ExitContext {
  /** We asked k6 to stop (SIGINT): its 105 or a signal exit is the stop we wanted. */
  stoppedByUs: boolean;
  /** The end of k6's console output, quoted in the error. */
  stderrTail: string;
  /**
   * k6 settings the user brought in (`K6_*` environment variables, extra `--out` outputs). When k6
   * refuses its configuration (104, 255) with any of these in effect, they are the likely cause
   * (usage, exit 2); without them the options were all ours, so it is our bug (exit 1).
   */
  userK6Settings?: readonly string[];
  /** The first error k6 logged, when the tail may no longer hold it. */
  firstError?: string;
}

/** The reason k6 logged for `test.abort(reason)` (`level=error msg="test aborted: <reason>"`). */
export function k6AbortReason(output: string): string | undefined {
  for (const line of output.split('\n')) {
    const problem = k6LogProblem(line);
    const reason = abortReasonOf(problem?.message);
    if (reason) return reason;
  }
  return undefined;
}

function abortReasonOf(message: string | undefined): string | undefined {
  return message === undefined ? undefined : /^test aborted: (.*)$/s.exec(message)?.[1];
}

/** The first error k6 logged (`level=error|fatal msg=…`), for a message. */
function firstK6Error(output: string): string | undefined {
  for (const line of output.split('\n')) {
    const problem = k6LogProblem(line);
    if (problem?.level === 'error') return problem.message;
  }
  return undefined;
}

/**
 * k6's exit → our outcome: undefined = the load ran (0; 99 thresholds failed, owui-chaos judges
 * SLOs itself; 105 or a signal when WE stopped it), otherwise the error to throw:
 * - 104 and 255 (k6 refused its configuration or command line): usage (exit 2) when user k6
 *   settings are in effect, else a bug in owui-chaos (exit 1);
 * - 103 and 105 not asked by us (someone stopped k6 itself): interrupted (exit 13);
 * - 108 (a scenario's `test.abort()`, e.g. a module or behaviour it checks at init is missing):
 *   `K6_SCRIPT_ABORTED`, the reason quoted; every other code: a LoadGeneratorError (exit 12).
 */
export function mapK6Exit(
  code: number | null,
  signal: NodeJS.Signals | null,
  ctx: K6ExitContext,
): OwuiChaosError | undefined {
  if (code === 0 || code === 99) return undefined;
  if (ctx.stoppedByUs && (code === 105 || code === null)) return undefined;
  const meaning =
    code === null
      ? `killed by ${signal ?? 'a signal'}`
      : `exit ${code}: ${K6_EXIT_CODES[code] ?? 'unknown k6 exit code'}`;
  const tail = ctx.stderrTail.trim();
  const lastOutput = tail ? `; last output: ${tail.slice(-500)}` : '';
  const compare = 'Rerun with the built-in engine to compare: --engine node';
  if (code === 104 || code === 255) {
    const refused = ctx.firstError ?? firstK6Error(tail) ?? 'see k6.log';
    const user = ctx.userK6Settings ?? [];
    if (user.length > 0)
      return new UsageError(
        `k6 refused its configuration (${meaning}): ${refused}. k6 settings of yours in effect: ${user.join(', ')}`,
        {
          code: 'K6_INVALID_CONFIG',
          suggestions: [
            `Fix or unset ${user.join(', ')} and rerun`,
            'If it still fails without them, it is a bug in owui-chaos: report it with k6.log from the run directory',
          ],
        },
      );
    return new OwuiChaosError(
      `k6 refused the configuration owui-chaos generated (${meaning}): ${refused}. This is a bug in owui-chaos`,
      {
        code: 'K6_INVALID_CONFIG',
        exitCode: ExitCode.bug,
        suggestions: ['Report it with k6.log and config.json from the run directory', compare],
      },
    );
  }
  if ((code === 103 || code === 105) && !ctx.stoppedByUs)
    return new InterruptedError(`k6 was stopped from outside owui-chaos (${meaning})`, {
      code: 'K6_INTERRUPTED',
      suggestions: ['Nothing sent by owui-chaos stopped k6: look for whoever signalled the k6 process'],
    });
  if (code === 108) {
    const reason = k6AbortReason(tail) ?? abortReasonOf(ctx.firstError);
    return new LoadGeneratorError(
      `the k6 scenario aborted the test (${meaning}): ${reason ?? `no reason logged${lastOutput}`}`,
      {
        code: 'K6_SCRIPT_ABORTED',
        suggestions: [
          'The scenarios abort when a module or behaviour they check for is missing from this k6, or when setup() cannot sign in: read the reason above',
          compare,
        ],
      },
    );
  }
  const codeName =
    code === 107
      ? 'K6_SCRIPT_ERROR'
      : code === 100 || code === 101 || code === 102
        ? 'K6_TIMEOUT'
        : code === 109
          ? 'K6_PANIC'
          : code === 110
            ? 'K6_MARKED_FAILED'
            : 'K6_FAILED';
  return new LoadGeneratorError(`k6 failed (${meaning})${lastOutput}`, {
    code: codeName,
    suggestions:
      codeName === 'K6_SCRIPT_ERROR'
        ? [
            'Run the bundle by hand to see the script error: k6 run dist/scenarios/<name>.js',
            'owui-chaos k6 bundle',
          ]
        : [compare],
  });
}

/** The k6 settings the user brought into a run: `K6_*` variables (but ours) and extra outputs. */
export function userK6Settings(env: NodeJS.ProcessEnv, extraOutputs: readonly string[]): string[] {
  const ours = new Set(['K6_NO_USAGE_REPORT']);
  return [
    ...Object.keys(env)
      .filter((k) => k.startsWith('K6_') && !ours.has(k) && env[k] !== undefined)
      .sort(),
    ...extraOutputs.map((o) => `--out ${o}`),
  ];
}

/**
 * Turns k6 `--out json` text into samples. Feed chunks as they are read; lines may be split
 * across chunks. Catalogue metrics pass through; `dropped_iterations` → `missed_starts`.
 */
export class K6JsonIngest {
  private rest = '';
  samples = 0;
  malformed = 0;
  completed = 0;
  errors = 0;
  readonly ttfts: { t: number; v: number }[] = [];

  constructor(private readonly sink: SampleSink) {}

  push(text: string): void {
    const lines = (this.rest + text).split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.rest.trim() !== '') this.line(this.rest);
    this.rest = '';
  }

  private line(line: string): void {
    let sample;
    try {
      sample = parseSampleLine(line);
    } catch {
      this.malformed++; // k6 killed mid-write leaves half a line; count it, do not fail the run
      return;
    }
    if (!sample) return;
    let metric: MetricName;
    if (isMetricName(sample.metric)) metric = sample.metric;
    else if (sample.metric === 'dropped_iterations') metric = 'missed_starts';
    else return;
    this.samples++;
    this.sink.write(metric, sample.timeMs, sample.value, sample.tags);
    if (metric === 'stream_outcome') {
      if (sample.tags.outcome === 'completed') this.completed++;
      else this.errors++;
    } else if (metric === 'ttft') {
      this.ttfts.push({ t: sample.timeMs, v: sample.value });
      if (this.ttfts.length > 20_000) this.ttfts.splice(0, this.ttfts.length - 20_000);
    }
  }
}

const TIMER_STOPPED = /^set(?:Timeout|Interval) \d+ was stopped because the VU iteration was interrupted/;
const THRESHOLD_ABORT = /abortOnFail enabled, stopping test prematurely/;
const SIGNAL_ABORT = /aborted because k6 received a '(?:interrupt|terminated)' signal/;

export class K6LoadEngine implements LoadEngine {
  readonly name = 'k6';
  lastRun: K6RunSummary | undefined;

  constructor(private readonly opts: K6EngineOptions = {}) {}

  async run(
    plan: LoadPlan,
    sink: SampleSink,
    runOpts: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void } = {},
  ): Promise<void> {
    const binary = this.opts.binary ?? 'k6';
    const k6 = await detectK6(binary, { ...process.env, ...this.opts.env });
    const credentials = this.opts.credentials ?? (await this.provision(plan, runOpts.signal));
    const sockets = plan.sockets && plan.sockets.vus > 0;
    if (sockets && credentials.users.length === 0) {
      throw new UsageError(
        `${plan.sockets?.vus} browser clients need user accounts, but the target gives none (API keys cannot open a socket)`,
        {
          code: 'NO_SOCKET_USERS',
          suggestions: [
            'Set auth.admin with auth.users.provision, or auth.users.existing, in the target file.',
          ],
        },
      );
    }
    const sse = this.opts.sse === 'xk6' || (this.opts.sse !== 'plain' && hasXk6Sse(k6)) ? 'xk6' : 'plain';
    const generated = thresholdsFromSlos(
      this.opts.slos ?? [],
      this.opts.abortOnFail !== undefined ? { abortOnFail: this.opts.abortOnFail } : {},
    );
    const config = scenarioConfigFromPlan(plan, {
      version: credentials.version,
      sse,
      thresholds: generated.thresholds,
      ...(this.opts.chatPath !== undefined ? { chatPath: this.opts.chatPath } : {}),
      ...(this.opts.verify !== undefined ? { verify: this.opts.verify } : {}),
      ...(this.opts.pacing !== undefined ? { pacing: this.opts.pacing } : {}),
      ...(this.opts.streamTimeoutMs !== undefined ? { streamTimeoutMs: this.opts.streamTimeoutMs } : {}),
      ...(this.opts.gracefulStopMs !== undefined ? { gracefulStopMs: this.opts.gracefulStopMs } : {}),
    });
    const workDir = this.opts.workDir ?? (await mkdtemp(join(tmpdir(), 'owui-chaos-k6-')));
    const name = scenarioFor(config);
    const [bundle] = await bundleScenarios({
      outDir: join(workDir, 'scenarios'),
      target: targetFor(k6),
      sse,
      names: [name],
    });
    if (!bundle) throw new LoadGeneratorError('Bundling produced no scenario', { code: 'K6_BUNDLE_FAILED' });
    const samplesFile = join(workDir, 'k6-samples.json');
    await writeFile(samplesFile, '');
    await writeFile(join(workDir, 'config.json'), JSON.stringify(config, null, 2));

    const secretsFile = join(workDir, 'secrets.json');
    await writeFile(
      secretsFile,
      JSON.stringify({
        apiTokens: credentials.apiTokens,
        userTokens: credentials.users.map((u) =>
          u.id === undefined ? { token: u.token } : { token: u.token, id: u.id },
        ),
      }),
      { mode: 0o600 },
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.opts.env,
      OWUI_CONFIG: JSON.stringify(config),
      OWUI_SECRETS_FILE: secretsFile,
      // No anonymous usage report from a load generator inside someone's test network.
      K6_NO_USAGE_REPORT: 'true',
    };
    const outputs = extraOutputs(this.opts.extraOutputs);
    const args = [
      'run',
      '--no-color',
      // Progress bars go to a terminal nobody watches; the samples file is the output.
      '--quiet',
      // k6's REST API defaults to localhost:6565, which a second concurrent run cannot bind.
      '--address',
      '127.0.0.1:0',
      '--out',
      `json=${samplesFile}`,
      ...outputs.flatMap((o) => ['--out', o]),
      ...(this.opts.testId ? ['--tag', `testid=${this.opts.testId}`] : []),
      bundle.path,
    ];
    const ingest = new K6JsonIngest(sink);
    const gracefulStopMs = config.gracefulStopMs;
    const hangAfterMs = plan.durationMs + gracefulStopMs + (this.opts.hangGraceMs ?? 60_000);
    const startedAt = Date.now();
    const removeSecrets = (): Promise<void> => rm(secretsFile, { force: true }).catch(() => undefined);
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      await removeSecrets();
      throw new LoadGeneratorError(`Could not start k6: ${errorMessage(err)}`, {
        code: 'K6_FAILED',
        cause: err,
      });
    }
    const logFile = join(workDir, 'k6.log');
    const log = createWriteStream(logFile);
    const problems: K6LogProblem[] = [];
    let stderrTail = '';
    let partialLine = '';
    let timersStopped = 0;
    let abortedByThreshold = false;
    let vuExceptions = 0;
    let firstVuException: string | undefined;
    let firstError: string | undefined;
    const report = (problem: K6LogProblem): void => {
      if (problems.length < 50) problems.push(problem);
      this.opts.onLogProblem?.(problem);
    };
    const keepTail = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      log.write(chunk);
      stderrTail = (stderrTail + text).slice(-4000);
      const lines = (partialLine + text).split('\n');
      partialLine = (lines.pop() ?? '').slice(-64_000);
      for (const line of lines) {
        const problem = k6LogProblem(line);
        if (!problem) continue;
        if (problem.level === 'error') firstError ??= problem.message;
        if (isVuException(line)) {
          vuExceptions++;
          firstVuException ??= problem.message;
        }
        // k6 stopping a VU's pending timers at the end of a run logs one line per timer: counted
        // and reported once below (all are in k6.log), not one warning per timer.
        if (TIMER_STOPPED.test(problem.message)) {
          timersStopped++;
          continue;
        }
        if (THRESHOLD_ABORT.test(problem.message)) abortedByThreshold = true;
        // The abort we asked for (Ctrl-C, a steady-state or breach stop) is not a problem.
        if (stoppedByUs && SIGNAL_ABORT.test(problem.message)) continue;
        report(problem);
      }
    };
    child.stdout.on('data', keepTail);
    child.stderr.on('data', keepTail);
    let stoppedByUs = false;
    let hung = false;
    const onAbort = (): void => {
      stoppedByUs = true;
      child.kill('SIGINT');
    };
    runOpts.signal?.addEventListener('abort', onAbort, { once: true });
    if (runOpts.signal?.aborted) onAbort();
    const hangTimer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, hangAfterMs);

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    let done = false;
    void exited.then(
      () => (done = true),
      () => (done = true),
    );
    const file = await open(samplesFile, 'r');
    let offset = 0;
    const drain = async (fh: FileHandle): Promise<void> => {
      const buf = Buffer.alloc(1 << 16);
      // Bounded: each pass reads what exists now; the file only grows while k6 runs.
      for (let i = 0; i < 100_000; i++) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (bytesRead === 0) return;
        offset += bytesRead;
        ingest.push(decoder.decode(buf.subarray(0, bytesRead), { stream: true }));
      }
    };
    const decoder = new TextDecoder();
    const progressEvery = this.opts.progressIntervalMs ?? 1000;
    let lastProgress = 0;
    let result: { code: number | null; signal: NodeJS.Signals | null };
    try {
      while (!done) {
        await drain(file);
        const now = Date.now();
        if (runOpts.onProgress && now - lastProgress >= progressEvery) {
          lastProgress = now;
          runOpts.onProgress(progressOf(ingest, now, startedAt));
        }
        await Promise.race([exited.catch(() => undefined), sleep(200)]);
      }
      result = await exited.catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'ENOENT'
          ? new PreflightError(`k6 was not found (\`${binary}\`)`, {
              code: 'K6_NOT_FOUND',
              cause: error,
              suggestions: K6_INSTALL_HINTS,
            })
          : new LoadGeneratorError(`Could not start k6: ${error.message}`, {
              code: 'K6_FAILED',
              cause: error,
            });
      });
      await drain(file);
      ingest.push(decoder.decode());
      ingest.end();
    } finally {
      clearTimeout(hangTimer);
      runOpts.signal?.removeEventListener('abort', onAbort);
      await file.close().catch(() => undefined);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await removeSecrets();
      await new Promise<void>((resolve) => log.end(resolve));
    }
    if (timersStopped > 0 && !stoppedByUs)
      report({
        level: 'warning',
        message: `k6 stopped ${timersStopped} pending timer(s) of VUs still running after the graceful stop (${Math.round(gracefulStopMs / 1000)} s): their chats were cut off`,
      });
    this.lastRun = {
      k6: k6.raw,
      bundle: bundle.path,
      samplesFile,
      exitCode: result.code,
      thresholdsFailed: result.code === 99,
      abortedByThreshold: result.code === 99 && abortedByThreshold,
      elapsedMs: Date.now() - startedAt,
      samples: ingest.samples,
      skippedThresholds: generated.skipped,
      logFile,
      problems,
      vuExceptions,
    };
    if (hung) {
      throw new LoadGeneratorError(
        `k6 was still running ${Math.round(hangAfterMs / 1000)} s after the start (duration + graceful stop + grace) and was killed`,
        {
          code: 'K6_HUNG',
          suggestions: ['Check the target for requests that never end; lower the stream timeout'],
        },
      );
    }
    const error = mapK6Exit(result.code, result.signal, {
      stoppedByUs,
      stderrTail,
      userK6Settings: userK6Settings({ ...process.env, ...this.opts.env }, outputs),
      ...(firstError !== undefined ? { firstError } : {}),
    });
    if (error) throw error;
    // k6 exits 0 after exceptions in VU iterations: the load it reports is not the load asked for,
    // so the run must not pass on it (docs/k6.md "Nothing silent").
    if (vuExceptions > 0) {
      throw new LoadGeneratorError(
        `k6 exited ${result.code ?? result.signal}, but ${vuExceptions} VU iteration(s) threw a script exception (first: ${(firstVuException ?? '').split('\n')[0]}); all output: ${logFile}`,
        {
          code: 'K6_SCRIPT_ERROR',
          suggestions: [
            `Read the stack traces in ${logFile}`,
            'Rerun with the built-in engine to compare: --engine node',
          ],
        },
      );
    }
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
}

function progressOf(ingest: K6JsonIngest, now: number, startedAt: number): LoadProgress {
  const recent = ingest.ttfts
    .filter((s) => s.t >= now - 10_000)
    .map((s) => s.v)
    .sort((a, b) => a - b);
  const progress: LoadProgress = {
    elapsedMs: now - startedAt,
    activeStreams: 0,
    activeSockets: 0,
    completed: ingest.completed,
    errors: ingest.errors,
  };
  if (recent.length > 0)
    progress.ttftP95Ms = recent[Math.min(recent.length - 1, Math.ceil(recent.length * 0.95) - 1)] as number;
  return progress;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function extraOutputs(explicit: string[] | undefined): string[] {
  if (explicit) return explicit;
  return (process.env.OWUI_K6_EXTRA_OUT ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
}
