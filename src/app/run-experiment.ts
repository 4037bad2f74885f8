// The `owui-chaos run` use case (DESIGN §1): load the experiment and its target (starting the lab
// when it is the target and not up), preflight (reachable, auth, safety), run load + timeline
// through core's runner, revert, evaluate SLOs per phase and write the reports. The parts live
// next to it: run-dir.ts (id, directory, run.json), lab-lifecycle.ts, run-preflight.ts,
// engine-factory.ts, run-stops.ts (why a run stopped, by precedence). Nothing here prints:
// notices go to `onNotice`.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { defaultSlosFile, experimentsDir } from '../cli/paths.js';
import { systemClock, type Clock } from '../core/clock.js';
import { resolveExperimentRef } from '../core/config/builtin.js';
import { loadExperiment, type Experiment, type LoadedExperiment } from '../core/config/experiment.js';
import { planExperiment, revertOrder, toLoadPlan, type ExperimentPlan } from '../core/config/plan.js';
import { loadSloDefaults } from '../core/config/slo-defaults.js';
import { LAB_TARGET, loadTarget, type Target } from '../core/config/target.js';
import { ExitCode } from '../core/errors.js';
import type { LoadEngine } from '../core/ports.js';
import { evaluateRun } from '../core/report/evaluate.js';
import { sloFails, type RunVerdict } from '../core/report/outcome.js';
import { applyOutcome, type RunResults } from '../core/report/results.js';
import { writeReports, type ReportPaths } from '../core/report/write.js';
import type { RevertEntry } from '../core/runner/revert-stack.js';
import { RevertStack } from '../core/runner/revert-stack.js';
import {
  runExperiment,
  runnerEntry,
  type RunObserver,
  type SteadyStateVerdict,
} from '../core/runner/runner.js';
import type { SloSpec } from '../core/slo/spec.js';
import { detectK6 } from '../engines/k6/engine.js';
import { markNotMeasured } from '../engines/k6/measurable.js';
import { hasXk6Sse } from '../engines/k6/version.js';
import { NdjsonFileSink } from '../engines/node/ndjson-file-sink.js';
import { defaultLabStateDir } from '../infra/lab-state.js';
import { driversForTarget } from './drivers.js';
import { engineFor } from './engine-factory.js';
import { DriverFaultInjector } from './fault-injector.js';
import { ensureLab } from './lab-lifecycle.js';
import { newRunId, runDirFor, writeRunInfo } from './run-dir.js';
import { assertFitsTarget, confirmDestructive, preflightCredentials, usersNeeded } from './run-preflight.js';
import { stopsOf } from './run-stops.js';
import { guardRun, type RunGuard } from './safety/run-guard.js';
import { resolveTargetRef } from './target-ref.js';

// Moved parts, still importable from here (gameday and capacity use them).
export { MOCK_MODEL_ID as MOCK_MODEL, engineFor, mockChatTimeoutMs } from './engine-factory.js';
export { preflightReachable } from './run-preflight.js';
export { stopsOf } from './run-stops.js';

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
  /** Of `stillInjected`, the faults `rollbackStrategy: never` left in place on purpose (names). */
  leftInPlace?: string[];
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
  const runId = newRunId(clock, basename(file).replace(/\.ya?ml$/, ''));
  const runDir = runDirFor(runId, req.outDir, env);
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
  const lab =
    loaded.targetRef.kind === 'lab'
      ? await ensureLab({ labName, stateDir: labStateDir, keep: req.keepLab === true, notice })
      : undefined;
  let guard: RunGuard | undefined;
  try {
    return await runOnTarget({ ...base, startedLab: lab?.startedLab === true });
  } finally {
    await guard?.end();
    await lab?.end();
  }

  async function runOnTarget(summaryBase: Omit<RunSummary, 'exitCode' | 'verdict'>): Promise<RunSummary> {
    const isLab = loaded.targetRef.kind === 'lab';
    const resolved = await resolveTargetRef(isLab ? LAB_TARGET : summaryBase.target, {
      labStateDir,
      env,
    });
    const { target } = resolved;
    assertFitsTarget(loaded, target, req.experiment, summaryBase.target);
    await confirmDestructive(req, experiment, target, isLab);
    // Lease + run index before anything touches the target (docs/safety.md); released by the
    // caller's finally. Observation-only runs (no timeline) need neither.
    if (experiment.timeline.length > 0) {
      guard = await guardRun({
        runId: summaryBase.runId,
        runDir: summaryBase.runDir,
        command: 'run',
        targetRef: summaryBase.target,
        target,
        ...(isLab ? { labStateDir } : { targetFile: summaryBase.target }),
        env,
        ...(req.breakLease ? { breakLease: true } : {}),
        onNotice: notice,
      });
    }

    // --- preflight: the doctor's identity, websocket and shared-secret checks around the sign-in ---
    const credentials = await preflightCredentials(target, usersNeeded(experiment.load));
    notice(
      `preflight: ${target.openwebui.url} answers (Open WebUI ${credentials.version}); ${credentials.users.length} user(s) signed in once, ${credentials.apiTokens.length} API key(s)`,
    );

    // --- wiring ---------------------------------------------------------------------------------
    mkdirSync(summaryBase.runDir, { recursive: true });
    copyFileSync(loaded.file, join(summaryBase.runDir, 'experiment.yaml'));
    const samplesFile = join(summaryBase.runDir, 'samples.ndjson');
    const sink = req.sampleSink ? req.sampleSink(samplesFile) : new NdjsonFileSink(samplesFile);
    const stack = RevertStack.create(join(summaryBase.runDir, 'reverts.json'), summaryBase.runId);
    writeRunInfo(summaryBase.runDir, {
      runId: summaryBase.runId,
      kind: 'run',
      target: summaryBase.target,
      ...(isLab ? { labStateDir } : {}),
      ...(resolved.targetFile !== undefined ? { targetFile: resolved.targetFile } : {}),
      pid: process.pid,
    });
    const drivers = driversForTarget(target, isLab ? { labStateDir } : {});
    const startupBudget =
      target.replicas && 'startupBudget' in target.replicas ? target.replicas.startupBudget : undefined;
    const faults = new DriverFaultInjector(drivers, {
      runId: summaryBase.runId,
      ...(startupBudget !== undefined ? { replicaHealthBudgetMs: startupBudget } : {}),
    });
    const engine: LoadEngine = req.engineFactory
      ? req.engineFactory({ experiment, target, runDir: summaryBase.runDir })
      : engineFor(experiment, target, credentials, {
          workers: req.workers,
          k6Binary: req.k6Binary,
          runDir: summaryBase.runDir,
          onNotice: notice,
        });
    const loadPlan = toLoadPlan(experiment.load, target);
    const slos = experiment.slos;
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
          title: experiment.title,
          file: loaded.file,
          timeline: experiment.timeline.map((e) => runnerEntry(e)),
          rollbackOrder: revertOrder(experiment),
          rollbackStrategy: experiment.settings.rollbackStrategy,
          abortOnBreach: experiment.settings.abortOnBreach,
        },
        {
          engine,
          plan: loadPlan,
          sink,
          faults,
          stack,
          clock,
          ...(baselineSlos.length > 0 ? { checkSteadyState: () => checkSlos(baselineSlos, true) } : {}),
          // During faults only SLOs that apply to every phase can abort the run.
          checkBreach: () =>
            checkSlos(
              slos.filter((s) => s.phases.includes('all')).map((s) => ({ ...s, phases: ['all'] })),
              false,
            ),
          ...(req.observer ? { observer: req.observer } : {}),
          ...(req.interrupt ? { interrupt: req.interrupt } : {}),
          ...(req.stopReverting ? { stopReverting: req.stopReverting } : {}),
          runId: summaryBase.runId,
          target: { name: target.name, url: target.openwebui.url, version: credentials.version },
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
    if (outcome.leftInPlace.length > 0)
      notice(
        `rollbackStrategy is \`never\`: ${outcome.leftInPlace.length} fault(s) left in place for inspection (${outcome.leftInPlace.map((e) => e.name).join(', ')}); revert them with \`owui-chaos rollback --run ${summaryBase.runDir}\``,
      );
    const stops = stopsOf(outcome, stillInjected, summaryBase.runDir);
    const results = applyOutcome(
      await evaluateRun({
        sampleFiles: [samplesFile],
        journal: outcome.journal,
        slos,
        recoveryWindowMs: experiment.settings.recoveryWindow,
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
      ...(outcome.leftInPlace.length > 0 ? { leftInPlace: outcome.leftInPlace.map((e) => e.name) } : {}),
      exitCode: results.exitCode,
      verdict: results.verdict,
      ...(primary
        ? { error: { code: primary.code, message: primary.message, suggestions: primary.suggestions } }
        : {}),
    };
  }
}
