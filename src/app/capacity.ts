// The `owui-chaos capacity` use case (docs/capacity.md): per replica count (and with one replica
// down), an open-model sweep to the SLO knee; then the table, a recommendation, capacity.json and
// capacity.html. Adapters are wired here; the search and the judging are pure core
// (src/core/capacity). Nothing here prints: the plan and progress go to the observer.
// Beside it: capacity-settings.ts (the request's defaults and usage errors), capacity-step.ts (one
// step: settle, offer the load, stop early, judge), capacity-scale.ts (replica counts).
//
// Safety: every change to the target — scaling (lab: nginx upstreams + stopped replicas; real
// target: `--scale-cmd`) and the minus-one kill — is persisted on the revert stack
// (reverts.json + run.json in the output directory) BEFORE it is made, and reverted on success,
// failure and interrupt; after a crash, `owui-chaos rollback --run DIR` replays it.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../core/clock.js';
import { renderCapacityHtml } from '../core/capacity/html.js';
import {
  demandRate,
  parseDemand,
  renderPlan,
  stepMs,
  sweepLabel,
  type StepTiming,
  type SweepTarget,
} from '../core/capacity/plan.js';
import {
  CAPACITY_SCHEMA_VERSION,
  capacityRows,
  expectedKey,
  formatLoad,
  recommend,
  type CapacityDocument,
  type CapacityStep,
  type CapacitySweep,
} from '../core/capacity/result.js';
import { runSweep } from '../core/capacity/run-sweep.js';
import { roundLoad, type StepReason, type SweepConfig } from '../core/capacity/sweep.js';
import { LAB_TARGET, loadTarget, type Target } from '../core/config/target.js';
import { PreflightError, UsageError, errorMessage } from '../core/errors.js';
import { RevertStack, type RevertEntry } from '../core/runner/revert-stack.js';
import { objectiveText, sloId } from '../core/slo/spec.js';
import { NodeLoadEngine } from '../engines/node/engine.js';
import { createAgent } from '../engines/node/http.js';
import {
  authSourceFromTarget,
  provisionCredentials,
  type Credentials,
} from '../engines/node/provisioning.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import {
  capacityEnv,
  capacityFromEnv,
  labKneePerSecond,
  type CapacityModel,
} from '../lab/owui-sim/capacity.js';
import { readLabState } from '../infra/lab-state.js';
import { isScaleRecord, revertScaleRecord, scaleForSweep, type ScaleCommand } from './capacity-scale.js';
import { resolveCapacitySettings } from './capacity-settings.js';
import { CapacityStepRunner } from './capacity-step.js';
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

export async function runCapacity(req: CapacityRequest): Promise<CapacitySummary> {
  const env = req.env ?? process.env;
  const obs = req.observer ?? {};
  const notice = (t: string): void => obs.onNotice?.(t);
  const began = Date.now();
  const settings = await resolveCapacitySettings(req, env, began);
  const { workload, inUsers, unit, isLab, labName, labStateDir, id, outDir, slos, timing, tokens } = settings;
  const { client, chatEveryMs, browserShare, browserSchedule } = workload;
  const { maxDurationMs, baseConfig, targets } = settings;
  mkdirSync(outDir, { recursive: true });
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
  try {
    const credentials = await provision(target, inUsers ? baseConfig.maxLoad : 1);
    const engine = new NodeLoadEngine({
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

    const steps = new CapacityStepRunner({
      engine,
      target,
      settings,
      obs,
      notice,
      ...(req.interrupt ? { interrupt: req.interrupt } : {}),
    });
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
      await scaleForSweep(
        { ...(isLab ? { labStateDir } : {}), ...(scale ? { scale } : {}), drivers, stack, notice },
        t.replicas,
      );
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
        (load, reason, index) => steps.run(label, load, reason, index),
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
              demandRate(demand, chatEveryMs),
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
}
