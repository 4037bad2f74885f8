// The `owui-chaos capacity` use case (docs/capacity.md): per replica count (and with one replica
// down), an open-model sweep to the SLO knee; then the table, a recommendation, capacity.json and
// capacity.html. Adapters are wired here; the search and the judging are pure core
// (src/core/capacity). Nothing here prints: the plan and progress go to the observer.
//
// Safety: every change to the target — scaling (lab: nginx upstreams + stopped replicas; real
// target: `--scale-cmd`) and the minus-one kill — is persisted on the revert stack
// (reverts.json + run.json in the output directory) BEFORE it is made, and reverted on success,
// failure and interrupt; after a crash, `owui-chaos rollback --run DIR` replays it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { defaultSlosFile } from '../cli/paths.js';
import { formatDuration } from '../core/clock.js';
import { renderCapacityHtml } from '../core/capacity/html.js';
import {
  demandRate,
  parseDemand,
  renderPlan,
  stepMs,
  sweepLabel,
  sweepTargets,
  type StepTiming,
  type SweepTarget,
} from '../core/capacity/plan.js';
import {
  CAPACITY_SCHEMA_VERSION,
  capacityRows,
  expectedKey,
  formatLoad,
  recommend,
  type LoadUnit,
  type CapacityDocument,
  type CapacityStep,
  type CapacitySweep,
} from '../core/capacity/result.js';
import { runSweep } from '../core/capacity/run-sweep.js';
import {
  arrivalsIn,
  clearlyPast,
  latticeAnchor,
  type ArrivalLattice,
  measureStep,
  measureStepLive,
  type StepWindow,
} from '../core/capacity/step.js';
import { DEFAULT_SWEEP, roundLoad, type StepReason, type SweepConfig } from '../core/capacity/sweep.js';
import { loadSloDefaults } from '../core/config/slo-defaults.js';
import { LAB_TARGET, loadTarget, type Target } from '../core/config/target.js';
import { PreflightError, UsageError, errorMessage } from '../core/errors.js';
import type { RevertRecord } from '../core/ports.js';
import { RevertStack, type RevertEntry } from '../core/runner/revert-stack.js';
import type { Sample, SampleSink } from '../core/samples.js';
import { loadSloFile } from '../core/slo/load.js';
import { objectiveText, sloId, type SloSpec } from '../core/slo/spec.js';
import {
  describeRevert,
  replicaStartRecord,
  restoreConfigRecord,
  compositeRevertRecord,
} from '../drivers/revert-records.js';
import { NodeLoadEngine } from '../engines/node/engine.js';
import { createAgent } from '../engines/node/http.js';
import {
  authSourceFromTarget,
  provisionCredentials,
  type Credentials,
} from '../engines/node/provisioning.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { scaleLab } from '../lab/lab-scale.js';
import {
  capacityEnv,
  capacityFromEnv,
  labKneePerSecond,
  type CapacityModel,
} from '../lab/owui-sim/capacity.js';
import { defaultLabStateDir, readLabState } from '../infra/lab-state.js';
import {
  isScaleRecord,
  revertScaleRecord,
  runScaleCommand,
  scaleBackRecord,
  scaleCommandFor,
  type ScaleCommand,
} from './capacity-scale.js';
import { driversForTarget } from './drivers.js';
import { DriverFaultInjector } from './fault-injector.js';
import { MOCK_MODEL } from './run-experiment.js';
import { guardRun, type RunGuard } from './safety/run-guard.js';

export interface CapacityRequest {
  target?: string;
  labName?: string;
  replicas: number[];
  slosFile?: string;
  /**
   * `api`: chats per second over SSE. `browser`: connected Socket.IO users, each chatting every
   * `chatEveryMs` on its own open schedule; the load is the number of users. `mixed`: the same
   * users, `browserShare` of them browser users and the rest chatting over the API at the same
   * interval (docs/capacity.md "Browser users").
   */
  client?: 'api' | 'browser' | 'mixed';
  for?: string;
  /** How often one user starts a chat: the users a browser/mixed sweep connects, and `--for N-users`. */
  chatEveryMs?: number;
  /** Browser/mixed sweeps: at most this many users (default 200). */
  maxUsers?: number;
  /** Browser/mixed sweeps: the first step's users (default: --start-rate × the interval, at least 1). */
  startUsers?: number;
  /** `--client mixed`: the share of the users that are browser users (default 0.5). */
  browserShare?: number;
  /**
   * Browser/mixed: `open` (default) — each user on its own schedule; `closed` — the closed loop
   * (chat, wait for done, think `chatEveryMs`), judged as a closed-loop tool would (no intended
   * arrivals, latency from the actual start). Only a control: it shows what the open schedule fixes.
   */
  browserSchedule?: 'open' | 'closed';
  headroom?: number;
  minusOne?: boolean;
  /** With minusOne: sweep only the minus-one variants (the normal curve is known already). */
  onlyMinusOne?: boolean;
  maxDurationMs?: number;
  maxRate?: number;
  startRate?: number;
  tokens?: number;
  timing?: Partial<StepTiming>;
  resolution?: number;
  /**
   * Arrivals each measurement window must hold at least (the window grows at low loads): a p95 of
   * a handful of samples is their maximum, and one slow outlier on a busy machine would decide it.
   */
  minSamples?: number;
  /** Event-loop delay (p99) of the generator above which a step is invalid. */
  maxLagMs?: number;
  scaleCmd?: string;
  /**
   * With --scale-cmd: the replica count to restore at the end (and after Ctrl-C or a failure).
   * Default: the number of replicas the target file lists (`openwebui.replicas`).
   */
  scaleBack?: number;
  /** Break the target's lease when its holder is gone (docs/safety.md). */
  breakLease?: boolean;
  outDir?: string;
  /** When this run starts the lab: its capacity model (default: the documented demo model). */
  labCapacity?: CapacityModel;
  keepLab?: boolean;
  env?: NodeJS.ProcessEnv;
  interrupt?: AbortSignal;
  observer?: CapacityObserver;
}

export interface LiveStep {
  sweep: string;
  load: number;
  reason: StepReason;
  elapsedMs: number;
  stepMs: number;
  activeStreams: number;
  ttftP95Ms?: number;
  stepsDone: number;
}

export interface CapacityObserver {
  onNotice?(text: string): void;
  onPlan?(text: string): void;
  onStepStart?(sweep: string, load: number, reason: StepReason): void;
  onLive?(live: LiveStep): void;
  onStep?(sweep: string, step: CapacityStep): void;
  onSweep?(sweep: CapacitySweep): void;
}

export interface CapacitySummary {
  outDir: string;
  document: CapacityDocument;
  files: { json: string; html: string };
  rows: ReturnType<typeof capacityRows>;
  startedLab: boolean;
  stillChanged: Array<Pick<RevertEntry, 'name' | 'description' | 'error'>>;
}

/** The lab's demo capacity model when `capacity` starts the lab: 3 slots, 40 ms per token. */
export const DEMO_LAB_CAPACITY: CapacityModel = {
  maxStreams: 3,
  queueLimit: 0,
  tokenCostMs: 40,
  requestCostMs: 0,
};

/** Bound on waiting for the target to settle after an overloaded step. */
const SETTLE_BUDGET_MS = 90_000;

/** SLOs a capacity sweep judges by default: those of experiments/slos/default.yaml that scale with load. */
const CAPACITY_METRICS = new Set(['ttft', 'e2e', 'tpot', 'itl', 'stream_outcome', 'garbled_token_rate']);

export async function runCapacity(req: CapacityRequest): Promise<CapacitySummary> {
  const env = req.env ?? process.env;
  const obs = req.observer ?? {};
  const notice = (t: string): void => obs.onNotice?.(t);
  const began = Date.now();
  const client = req.client ?? 'api';
  const inUsers = client !== 'api';
  const unit: LoadUnit = inUsers ? 'users' : 'chats/s';
  const chatEveryMs = req.chatEveryMs ?? 30_000;
  const browserShare = client === 'browser' ? 1 : client === 'mixed' ? (req.browserShare ?? 0.5) : 0;
  const browserSchedule = req.browserSchedule ?? 'open';
  if (inUsers && !(chatEveryMs >= 100)) {
    throw new UsageError(`--chat-every ${chatEveryMs} ms is too short for a user's chat interval`, {
      code: 'CAPACITY_BAD_CHAT_INTERVAL',
      suggestions: ['--chat-every 10s'],
    });
  }
  if (client === 'mixed' && !(browserShare > 0 && browserShare < 1)) {
    throw new UsageError(`--mix ${Math.round(browserShare * 100)} % must lie strictly between 0 and 100 %`, {
      code: 'CAPACITY_BAD_MIX',
      suggestions: ['--client mixed --mix 50%', '--client browser', '--client api'],
    });
  }
  const isLab = (req.target ?? LAB_TARGET) === LAB_TARGET;
  if (!isLab && !req.scaleCmd && req.replicas.length > 1) {
    throw new UsageError(
      `--replicas ${req.replicas.join(',')} on a real target needs --scale-cmd to change the replica count; without one only the current count is measured`,
      {
        code: 'CAPACITY_SCALE_CMD_MISSING',
        suggestions: [
          `owui-chaos capacity --target ${req.target} --replicas ${req.replicas.join(',')} --scale-cmd 'docker compose up -d --scale open-webui={n}'`,
          `owui-chaos capacity --target ${req.target} --replicas ${req.replicas[req.replicas.length - 1]}`,
        ],
      },
    );
  }
  if (!isLab && req.scaleCmd && !req.scaleCmd.includes('{n}')) {
    throw new UsageError(`--scale-cmd "${req.scaleCmd}" has no {n} for the replica count`, {
      code: 'CAPACITY_BAD_SCALE_CMD',
      suggestions: [`--scale-cmd 'docker compose up -d --scale open-webui={n}'`],
    });
  }
  const labName = req.labName ?? 'default';
  const labStateDir = defaultLabStateDir(labName, env);
  const id = `${new Date(began).toISOString().replace(/[:.]/g, '-')}-capacity`;
  const outDir = resolve(req.outDir ?? join(env.OWUI_CHAOS_HOME ?? '.owui-chaos', 'runs', id));
  mkdirSync(outDir, { recursive: true });

  // --- SLOs ------------------------------------------------------------------------------------
  const slos = (
    req.slosFile
      ? await loadSloFile(req.slosFile)
      : (await loadSloDefaults(defaultSlosFile(), env)).filter(
          (s) =>
            CAPACITY_METRICS.has(s.metric) &&
            // A default SLO of a client kind the sweep does not load with would never have data.
            (s.client === undefined ||
              client === 'mixed' ||
              (s.client === 'api' ? client === 'api' : client === 'browser')),
        )
  ).map((s): SloSpec => ({ ...s, phases: ['all'] }));
  if (slos.length === 0) {
    throw new UsageError(`No SLO to sweep against${req.slosFile ? ` in ${req.slosFile}` : ''}`, {
      code: 'CAPACITY_NO_SLOS',
      suggestions: ['List SLOs such as `- { metric: ttft, stat: p95, lte: 2000 }` in the --slos file'],
    });
  }
  const latencyObjectives = slos
    .filter((s) => (s.metric === 'ttft' || s.metric === 'e2e') && s.lte !== undefined)
    .map((s) => s.lte!);
  const timing: StepTiming = {
    warmupMs: req.timing?.warmupMs ?? 10_000,
    measureMs: req.timing?.measureMs ?? 30_000,
    // The tail lets every window arrival be measured up to the largest latency objective.
    tailMs: req.timing?.tailMs ?? Math.min(60_000, Math.max(1000, ...latencyObjectives.map((v) => v + 500))),
  };
  if (latencyObjectives.some((o) => o > timing.tailMs)) {
    throw new UsageError(
      `The step tail (${timing.tailMs} ms) is shorter than a latency objective (${Math.max(...latencyObjectives)} ms)`,
      {
        code: 'CAPACITY_TAIL_TOO_SHORT',
        suggestions: ['Leave the tail at its default, or make it longer than every ttft/e2e objective'],
      },
    );
  }
  const tokens = req.tokens ?? 50;
  const maxDurationMs = req.maxDurationMs ?? 15 * 60_000;
  const baseConfig: SweepConfig = inUsers
    ? {
        ...DEFAULT_SWEEP,
        minLoad: 1,
        startLoad: req.startUsers ?? Math.max(1, Math.round((req.startRate ?? 1) * (chatEveryMs / 1000))),
        maxLoad: req.maxUsers ?? 200,
        integer: true,
        ...(req.resolution !== undefined ? { resolution: req.resolution } : {}),
      }
    : {
        ...DEFAULT_SWEEP,
        startLoad: req.startRate ?? 1,
        maxLoad: req.maxRate ?? 200,
        ...(req.resolution !== undefined ? { resolution: req.resolution } : {}),
      };
  /** Chats per second `load` offers (users chat once per interval). */
  const chatsPerSecond = (load: number): number => (inUsers ? load / (chatEveryMs / 1000) : load);
  const maxLagMs = req.maxLagMs ?? 100;
  const minSamples = req.minSamples ?? 30;

  // --- target ----------------------------------------------------------------------------------
  const targets = sweepTargets(req.replicas, req.minusOne === true).filter(
    (t) => t.minusOne || !(req.minusOne === true && req.onlyMinusOne === true),
  );
  if (targets.length === 0) {
    throw new UsageError(`Nothing to sweep: no replica count in ${req.replicas.join(',')} can lose one`, {
      code: 'CAPACITY_BAD_REPLICAS',
      suggestions: ['--replicas 2,3 --minus-one'],
    });
  }
  const biggest = Math.max(...req.replicas);
  let startedLab = false;
  if (isLab) {
    const status = await labStatus(labStateDir, { nginxProbes: 0 }).catch(() => undefined);
    if (!status?.running || !status.healthy) {
      const model = req.labCapacity ?? DEMO_LAB_CAPACITY;
      notice(
        `the lab \`${labName}\` is not up: starting it with ${biggest} replicas and the capacity model ${JSON.stringify(model)}`,
      );
      await labUp({
        name: labName,
        stateDir: labStateDir,
        replicas: biggest,
        replicaEnv: capacityEnv(model),
        onProgress: (m) => notice(`lab: ${m}`),
      });
      startedLab = true;
    }
  }
  const labState = isLab ? readLabState(labStateDir) : undefined;
  const { target } = await loadTarget(isLab ? LAB_TARGET : req.target!, {
    env,
    ...(labState?.targetFile ? { labTargetFile: labState.targetFile } : {}),
  });
  let scale: { cmd: ScaleCommand; back: number } | undefined;
  if (!isLab && req.scaleCmd) {
    const back = req.scaleBack ?? target.openwebui.replicas?.length;
    if (back === undefined || !(back >= 1)) {
      throw new UsageError(
        `--scale-cmd needs the replica count to restore at the end: ${req.target} lists no openwebui.replicas`,
        {
          code: 'CAPACITY_SCALE_BACK_MISSING',
          suggestions: [
            `owui-chaos capacity --target ${req.target} --scale-cmd '${req.scaleCmd}' --scale-back 3   # the count it runs with now`,
          ],
        },
      );
    }
    scale = { cmd: { template: req.scaleCmd, url: target.openwebui.url }, back };
  }
  const labModel = labState?.replicas[0] ? capacityFromEnv(labState.replicas[0].spawn.env) : undefined;
  const expectedKnees: Record<string, number> | undefined = labModel
    ? Object.fromEntries(
        targets.map((t) => [
          expectedKey(t),
          // In users: the knee rate × the interval (every user chats once per interval).
          labKneePerSecond(labModel, tokens, t.minusOne ? t.replicas - 1 : t.replicas) *
            (inUsers ? chatEveryMs / 1000 : 1),
        ]),
      )
    : undefined;

  const stack = RevertStack.create(join(outDir, 'reverts.json'), id);
  writeFileSync(
    join(outDir, 'run.json'),
    JSON.stringify(
      {
        runId: id,
        kind: 'capacity',
        target: isLab ? LAB_TARGET : req.target,
        labStateDir: isLab ? labStateDir : undefined,
        targetFile: labState?.targetFile ?? (isLab ? undefined : req.target),
        pid: process.pid,
      },
      null,
      2,
    ),
  );
  // The target's lease (docs/safety.md) before anything touches it; released after the reverts.
  let guard: RunGuard;
  try {
    guard = await guardRun({
      runId: id,
      runDir: outDir,
      command: 'capacity',
      targetRef: isLab ? LAB_TARGET : req.target!,
      target,
      ...(isLab ? { labStateDir } : { targetFile: req.target! }),
      env,
      ...(req.breakLease ? { breakLease: true } : {}),
      onNotice: notice,
    });
  } catch (err) {
    if (startedLab && !req.keepLab) await labDown(labStateDir).catch(() => undefined);
    throw err;
  }
  const drivers = driversForTarget(target, isLab ? { labStateDir } : {});
  const faults = new DriverFaultInjector(drivers);
  const revertAll = async (): Promise<void> => {
    for (const entry of stack.outstanding()) {
      try {
        if (isScaleRecord(entry.record)) await revertScaleRecord(entry.record!, notice);
        else await faults.revert(entry.record!);
        stack.mark(entry, 'reverted', Date.now());
      } catch (err) {
        stack.mark(entry, 'failed', Date.now(), errorMessage(err));
      }
    }
  };

  let document: CapacityDocument | undefined;
  let previousOverloaded = false;
  let engine: NodeLoadEngine | undefined;
  try {
    const credentials = await provision(target, inUsers ? baseConfig.maxLoad : 1);
    engine = new NodeLoadEngine({
      credentials,
      workers: 0, // one thread: its event-loop delay IS the generator's lag (docs/capacity.md)
      verify: target.model === MOCK_MODEL,
      // With a capacity model the mock LLM answers at once: the replica's cost is the service time.
      ...(labModel ? { pacing: { firstTokenMs: 0, tokensPerSecond: 0 } } : {}),
      streamTimeoutMs: stepMs(timing) + 10_000,
      finishGraceMs: 15_000,
      // Browser users connect during the first half of the warm-up; their schedules start after.
      socketRampMs: Math.min(5000, timing.warmupMs / 2),
    });
    const overheadMs = 5000;
    const plan = renderPlan({
      target: isLab
        ? `the lab \`${labName}\` (${target.openwebui.url})`
        : `${target.name} (${target.openwebui.url})`,
      sweeps: targets,
      config: baseConfig,
      timing,
      maxDurationMs,
      sweepOverheadMs: overheadMs,
      slos: slos.map((s) => `${sloId(s)} ${objectiveText(s)}`),
      ...(inUsers ? { users: { chatIntervalMs: chatEveryMs, schedule: browserSchedule, browserShare } } : {}),
    });
    obs.onPlan?.(
      plan +
        (expectedKnees
          ? `\n  lab capacity model: ${labModel!.maxStreams} streams per replica, ${labModel!.requestCostMs} ms + ${labModel!.tokenCostMs} ms/token × ${tokens} tokens → knee ${Object.entries(
              expectedKnees,
            )
              .map(([n, k]) => `${n} serving: ${formatLoad(k, unit)}`)
              .join(', ')}`
          : ''),
    );

    const sweeps: CapacitySweep[] = [];
    let status: CapacityDocument['status'] = 'complete';
    for (const t of targets) {
      if (req.interrupt?.aborted) {
        status = 'interrupted';
        break;
      }
      const left = maxDurationMs - (Date.now() - began);
      if (left < stepMs(timing) * 2) {
        notice(
          `--max-duration ${formatDuration(maxDurationMs)} reached: skipping ${sweepLabel(t)} and the rest`,
        );
        status = 'budget';
        break;
      }
      const label = sweepLabel(t);
      const sweepBegan = Date.now();
      await scaleTo(t.replicas);
      let downReplica: string | undefined;
      let killEntry: RevertEntry | undefined;
      if (t.minusOne) {
        const replicas = (await drivers.replicas().list()).filter((r) => r.state === 'running');
        const victim = replicas[replicas.length - 1];
        if (!victim)
          throw new PreflightError(`No running replica to take down for ${label}`, {
            code: 'NOT_ENOUGH_REPLICAS',
          });
        const prepared = await faults.prepare({
          name: `minus-one-${t.replicas}`,
          at: 0,
          action: 'replica.kill',
          params: { replica: victim.name, count: 1 },
        });
        killEntry = stack.record(
          {
            name: `minus-one-${t.replicas}`,
            action: 'replica.kill',
            description: prepared.description,
            record: prepared.record,
          },
          Date.now(),
        );
        notice(`${label}: kill ${victim.name} for the whole sweep`);
        await prepared.apply();
        downReplica = victim.name;
      }
      const config = sweepConfigFor(t, sweeps, baseConfig);
      const sweep = await runSweep(
        t,
        config,
        slos,
        (load, reason, index) => runStep(label, load, reason, index, sweeps.length),
        {
          stepsLeft: () => Math.floor((maxDurationMs - (Date.now() - began)) / (stepMs(timing) + 500)),
          ...(req.interrupt ? { signal: req.interrupt } : {}),
          onStep: (s) => obs.onStep?.(label, s),
        },
      );
      if (killEntry) {
        try {
          await faults.revert(killEntry.record!);
          stack.mark(killEntry, 'reverted', Date.now());
        } catch (err) {
          stack.mark(killEntry, 'failed', Date.now(), errorMessage(err));
          throw err;
        }
      }
      const done: CapacitySweep = {
        ...sweep,
        ...(downReplica ? { downReplica } : {}),
        durationMs: Date.now() - sweepBegan,
      };
      sweeps.push(done);
      obs.onSweep?.(done);
      if (req.interrupt?.aborted) status = 'interrupted';
      else if (sweep.result.status === 'budget') status = 'budget';
    }

    const demand = req.for ? parseDemand(req.for) : undefined;
    const chatEvery = chatEveryMs;
    document = {
      schemaVersion: CAPACITY_SCHEMA_VERSION,
      generatedAt: Date.now(),
      target: { name: target.name, url: target.openwebui.url, kind: isLab ? 'lab' : 'file' },
      client,
      ...(inUsers
        ? {
            unit,
            chatIntervalMs: chatEveryMs,
            browserSchedule,
            ...(client === 'mixed' ? { browserShare } : {}),
          }
        : {}),
      tokens,
      slos,
      sweep: baseConfig,
      timing,
      ...(expectedKnees ? { expectedKnees } : {}),
      sweeps,
      ...(demand
        ? {
            recommendation: recommend(
              sweeps,
              demand,
              demandRate(demand, chatEvery),
              req.headroom ?? 0.2,
              ...(inUsers ? [{ chatIntervalMs: chatEveryMs }] : []),
            ),
          }
        : {}),
      status,
      durationMs: Date.now() - began,
    };
  } finally {
    await revertAll();
    await drivers.close().catch(() => undefined);
    await guard.end();
    if (startedLab && !req.keepLab) {
      notice('stopping the lab this run started (keep it with --keep-lab)');
      await labDown(labStateDir).catch((err: unknown) => notice(`lab down failed: ${errorMessage(err)}`));
    }
  }
  const json = join(outDir, 'capacity.json');
  const html = join(outDir, 'capacity.html');
  writeFileSync(json, JSON.stringify(document, null, 2));
  writeFileSync(html, renderCapacityHtml(document));
  return {
    outDir,
    document,
    files: { json, html },
    rows: capacityRows(document),
    startedLab,
    stillChanged: stack
      .outstanding()
      .map((e) => ({ name: e.name, description: e.description, ...(e.error ? { error: e.error } : {}) })),
  };

  // --- helpers (closures over the wiring above) -------------------------------------------------

  async function provision(t: Target, users: number): Promise<Credentials> {
    const agent = createAgent(4);
    try {
      const creds = await provisionCredentials(agent, t.openwebui.url, authSourceFromTarget(t.auth, users));
      if (inUsers && creds.users.length === 0)
        throw new UsageError(
          `--client ${client} needs user accounts to connect browser users, but ${t.name} gives none (API keys cannot open a socket)`,
          {
            code: 'NO_SOCKET_USERS',
            suggestions: [
              'Set auth.admin with auth.users.provision, or auth.users.existing, in the target file.',
            ],
          },
        );
      return creds;
    } finally {
      await agent.close();
    }
  }

  async function scaleTo(n: number): Promise<void> {
    if (isLab) {
      const state = readLabState(labStateDir)!;
      const running = state.replicas.filter((r) => r.pid !== undefined).slice(n);
      const nginxConfig = await drivers.nginx().readConfig();
      const records: RevertRecord[] = [
        restoreConfigRecord(state.nginx!.configFile, nginxConfig),
        ...running.map((r) => replicaStartRecord(r.name, 30_000)),
      ];
      const record = records.length === 1 ? records[0]! : compositeRevertRecord(records);
      const entry = stack.record(
        { name: `scale-${n}`, action: 'lab.scale', description: describeRevert(record), record },
        Date.now(),
      );
      const result = await scaleLab(labStateDir, n, { onProgress: (m) => notice(`scale to ${n}: ${m}`) });
      notice(
        `scaled the lab to ${n} replica(s) (${result.serving.join(', ')}) in ${formatDuration(result.durationMs)}`,
      );
      void entry;
      return;
    }
    if (!scale) return;
    // The way back first (persisted), once: the count the deployment had before the first scale.
    if (!stack.entries.some((e) => isScaleRecord(e.record))) {
      stack.record(
        {
          name: `scale-back-${scale.back}`,
          action: 'scale.command',
          description: `scale back to ${scale.back} replicas: ${scaleCommandFor(scale.cmd.template, scale.back)}`,
          record: scaleBackRecord(scale.cmd, scale.back),
        },
        Date.now(),
      );
    }
    await runScaleCommand(scale.cmd, n, notice);
  }

  function sweepConfigFor(t: SweepTarget, done: readonly CapacitySweep[], base: SweepConfig): SweepConfig {
    // Start near the knee a previous sweep predicts (per serving replica), a little below it.
    const serving = (s: SweepTarget): number => (s.minusOne ? s.replicas - 1 : s.replicas);
    const previous = [...done]
      .reverse()
      .find(
        (s) => s.result.knee !== null && (s.result.status === 'found' || s.result.status === 'above-max'),
      );
    if (!previous) return base; // --start-rate applies to the first sweep only
    const estimate = (previous.result.knee! * serving(t)) / serving(previous);
    return { ...base, startLoad: roundLoad(Math.max(base.minLoad, 0.8 * estimate)), growth: 1.3 };
  }

  /** What a step at `load` offers: API chats per second and connected browser users. */
  function offered(load: number): { apiRate: number; browserUsers: number } {
    if (!inUsers) return { apiRate: load, browserUsers: 0 };
    const browserUsers = client === 'browser' ? load : Math.round(load * browserShare);
    return { apiRate: (load - browserUsers) / (chatEveryMs / 1000), browserUsers };
  }

  /**
   * The arrivals intended in the window, for censoring: the API lattice; the browser users'
   * lattice (their phases spread evenly: U / interval per second); mixed: the two counts added.
   * The closed-loop control has none — a closed loop knows no intended arrival.
   */
  function intendedArrivals(
    offer: { apiRate: number; browserUsers: number },
    samples: readonly Sample[],
    w: StepWindow,
    t0: number,
  ): { arrivals?: ArrivalLattice; expectedArrivals?: number } {
    if (inUsers && browserSchedule === 'closed') return {};
    const browserRate = offer.browserUsers / (chatEveryMs / 1000);
    if (offer.browserUsers === 0 || offer.apiRate === 0) {
      const ratePerSecond = offer.apiRate + browserRate;
      return { arrivals: { ratePerSecond, anchorMs: latticeAnchor(samples, t0) } };
    }
    const of = (client: string): Sample[] => samples.filter((s) => s.tags['client'] === client);
    const count = (ratePerSecond: number, own: Sample[]): number =>
      arrivalsIn({ ratePerSecond, anchorMs: latticeAnchor(own, t0) }, w.startMs, w.endMs);
    return { expectedArrivals: count(offer.apiRate, of('api')) + count(browserRate, of('browser')) };
  }

  /**
   * Probe chats (one at a time, 5 tokens) until one answers its first token within half the
   * tightest ttft objective (1 s without one), bounded by `SETTLE_BUDGET_MS`.
   */
  async function settleTarget(label: string): Promise<{ waitedMs: number; settled: boolean }> {
    const began = Date.now();
    const ttftObjectives = slos.filter((s) => s.metric === 'ttft' && s.lte !== undefined).map((s) => s.lte!);
    const limit = ttftObjectives.length > 0 ? Math.min(...ttftObjectives) / 2 : 1000;
    while (Date.now() - began < SETTLE_BUDGET_MS && !req.interrupt?.aborted) {
      const probe: Sample[] = [];
      await engine!.run(
        {
          durationMs: limit + 1000,
          baseUrl: target.openwebui.url,
          model: target.model,
          chat: { vus: 1, tokens: 5 },
        },
        { write: (metric, timeMs, value, tags) => void probe.push({ metric, timeMs, value, tags }) },
        req.interrupt ? { signal: req.interrupt } : {},
      );
      if (probe.some((s) => s.metric === 'ttft' && s.value <= limit)) {
        const waitedMs = Date.now() - began;
        if (waitedMs > 5000)
          notice(`${label}: the target took ${formatDuration(waitedMs)} to settle after an overloaded step`);
        return { waitedMs, settled: true };
      }
    }
    const waitedMs = Date.now() - began;
    notice(
      `${label}: the target did not settle within ${formatDuration(waitedMs)} after an overloaded step; measuring anyway`,
    );
    return { waitedMs, settled: false };
  }

  async function runStep(
    label: string,
    load: number,
    reason: StepReason,
    index: number,
    sweepIndex: number,
  ): Promise<CapacityStep> {
    void sweepIndex;
    // After an overloaded step, wait until the target is back to answering at once: a step must
    // measure its own load, not the backlog of the one before (docs/capacity.md "One step").
    const settle = previousOverloaded ? await settleTarget(label) : undefined;
    obs.onStepStart?.(label, load, reason);
    const samples: Sample[] = [];
    const sink: SampleSink = {
      write: (metric, timeMs, value, tags) => void samples.push({ metric, timeMs, value, tags }),
    };
    const stop = new AbortController();
    const onInterrupt = (): void => stop.abort();
    req.interrupt?.addEventListener('abort', onInterrupt, { once: true });
    const lag = monitorEventLoopDelay({ resolution: 10 });
    const rate = chatsPerSecond(load);
    const measureMs = Math.max(timing.measureMs, Math.ceil((1000 * minSamples) / rate));
    const durationMs = timing.warmupMs + measureMs + timing.tailMs;
    const t0 = Date.now();
    const window: StepWindow = {
      startMs: t0 + timing.warmupMs,
      endMs: t0 + timing.warmupMs + measureMs,
      deadlineMs: t0 + durationMs,
    };
    let stoppedAt: number | undefined;
    const offer = offered(load);
    lag.enable();
    // Browser users connect during the warm-up (sockets, joins): that burst is not what the
    // window measures, so their steps judge the generator's lag from the window start on.
    const lagFromWindow = offer.browserUsers > 0 ? setTimeout(() => lag.reset(), timing.warmupMs) : undefined;
    try {
      await engine!.run(
        {
          durationMs,
          baseUrl: target.openwebui.url,
          model: target.model,
          // Every arrival of the step may be in flight at once: the cap must never drop one.
          ...(offer.apiRate > 0
            ? {
                chat: {
                  ratePerSecond: offer.apiRate,
                  maxInFlight: Math.ceil((offer.apiRate * durationMs) / 1000) + 16,
                  tokens,
                },
              }
            : {}),
          ...(offer.browserUsers > 0
            ? {
                sockets: {
                  vus: offer.browserUsers,
                  chatIntervalMs: chatEveryMs,
                  schedule: browserSchedule === 'open' ? ('open' as const) : ('think' as const),
                  tokens,
                },
              }
            : {}),
        },
        sink,
        {
          signal: stop.signal,
          onProgress: (p) => {
            obs.onLive?.({
              sweep: label,
              load,
              reason,
              elapsedMs: p.elapsedMs,
              stepMs: durationMs,
              activeStreams: p.activeStreams,
              ...(p.ttftP95Ms !== undefined ? { ttftP95Ms: p.ttftP95Ms } : {}),
              stepsDone: index,
            });
            const now = Date.now();
            if (now < window.startMs + 1000 || stop.signal.aborted) return;
            const partial = measureStepLive({
              samples,
              window: { startMs: window.startMs, endMs: Math.min(now, window.endMs), deadlineMs: now },
              slos,
            });
            if (clearlyPast(partial, slos)) {
              stoppedAt = now;
              stop.abort();
            }
          },
        },
      );
    } finally {
      clearTimeout(lagFromWindow);
      lag.disable();
      req.interrupt?.removeEventListener('abort', onInterrupt);
    }
    const lagInfo = { p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6, limitMs: maxLagMs };
    const interrupted = req.interrupt?.aborted === true;
    const end = stoppedAt ?? Date.now();
    const measurement = measureStep(
      stoppedAt !== undefined || interrupted
        ? {
            samples,
            window: { startMs: window.startMs, endMs: Math.min(end, window.endMs), deadlineMs: end },
            slos,
          }
        : { samples, window, ...intendedArrivals(offer, samples, window, t0), slos },
    );
    // A missed API start is the generator's in-flight cap (invalid); a missed browser arrival is
    // the target's doing (the user's previous chat still ran): it has no ttft, so it is censored.
    const missed = samples.filter((s) => s.metric === 'missed_starts');
    const missedStarts = missed.filter((s) => s.tags['client'] !== 'browser').length;
    const missedArrivals = missed.length - missedStarts;
    let verdict: CapacityStep['verdict'] = measurement.verdict;
    let note: string | undefined;
    if (lagInfo.p99Ms > maxLagMs) {
      verdict = 'invalid';
      note = `generator lag p99 ${Math.round(lagInfo.p99Ms)} ms > ${maxLagMs} ms: the load generator, not the target, set the pace`;
    } else if (missedStarts > 0) {
      verdict = 'invalid';
      note = `${missedStarts} arrivals could not be started (in-flight cap)`;
    } else if (interrupted) {
      verdict = 'invalid';
      note = 'interrupted';
    } else if (stoppedAt !== undefined) {
      verdict = 'fail';
      note = `stopped early after ${formatDuration(stoppedAt - t0)}: ${measurement.worst?.id ?? 'an SLO'} clearly past its objective`;
    }
    if (settle && !settle.settled && note === undefined)
      note = `the target had not settled after the overloaded step before (${formatDuration(settle.waitedMs)} of probes)`;
    previousOverloaded = verdict !== 'pass';
    return {
      index,
      load,
      reason,
      verdict,
      ...(note ? { note } : {}),
      ...(settle ? { settle } : {}),
      stoppedEarly: stoppedAt !== undefined,
      startedAt: t0,
      durationMs: Date.now() - t0,
      lag: lagInfo,
      missedStarts,
      ...(offer.browserUsers > 0 ? { missedArrivals } : {}),
      measurement,
    };
  }
}
