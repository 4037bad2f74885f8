// The `owui-chaos gameday` use case (DESIGN §9, docs/gameday.md): resolves the plan and the
// target (starting the lab if it is the target and not up), preflights, takes the target's lease,
// writes the run directory and starts a session (gameday-session.ts) with its load. Ctrl-C, crash
// and `owui-chaos rollback` restore the target exactly as for `run`: every inverse is in
// `reverts.json` before its fault is applied, and `run.json` says where.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultSlosFile, experimentsDir } from '../cli/paths.js';
import { resolveExperimentRef } from '../core/config/builtin.js';
import { loadExperiment, type Experiment } from '../core/config/experiment.js';
import { describeFault, FAULT_FACTS } from '../core/config/faults.js';
import { loadSloDefaults } from '../core/config/slo-defaults.js';
import { LAB_TARGET, loadTarget } from '../core/config/target.js';
import { errorMessage, PreflightError, UsageError } from '../core/errors.js';
import { parseDuration } from '../core/clock.js';
import { describeCheck, type Hypothesis } from '../core/gameday/hypotheses.js';
import { RevertStack } from '../core/runner/revert-stack.js';
import { createAgent } from '../engines/node/http.js';
import { authSourceFromTarget, provisionCredentials } from '../engines/node/provisioning.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { defaultLabStateDir, readLabState } from '../infra/lab-state.js';
import { driversForTarget } from './drivers.js';
import { DriverFaultInjector } from './fault-injector.js';
import { engineFor, preflightReachable } from './run-experiment.js';
import { guardRun, type RunGuard } from './safety/run-guard.js';
import type { Annotator } from './gameday-annotate.js';
import { GamedaySession } from './gameday-session.js';
import type { GamedayEvent } from './gameday-types.js';
import { TappedNdjsonFileSink, type SampleObserver } from './sample-tap.js';

export { GamedaySession } from './gameday-session.js';
export type * from './gameday-types.js';

export interface GamedayRequest {
  /** An experiment file or built-in name: its load and SLOs, and its timeline when `scripted`. */
  plan?: string;
  /** Run the plan's timeline inside the session (true when `--plan` was given). */
  scripted?: boolean;
  target?: string;
  labName?: string;
  /** Session length (bounds the load); default the plan's `load.duration`. */
  duration?: string;
  outDir?: string;
  /** Confirmed: faults may be injected into a non-lab target. */
  yes?: boolean;
  keepLab?: boolean;
  /** Take the target's lease from a holder that is gone (docs/safety.md). */
  breakLease?: boolean;
  workers?: number;
  env?: NodeJS.ProcessEnv;
  /** Where fault windows and notes are posted (`--annotate grafana`). */
  annotator?: Annotator;
  observers?: SampleObserver[];
  onEvent?: (e: GamedayEvent) => void;
  onNotice?: (text: string) => void;
}

const GENERIC_PHASES = new Set(['baseline', 'fault', 'recovery', 'all']);

function durationFlag(text: string): number {
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new UsageError(`--duration ${text} is not a duration; use e.g. 30m, 2h`, { code: 'BAD_DURATION' });
}

/** Resolves plan and target (starting the lab if it is the target and not up), preflights, starts load. */
export async function startGameday(req: GamedayRequest): Promise<GamedaySession> {
  const env = req.env ?? process.env;
  const notice = req.onNotice ?? (() => undefined);
  const emit = req.onEvent ?? (() => undefined);
  const labName = req.labName ?? 'default';
  const labStateDir = defaultLabStateDir(labName, env);
  const file = await resolveExperimentRef(req.plan ?? 'gameday', { builtinDir: experimentsDir() });
  const loaded = await loadExperiment(file, {
    env,
    defaultSlos: await loadSloDefaults(defaultSlosFile(), env),
    flags: {
      ...(req.target !== undefined ? { target: req.target } : {}),
      // A scripted plan's timeline must fit the session; hand sessions replace the duration below.
      ...(req.duration !== undefined && req.scripted ? { duration: req.duration } : {}),
    },
    resolveTarget: async (ref) => (ref.kind === 'file' ? loadTarget(ref.file, { env }) : undefined),
  });
  const experiment: Experiment = req.scripted
    ? loaded.experiment
    : {
        ...loaded.experiment,
        timeline: [],
        // Phases named after the plan's timeline do not exist in a hand session: keep the SLOs of
        // the phases every session has (hand faults are phases under their own names too).
        slos: loaded.experiment.slos.flatMap((slo) => {
          const phases = slo.phases.filter((p) => GENERIC_PHASES.has(p));
          return phases.length > 0 ? [{ ...slo, phases }] : [];
        }),
        load: {
          ...loaded.experiment.load,
          ...(req.duration !== undefined ? { duration: durationFlag(req.duration) } : {}),
        },
      };
  const isLab = loaded.targetRef.kind === 'lab';
  // The plan's own SLOs (not the defaults merged under them) are its hypotheses.
  const own = await loadExperiment(file, {
    env,
    flags: req.target !== undefined ? { target: req.target } : {},
    resolveTarget: () => Promise.resolve(undefined),
  });
  const planHypotheses: Hypothesis[] = own.experiment.slos.flatMap((slo, i) => {
    const phases = req.scripted ? slo.phases : slo.phases.filter((p) => GENERIC_PHASES.has(p));
    return phases.length > 0
      ? [
          {
            id: `plan-${i + 1}`,
            source: 'plan' as const,
            text: slo.description ?? describeCheck(slo),
            at: null,
            slos: [{ ...slo, phases }],
          },
        ]
      : [];
  });

  let startedLab = false;
  if (isLab) {
    const status = await labStatus(labStateDir, { nginxProbes: 0 }).catch(() => undefined);
    if (!status?.running || !status.healthy) {
      notice(`the lab \`${labName}\` is not up: starting it (owui-chaos lab up --name ${labName})`);
      await labUp({ name: labName, stateDir: labStateDir, onProgress: (s: string) => notice(`lab: ${s}`) });
      startedLab = true;
    }
  }
  const stopLab = async (): Promise<void> => {
    if (startedLab && !req.keepLab) {
      notice('stopping the lab this session started (keep it with --keep-lab)');
      await labDown(labStateDir).catch((err: unknown) => notice(`lab down failed: ${errorMessage(err)}`));
    }
  };
  let guard: RunGuard | undefined;
  try {
    const labTargetFile = isLab ? readLabState(labStateDir)?.targetFile : undefined;
    const { target } = await loadTarget(isLab ? LAB_TARGET : (loaded.targetRef as { file: string }).file, {
      env,
      ...(labTargetFile ? { labTargetFile } : {}),
    });
    if (!isLab && !req.yes) {
      throw new PreflightError(
        `A game day injects faults by hand into the non-lab target \`${target.name}\`; confirm with --yes`,
        {
          code: 'NOT_CONFIRMED',
          suggestions: ['owui-chaos gameday --target <file> --yes'],
        },
      );
    }
    await preflightReachable(target);
    const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-gameday`;
    const runDir = resolve(req.outDir ?? join(env.OWUI_CHAOS_HOME ?? '.owui-chaos', 'runs', runId));
    // The target's lease and the run index before anything touches the target, as for `run`
    // (docs/safety.md): a second gameday, run or capacity on the same target is refused.
    guard = await guardRun({
      runId,
      runDir,
      command: 'gameday',
      targetRef: isLab ? LAB_TARGET : (loaded.targetRef as { file: string }).file,
      target,
      ...(isLab ? { labStateDir } : {}),
      ...(!isLab ? { targetFile: (loaded.targetRef as { file: string }).file } : {}),
      env,
      ...(req.breakLease ? { breakLease: true } : {}),
      onNotice: notice,
    });
    const needUsers = Math.max(
      experiment.load.sockets?.vus ?? 0,
      experiment.load.chat?.model === 'closed' ? experiment.load.chat.vus : 1,
      1,
    );
    const agent = createAgent(8);
    let credentials;
    try {
      credentials = await provisionCredentials(
        agent,
        target.openwebui.url,
        authSourceFromTarget(target.auth, needUsers),
      );
    } finally {
      await agent.close();
    }
    notice(
      `preflight: ${target.openwebui.url} answers (Open WebUI ${credentials.version}); ${credentials.users.length} user(s) signed in once`,
    );

    mkdirSync(runDir, { recursive: true });
    copyFileSync(file, join(runDir, 'experiment.yaml'));
    const samplesFile = join(runDir, 'samples.ndjson');
    const stack = RevertStack.create(join(runDir, 'reverts.json'), runId);
    writeFileSync(
      join(runDir, 'run.json'),
      JSON.stringify(
        {
          runId,
          kind: 'gameday',
          target: isLab ? LAB_TARGET : (loaded.targetRef as { file: string }).file,
          labStateDir: isLab ? labStateDir : undefined,
          targetFile: labTargetFile ?? (isLab ? undefined : (loaded.targetRef as { file: string }).file),
          pid: process.pid,
        },
        null,
        2,
      ),
    );
    // The sink exists before the session that observes it.
    const ref: { session?: GamedaySession } = {};
    const sink = new TappedNdjsonFileSink(samplesFile, [
      (s) => {
        ref.session?.live.observe(s);
        ref.session?.sloEval.add(s);
      },
      ...(req.observers ?? []),
    ]);
    const drivers = driversForTarget(target, isLab ? { labStateDir } : {});
    // Fault names carry the run's tag, as for `run` (docs/safety.md).
    const faults = new DriverFaultInjector(drivers, { runId });
    const engine = engineFor(experiment, target, credentials, {
      workers: req.workers,
      k6Binary: undefined,
      runDir,
    });
    const session = new GamedaySession(runId, runDir, target, experiment, {
      engine,
      sink,
      samplesFile,
      stack,
      drivers,
      faults,
      emit,
      onFinished: async () => {
        const g = guard;
        guard = undefined;
        await g?.end();
        await stopLab();
      },
      planHypotheses,
      ...(req.annotator ? { annotator: req.annotator } : {}),
    });
    ref.session = session;
    session.startLoad();
    if (req.scripted) session.schedulePlan();
    emit({ type: 'session-started', at: session.startedAt, runDir, endsAt: session.endsAt });
    return session;
  } catch (err) {
    await guard?.end();
    await stopLab();
    throw err;
  }
}

/** Facts the console shows next to each form. */
export { FAULT_FACTS, describeFault };
