// The `owui-chaos run` use case (DESIGN §1): load the experiment and its target (starting the lab
// when it is the target and not up), preflight (reachable, auth, safety), run load + timeline
// through core's runner, revert, evaluate SLOs per phase and write the reports. Adapters are wired
// here; commands only parse flags and render. Nothing here prints: notices go to `onNotice`.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { defaultSlosFile, experimentsDir } from '../cli/paths.js';
import { systemClock, type Clock } from '../core/clock.js';
import { resolveExperimentRef } from '../core/config/builtin.js';
import {
  checkAgainstTarget,
  loadExperiment,
  type Experiment,
  type LoadedExperiment,
} from '../core/config/experiment.js';
import { planExperiment, revertOrder, toLoadPlan, type ExperimentPlan } from '../core/config/plan.js';
import { loadSloDefaults } from '../core/config/slo-defaults.js';
import { LAB_TARGET, loadTarget, type Target } from '../core/config/target.js';
import {
  ExitCode,
  FaultError,
  InterruptedError,
  LoadGeneratorError,
  OwuiChaosError,
  PreflightError,
  ValidationError,
  errorMessage,
} from '../core/errors.js';
import type { LoadEngine } from '../core/ports.js';
import { evaluateRun } from '../core/report/evaluate.js';
import { sloFails, type RunStop, type RunVerdict } from '../core/report/outcome.js';
import { applyOutcome, type RunResults } from '../core/report/results.js';
import { writeReports, type ReportPaths } from '../core/report/write.js';
import type { RevertEntry } from '../core/runner/revert-stack.js';
import { RevertStack } from '../core/runner/revert-stack.js';
import {
  runExperiment,
  type RunObserver,
  type RunOutcome,
  type RunnerTimelineEntry,
  type SteadyStateVerdict,
} from '../core/runner/runner.js';
import type { SloSpec } from '../core/slo/spec.js';
import { K6LoadEngine, detectK6 } from '../engines/k6/engine.js';
import { markNotMeasured } from '../engines/k6/measurable.js';
import { hasXk6Sse } from '../engines/k6/version.js';
import { NodeLoadEngine } from '../engines/node/engine.js';
import { createAgent } from '../engines/node/http.js';
import { NdjsonFileSink } from '../engines/node/ndjson-file-sink.js';
import { authSourceFromTarget, provisionCredentials } from '../engines/node/provisioning.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { defaultLabStateDir, readLabState } from '../infra/lab-state.js';
import { preflightWithDoctor } from './doctor/preflight.js';
import { driversForTarget } from './drivers.js';
import { DriverFaultInjector } from './fault-injector.js';
import { guardRun, type RunGuard } from './safety/run-guard.js';

export const MOCK_MODEL = 'owui-chaos-mock';

export interface RunRequest {
  experiment: string;
  /** `lab` or a target file; overrides the experiment's `target`. */
  target?: string;
  engine?: 'node' | 'k6';
  duration?: string;
  outDir?: string;
  dryRun?: boolean;
  /** Confirmed destructive faults on a non-lab target. */
  yes?: boolean;
  labName?: string;
  /** Keep a lab this run started (default: stop it again afterwards). */
  keepLab?: boolean;
  /** Break the target's lease when its holder is gone (docs/safety.md). */
  breakLease?: boolean;
  /** Allow a load longer than a week. */
  allowLong?: boolean;
  workers?: number;
  /** k6 executable for `engine: k6` (default `k6` on PATH). */
  k6Binary?: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  observer?: RunObserver;
  onNotice?: (text: string) => void;
  /** Asked before destructive faults on a non-lab target (unless `yes`). */
  confirm?: (question: string) => Promise<boolean>;
  interrupt?: AbortSignal;
  stopReverting?: AbortSignal;
  /** For tests and k6: the engine to use instead of the one the experiment names. */
  engineFactory?: (ctx: EngineContext) => LoadEngine;
  /** The sample file's sink, e.g. tapped for `--prometheus` (src/app/sample-tap.ts). */
  sampleSink?: (path: string) => NdjsonFileSink;
}

export interface EngineContext {
  experiment: Experiment;
  target: Target;
  runDir: string;
}

export interface RunSummary {
  runId: string;
  runDir: string;
  experiment: { title: string; file: string };
  target: string;
  plan: ExperimentPlan;
  dryRun: boolean;
  startedLab: boolean;
  exitCode: number;
  verdict: RunVerdict | 'dry-run';
  results?: RunResults;
  reports?: ReportPaths;
  stillInjected: Array<Pick<RevertEntry, 'name' | 'action' | 'description' | 'error'>>;
  /** The error that ended the run early, if any (printed by the command; exit code set accordingly). */
  error?: { code: string; message: string; suggestions: string[] };
}

export async function runExperimentFromFile(req: RunRequest): Promise<RunSummary> {
  const env = req.env ?? process.env;
  const clock = req.clock ?? systemClock;
  const notice = req.onNotice ?? (() => undefined);
  const labName = req.labName ?? 'default';
  const labStateDir = defaultLabStateDir(labName, env);

  // --- experiment ---------------------------------------------------------------------------
  const file = await resolveExperimentRef(req.experiment, { builtinDir: experimentsDir() });
  const defaultSlos = await loadSloDefaults(defaultSlosFile(), env);
  const flags = {
    ...(req.target !== undefined ? { target: req.target } : {}),
    ...(req.engine !== undefined ? { engine: req.engine } : {}),
    ...(req.duration !== undefined ? { duration: req.duration } : {}),
  };
  const loaded: LoadedExperiment = await loadExperiment(file, {
    env,
    defaultSlos,
    flags,
    resolveTarget: async (ref) => (ref.kind === 'file' ? loadTarget(ref.file, { env }) : undefined),
    ...(req.allowLong ? { allowLong: true } : {}),
  });
  let { experiment } = loaded;
  const plan = planExperiment(experiment, loaded.targetRef);
  const runId = `${new Date(clock.now()).toISOString().replace(/[:.]/g, '-')}-${basename(file).replace(/\.ya?ml$/, '')}`;
  const runDir = resolve(req.outDir ?? join(env.OWUI_CHAOS_HOME ?? '.owui-chaos', 'runs', runId));
  const base: Omit<RunSummary, 'exitCode' | 'verdict'> = {
    runId,
    runDir,
    experiment: { title: experiment.title, file },
    target: loaded.targetRef.kind === 'lab' ? LAB_TARGET : loaded.targetRef.file,
    plan,
    dryRun: req.dryRun === true,
    startedLab: false,
    stillInjected: [],
  };
  if (req.dryRun) {
    notice(`dry run: nothing is started, injected or written`);
    return { ...base, exitCode: ExitCode.ok, verdict: 'dry-run' };
  }

  // A missing k6 is a preflight failure (exit 4) before anything is started.
  if (experiment.load.engine === 'k6' && !req.engineFactory) {
    const k6 = await detectK6(req.k6Binary ?? 'k6');
    // What this k6 cannot measure is reported as such, not judged as "no data" (docs/k6.md).
    experiment = {
      ...experiment,
      slos: markNotMeasured(experiment.slos, {
        sse: hasXk6Sse(k6) ? 'xk6' : 'plain',
        clients: {
          api: experiment.load.chat !== undefined,
          browser: (experiment.load.sockets?.vus ?? 0) > 0,
        },
      }),
    };
  }

  // --- target (start the lab when it is the target and is not up) ----------------------------
  let startedLab = false;
  if (loaded.targetRef.kind === 'lab') {
    const status = await labStatus(labStateDir, { nginxProbes: 0 }).catch(() => undefined);
    if (!status?.running || !status.healthy) {
      notice(
        `the lab \`${labName}\` is not up: starting it (owui-chaos lab up --name ${labName}); this takes ~15 s`,
      );
      await labUp({
        name: labName,
        stateDir: labStateDir,
        onProgress: (step: string) => notice(`lab: ${step}`),
      });
      startedLab = true;
    }
  }
  let guard: RunGuard | undefined;
  try {
    return await runOnTarget(
      req,
      { ...base, startedLab },
      loaded,
      experiment,
      labStateDir,
      env,
      clock,
      notice,
    );
  } finally {
    await guard?.end();
    if (startedLab && !req.keepLab) {
      notice(`stopping the lab this run started (keep it with --keep-lab)`);
      await labDown(labStateDir).catch((err: unknown) => notice(`lab down failed: ${errorMessage(err)}`));
    }
  }

  async function runOnTarget(
    r: RunRequest,
    summaryBase: Omit<RunSummary, 'exitCode' | 'verdict'>,
    l: LoadedExperiment,
    exp: Experiment,
    labDir: string,
    environment: NodeJS.ProcessEnv,
    clk: Clock,
    say: (text: string) => void,
  ): Promise<RunSummary> {
    const labTargetFile = l.targetRef.kind === 'lab' ? readLabState(labDir)?.targetFile : undefined;
    const { target } = await loadTarget(l.targetRef.kind === 'lab' ? LAB_TARGET : l.targetRef.file, {
      env: environment,
      ...(labTargetFile ? { labTargetFile } : {}),
    });
    const findings = checkAgainstTarget(exp, target);
    if (findings.length > 0) {
      const issues = findings.map(
        (f) => f.issue ?? { path: f.path.join('.'), message: f.message, file: l.file },
      );
      throw new ValidationError(
        `Experiment \`${exp.title}\` cannot run on target \`${target.name}\``,
        issues,
        {
          code: 'EXPERIMENT_TARGET_MISMATCH',
          suggestions: [`owui-chaos experiment validate ${r.experiment} --target ${summaryBase.target}`],
        },
      );
    }
    await confirmDestructive(r, exp, target, l.targetRef.kind === 'lab');
    // Lease + run index before anything touches the target (docs/safety.md); released by the
    // caller's finally. Observation-only runs (no timeline) need neither.
    if (exp.timeline.length > 0) {
      guard = await guardRun({
        runId: summaryBase.runId,
        runDir: summaryBase.runDir,
        command: 'run',
        targetRef: summaryBase.target,
        target,
        ...(l.targetRef.kind === 'lab' ? { labStateDir: labDir } : {}),
        ...(l.targetRef.kind === 'file' ? { targetFile: l.targetRef.file } : {}),
        env: environment,
        ...(r.breakLease ? { breakLease: true } : {}),
        onNotice: say,
      });
    }

    // --- preflight: the doctor's identity, websocket and shared-secret checks around the sign-in ---
    const needUsers = Math.max(
      exp.load.sockets?.vus ?? 0,
      exp.load.chat?.model === 'closed' ? exp.load.chat.vus : 1,
      1,
    );
    const agent = createAgent(8);
    let credentials;
    try {
      credentials = await preflightWithDoctor(
        target,
        () =>
          provisionCredentials(
            agent,
            target.openwebui.url,
            authSourceFromTarget(target.auth, needUsers, target.openwebui.version),
          ),
        (c) => c.users[0]?.token,
      );
    } finally {
      await agent.close();
    }
    say(
      `preflight: ${target.openwebui.url} answers (Open WebUI ${credentials.version}); ${credentials.users.length} user(s) signed in once, ${credentials.apiTokens.length} API key(s)`,
    );

    // --- wiring ---------------------------------------------------------------------------------
    mkdirSync(summaryBase.runDir, { recursive: true });
    copyFileSync(l.file, join(summaryBase.runDir, 'experiment.yaml'));
    const samplesFile = join(summaryBase.runDir, 'samples.ndjson');
    const sink = r.sampleSink ? r.sampleSink(samplesFile) : new NdjsonFileSink(samplesFile);
    const stack = RevertStack.create(join(summaryBase.runDir, 'reverts.json'), summaryBase.runId);
    writeFileSync(
      join(summaryBase.runDir, 'run.json'),
      JSON.stringify(
        {
          runId: summaryBase.runId,
          target: summaryBase.target,
          labStateDir: l.targetRef.kind === 'lab' ? labDir : undefined,
          targetFile: labTargetFile ?? (l.targetRef.kind === 'file' ? l.targetRef.file : undefined),
          pid: process.pid,
        },
        null,
        2,
      ),
    );
    const drivers = driversForTarget(target, {
      ...(l.targetRef.kind === 'lab' ? { labStateDir: labDir } : {}),
    });
    const startupBudget =
      target.replicas && 'startupBudget' in target.replicas ? target.replicas.startupBudget : undefined;
    const faults = new DriverFaultInjector(drivers, {
      runId: summaryBase.runId,
      ...(startupBudget !== undefined ? { replicaHealthBudgetMs: startupBudget } : {}),
    });
    const engine: LoadEngine = r.engineFactory
      ? r.engineFactory({ experiment: exp, target, runDir: summaryBase.runDir })
      : engineFor(exp, target, credentials, {
          workers: r.workers,
          k6Binary: r.k6Binary,
          runDir: summaryBase.runDir,
          onNotice: say,
        });
    const loadPlan = toLoadPlan(exp.load, target);
    const slos = exp.slos;
    const baselineSlos = slos
      .filter((s) => s.phases.includes('baseline') || s.phases.includes('all'))
      .map((s): SloSpec => ({ ...s, phases: ['all'] }));
    // The steady state must be seen, not assumed: a gating SLO without data breaks it too (a
    // browser that never connected produces no sample at all). Mid-fault checks abort on breaches.
    const checkSlos = async (specs: SloSpec[], noDataFails: boolean): Promise<SteadyStateVerdict> => {
      sink.flush();
      const results = await evaluateRun({ sampleFiles: [samplesFile], journal: null, slos: specs });
      const breaches = results.slos
        .filter((s) => (noDataFails ? sloFails(s) : s.verdict === 'breach'))
        .map((s) =>
          s.verdict === 'no-data'
            ? `${s.id}: no data (${s.note ?? 'no samples'}), objective ${s.objectiveText}`
            : `${s.id}: measured ${s.measured ?? 'nothing'}, objective ${s.objectiveText}`,
        );
      return { ok: breaches.length === 0, breaches };
    };

    let outcome;
    try {
      outcome = await runExperiment(
        {
          title: exp.title,
          file: l.file,
          timeline: exp.timeline.map(toRunnerEntry),
          rollbackOrder: exp.settings.rollbackStrategy === 'never' ? [] : revertOrder(exp),
          abortOnBreach: exp.settings.abortOnBreach,
        },
        {
          engine,
          plan: loadPlan,
          sink,
          faults,
          stack,
          clock: clk,
          ...(baselineSlos.length > 0 ? { checkSteadyState: () => checkSlos(baselineSlos, true) } : {}),
          // During faults only SLOs that apply to every phase can abort the run.
          checkBreach: () =>
            checkSlos(
              slos.filter((s) => s.phases.includes('all')).map((s) => ({ ...s, phases: ['all'] })),
              false,
            ),
          ...(r.observer ? { observer: r.observer } : {}),
          ...(r.interrupt ? { interrupt: r.interrupt } : {}),
          ...(r.stopReverting ? { stopReverting: r.stopReverting } : {}),
          runId: summaryBase.runId,
          target: { name: target.name, url: target.openwebui.url },
        },
      );
    } finally {
      sink.close();
      await drivers.close();
    }
    writeFileSync(join(summaryBase.runDir, 'journal.json'), JSON.stringify(outcome.journal, null, 2));

    const stillInjected = outcome.stillInjected.map((e) => ({
      name: e.name,
      action: e.action,
      description: e.description,
      ...(e.error ? { error: e.error } : {}),
    }));
    const stops = stopsOf(outcome, stillInjected, summaryBase.runDir);
    const results = applyOutcome(
      await evaluateRun({
        sampleFiles: [samplesFile],
        journal: outcome.journal,
        slos,
        recoveryWindowMs: exp.settings.recoveryWindow,
      }),
      stops,
    );
    // One outcome everywhere: the files, the terminal and the exit code all come from `results`.
    const reports = await writeReports(results, summaryBase.runDir);
    const primary = results.stops[0];
    return {
      ...summaryBase,
      results,
      reports,
      stillInjected,
      exitCode: results.exitCode,
      verdict: results.verdict,
      ...(primary
        ? { error: { code: primary.code, message: primary.message, suggestions: primary.suggestions } }
        : {}),
    };
  }
}

/** Every early stop of a run, as data every report renders (precedence: core/report/outcome.ts). */
export function stopsOf(
  outcome: Pick<
    RunOutcome,
    'journal' | 'rollbackFailed' | 'interrupted' | 'steadyStateFailed' | 'faultFailed' | 'loadError'
  >,
  stillInjected: Array<{ description: string }>,
  runDir: string,
): RunStop[] {
  const stops: RunStop[] = [];
  const stop = (reason: RunStop['reason'], error: OwuiChaosError): void => {
    stops.push({ reason, code: error.code, message: error.message, suggestions: error.suggestions });
  };
  if (outcome.rollbackFailed) {
    stop(
      'rollback-failed',
      new OwuiChaosError(
        `${stillInjected.length} fault(s) are still injected: ${stillInjected.map((e) => e.description).join('; ')}`,
        {
          code: 'ROLLBACK_FAILED',
          exitCode: ExitCode.rollbackFailed,
          suggestions: [`owui-chaos rollback --run ${runDir}`],
        },
      ),
    );
  }
  if (outcome.interrupted) {
    stop(
      'interrupted',
      new InterruptedError(
        outcome.rollbackFailed
          ? 'The run was interrupted; not every injected fault could be reverted'
          : 'The run was interrupted; every injected fault was reverted',
      ),
    );
  }
  if (outcome.steadyStateFailed) {
    const verdict = outcome.journal.activities.find((a) => a.name === 'steady-state')?.output as
      SteadyStateVerdict | undefined;
    stop(
      'steady-state-failed',
      new PreflightError(
        `The steady state did not hold before the first fault, so nothing was injected: ${(verdict?.breaches ?? []).join('; ')}`,
        {
          code: 'STEADY_STATE_BROKEN',
          suggestions: [
            'owui-chaos lab status',
            'owui-chaos load --duration 30s --chat-vus 5   # see what the baseline looks like',
          ],
        },
      ),
    );
  }
  if (outcome.faultFailed) {
    const failed = outcome.journal.activities.find((a) => a.kind === 'inject' && a.status === 'failed');
    stop(
      'fault-failed',
      new FaultError(
        `Fault \`${failed?.name}\` (${failed?.action}) could not be injected: ${failed?.error}`,
        {
          code: 'FAULT_FAILED',
        },
      ),
    );
  }
  if (outcome.loadError !== undefined) {
    const err = outcome.loadError;
    stop(
      'load-failed',
      err instanceof OwuiChaosError
        ? err
        : new LoadGeneratorError(`The load generator failed: ${errorMessage(err)}`, {
            code: 'LOAD_FAILED',
            cause: err,
          }),
    );
  }
  return stops;
}

function toRunnerEntry(entry: Experiment['timeline'][number]): RunnerTimelineEntry {
  const lasts = entry.for ?? (entry.action === 'redis.kill-master' ? entry.params.restartAfter : undefined);
  return {
    name: entry.name,
    atMs: entry.at,
    ...(lasts !== undefined ? { forMs: lasts } : {}),
    action: entry.action,
    params: entry.params as Record<string, unknown>,
  };
}

export function engineFor(
  experiment: Experiment,
  target: Target,
  credentials: Awaited<ReturnType<typeof provisionCredentials>>,
  opts: {
    workers?: number | undefined;
    k6Binary?: string | undefined;
    runDir: string;
    onNotice?: (text: string) => void;
  },
): LoadEngine {
  const pacing = experiment.load.chat?.tokensPerSecond ?? experiment.load.sockets?.tokensPerSecond;
  const firstTokenMs = experiment.load.chat?.firstTokenDelay ?? experiment.load.sockets?.firstTokenDelay;
  const pacingOpt =
    pacing !== undefined || firstTokenMs !== undefined
      ? {
          pacing: {
            ...(pacing !== undefined ? { tokensPerSecond: pacing } : {}),
            ...(firstTokenMs !== undefined ? { firstTokenMs } : {}),
          },
        }
      : {};
  if (experiment.load.engine === 'k6') {
    return new K6LoadEngine({
      credentials,
      verify: target.model === MOCK_MODEL,
      slos: experiment.slos,
      workDir: join(opts.runDir, 'k6'),
      testId: basename(opts.runDir),
      // Script errors and our scenarios' "missing module" warnings must not vanish when k6 exits 0.
      onLogProblem: (p) => opts.onNotice?.(`k6 ${p.level}: ${p.message} (all output: k6/k6.log)`),
      ...(opts.k6Binary ? { binary: opts.k6Binary } : {}),
      ...pacingOpt,
    });
  }
  const workers = opts.workers;
  const streamTimeoutMs =
    target.model === MOCK_MODEL ? mockChatTimeoutMs(experiment.load, pacing) : undefined;
  return new NodeLoadEngine({
    credentials,
    verify: target.model === MOCK_MODEL,
    ...pacingOpt,
    ...(workers !== undefined ? { workers } : {}),
    ...(streamTimeoutMs !== undefined ? { streamTimeoutMs } : {}),
  });
}

/** The mock LLM's pacing when a prompt does not ask for one (src/lab/mock-llm/pacing.ts). */
const MOCK_DEFAULT_TOKENS_PER_SECOND = 50;

/**
 * Per-chat timeout against the mock LLM. A socket chat whose `done` was lost (failover, killed
 * replica) is only noticed when it times out, and its `ws_missed_done` sample is stamped then. With
 * the engine's 120 s default that is after the end of most runs: the loss was counted at the very
 * end (as a chat cancelled by the deadline), outside the fault window its SLO looks at, and the
 * browser client sat idle for the rest of the run. The mock's reply time is known (tokens at
 * tokens/s), so allow 3× it + 10 s, at least 15 s: enough for the latency and slicer toxics of the
 * built-in experiments, short enough that a loss early in a 20 s window is counted inside it.
 * Against a real model the reply time is unknown and the default stays.
 */
export function mockChatTimeoutMs(load: Experiment['load'], tokensPerSecond: number | undefined): number {
  // One pacing is asked of the mock for every chat (see engineFor).
  const tps = tokensPerSecond ?? MOCK_DEFAULT_TOKENS_PER_SECOND;
  const silence = Math.max(load.chat?.firstTokenDelay ?? 0, load.sockets?.firstTokenDelay ?? 0);
  const longest = silence + (1000 * Math.max(load.chat?.tokens ?? 0, load.sockets?.tokens ?? 0)) / tps;
  return Math.min(Math.max(120_000, silence + 60_000), Math.max(15_000, Math.round(3 * longest + 10_000)));
}

export async function preflightReachable(target: Target): Promise<void> {
  const url = `${target.openwebui.url.replace(/\/$/, '')}/health`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(target.openwebui.timeout ?? 10_000) });
    const body = (await res.json().catch(() => undefined)) as { status?: unknown } | undefined;
    // /health answers 200 JSON {status:true}; an SPA fallback (200 text/html) means a wrong URL.
    if (res.status !== 200 || body?.status !== true) {
      throw new Error(
        `GET ${url} answered ${res.status} ${body === undefined ? '(not JSON: is this Open WebUI?)' : JSON.stringify(body)}`,
      );
    }
  } catch (err) {
    throw new PreflightError(`Target \`${target.name}\` is not reachable at ${target.openwebui.url}`, {
      code: 'TARGET_UNREACHABLE',
      cause: err,
      suggestions: [
        `curl -s ${url}`,
        ...(target.name === 'lab' ? ['owui-chaos lab status', 'owui-chaos lab up'] : []),
      ],
    });
  }
}

async function confirmDestructive(
  req: RunRequest,
  experiment: Experiment,
  target: Target,
  isLab: boolean,
): Promise<void> {
  if (isLab || req.yes || experiment.timeline.length === 0) return;
  const question = `Run ${experiment.timeline.length} fault(s) of \`${experiment.title}\` against ${target.openwebui.url} (${target.name})?`;
  const ok = req.confirm ? await req.confirm(question) : false;
  if (!ok) {
    throw new PreflightError(
      `Not confirmed: \`${experiment.title}\` injects faults into the non-lab target \`${target.name}\``,
      {
        code: 'NOT_CONFIRMED',
        suggestions: [
          'Re-run with --yes to confirm',
          `owui-chaos run ${req.experiment} --dry-run   # see the plan first`,
        ],
      },
    );
  }
}
