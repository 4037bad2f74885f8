// The experiment runner (DESIGN §1 steps 3–5): starts load, follows the timeline, injects and
// reverts faults, and records a journal. It talks to the world only through ports (LoadEngine,
// FaultInjector, steady-state/breach checks) and reports progress to an observer: it never prints.
//
// Guarantees: a fault's revert record is persisted before the fault is applied; every recorded
// revert runs on success, on failure, on abort and on interruption, unless `stopReverting` fires
// (a second Ctrl-C), in which case the outcome lists exactly what is still injected. With
// `rollbackStrategy: never` the final reverts are skipped on purpose (not after an interruption):
// the entries stay pending for `owui-chaos rollback`, and the journal says so.

import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { PreparedFault } from '../faults/kind.js';
import { TrafficWatch, type UntouchedFault } from '../faults/traffic-watch.js';
import { faultWindow, type TimelineEntry } from '../faults/registry.js';
import type { RevertRecord } from '../faults/revert-record.js';
import type { Journal, JournalActivity, JournalEvent, RunStatus } from '../journal.js';
import type { LoadEngine, LoadPlan, LoadProgress } from '../ports.js';
import type { SampleSink } from '../samples.js';
import type { RevertEntry, RevertStack } from './revert-stack.js';

export type { PreparedFault } from '../faults/kind.js';
export type { UntouchedFault } from '../faults/traffic-watch.js';

/** A timeline entry as the runner schedules it: the typed entry, when it starts, how long it lasts. */
export interface RunnerTimelineEntry {
  entry: TimelineEntry;
  /** From the start of the load. */
  atMs: number;
  /** Its kind's window (`for`, or what the kind takes for it); undefined: until the end. */
  forMs?: number;
}

/** The runner's view of an entry: at its own `at` (a game day injects at 0), for its kind's window. */
export function runnerEntry(entry: TimelineEntry, atMs: number = entry.at): RunnerTimelineEntry {
  const forMs = faultWindow(entry);
  return { entry, atMs, ...(forMs === undefined ? {} : { forMs }) };
}

export interface RunnerExperiment {
  title: string;
  file?: string;
  timeline: RunnerTimelineEntry[];
  /** Explicit revert order (timeline names); the rest revert most-recent-first. */
  rollbackOrder?: string[];
  /**
   * `always` (default): revert every fault still injected at the end. `never`: leave them in
   * place for inspection (pending on the revert stack for `owui-chaos rollback`); an interrupted
   * run still reverts everything.
   */
  rollbackStrategy?: 'always' | 'never';
  abortOnBreach: boolean;
}

export interface FaultInjector {
  prepare(entry: TimelineEntry): Promise<PreparedFault>;
  revert(record: RevertRecord): Promise<void>;
}

export interface SteadyStateVerdict {
  ok: boolean;
  /** e.g. "ttft p95 = 2450 ms, objective ≤ 2000" for each breached SLO. */
  breaches: string[];
}

export interface RunObserver {
  onEvent?(event: RunEvent): void;
  onProgress?(progress: LoadProgress): void;
}

export type RunEvent =
  | { type: 'load-started'; at: number }
  | { type: 'steady-state'; verdict: SteadyStateVerdict }
  | {
      type: 'inject-start' | 'inject-done' | 'revert-start' | 'revert-done';
      name: string;
      action: string;
      description?: string;
    }
  | { type: 'inject-failed' | 'revert-failed'; name: string; action: string; error: string }
  | { type: 'breach'; breaches: string[] }
  | { type: 'interrupted'; reason: string }
  | { type: 'load-finished'; error?: string };

export interface RunnerDeps {
  engine: LoadEngine;
  plan: LoadPlan;
  sink: SampleSink;
  faults: FaultInjector;
  stack: RevertStack;
  clock: Clock;
  /** Checks the SLOs on what has been measured so far (all of it is baseline before the first fault). */
  checkSteadyState?: () => Promise<SteadyStateVerdict>;
  /** With `abortOnBreach`: checks the SLOs during the run; a breach aborts the experiment. */
  checkBreach?: () => Promise<SteadyStateVerdict>;
  breachCheckIntervalMs?: number;
  observer?: RunObserver;
  /** First Ctrl-C / SIGTERM: stop load and the timeline, then revert everything. */
  interrupt?: AbortSignal;
  /** Second Ctrl-C: stop reverting. */
  stopReverting?: AbortSignal;
  runId: string;
  target: { name: string; url: string; version?: string };
}

export interface RunOutcome {
  journal: Journal;
  steadyStateFailed: boolean;
  faultFailed: boolean;
  rollbackFailed: boolean;
  interrupted: boolean;
  aborted: boolean;
  loadError?: unknown;
  /** Faults still injected when the runner returned (after a failed or skipped revert, or left in place). */
  stillInjected: RevertEntry[];
  /** Of `stillInjected`, those `rollbackStrategy: never` left in place on purpose. */
  leftInPlace: RevertEntry[];
  /** Faults that no traffic reached while they were injected: they tested nothing (exit 11). */
  untouched: UntouchedFault[];
}

export async function runExperiment(experiment: RunnerExperiment, deps: RunnerDeps): Promise<RunOutcome> {
  const { clock, observer } = deps;
  const emit = (event: RunEvent): void => observer?.onEvent?.(event);
  const activities: JournalActivity[] = [];
  const events: JournalEvent[] = [];
  const note = (event: Omit<JournalEvent, 'at'>): void => {
    events.push({ at: clock.now(), ...event });
  };
  const startedAt = clock.now();
  const stop = new AbortController(); // stops load + timeline: interrupt, abort-on-breach, failure
  let interrupted = false;
  let aborted = false;
  let steadyStateFailed = false;
  let faultFailed = false;
  const onInterrupt = (): void => {
    interrupted = true;
    emit({ type: 'interrupted', reason: String(deps.interrupt?.reason ?? 'interrupted') });
    stop.abort(deps.interrupt?.reason);
  };
  if (deps.interrupt?.aborted) onInterrupt();
  else deps.interrupt?.addEventListener('abort', onInterrupt, { once: true });

  // --- load -------------------------------------------------------------------------------
  const loadStart = clock.now();
  emit({ type: 'load-started', at: loadStart });
  let loadError: unknown;
  // The load has its own stop: a run that ends early (interrupt, breach, failed fault) reverts
  // its faults first and stops the load after, so the clients still read what passes the toxics
  // while they are removed (Toxiproxy 2.12 can hang removing a latency toxic whose downstream
  // has just gone: docs/faults.md, "Reverting under load").
  const loadStop = new AbortController();
  const loadDone = deps.engine
    .run(deps.plan, deps.sink, {
      signal: loadStop.signal,
      onProgress: (p) => observer?.onProgress?.(p),
    })
    .catch((err: unknown) => {
      loadError = err;
      stop.abort(err);
    })
    .finally(() => {
      activities.push({
        name: 'load',
        kind: 'load',
        startedAt: loadStart,
        endedAt: clock.now(),
        status: loadError ? 'failed' : 'succeeded',
        ...(loadError ? { error: errorMessage(loadError) } : {}),
        output: { engine: deps.engine.name, durationMs: deps.plan.durationMs },
      });
      emit({ type: 'load-finished', ...(loadError ? { error: errorMessage(loadError) } : {}) });
    });

  // --- traffic through each fault (PreparedFault.traffic, src/core/faults/traffic-watch.ts) --
  const traffic = new TrafficWatch<RevertEntry>({
    now: () => clock.now(),
    notCounted: (name, message) => note({ code: 'TRAFFIC_NOT_COUNTED', name, message }),
    activity: (a) => activities.push(a),
  });

  // --- timeline ---------------------------------------------------------------------------
  const timeline = [...experiment.timeline].sort((a, b) => a.atMs - b.atMs);
  const revertsDue: Array<{ atMs: number; entry: RevertEntry }> = [];
  const sleepUntil = async (offsetMs: number): Promise<boolean> => {
    const wait = loadStart + offsetMs - clock.now();
    if (wait > 0) {
      try {
        await clock.sleep(wait, stop.signal);
      } catch {
        return false;
      }
    }
    return !stop.signal.aborted;
  };

  const revertEntry = async (entry: RevertEntry): Promise<void> => {
    if (entry.status !== 'pending' && entry.status !== 'failed') return;
    if (!entry.record) return;
    // On an interrupt the verdict is `interrupted` whatever the count: revert without reading it.
    if (interrupted) traffic.forget(entry);
    else await traffic.finish(entry);
    const t0 = clock.now();
    emit({ type: 'revert-start', name: entry.name, action: entry.action, description: entry.description });
    const done = (status: 'succeeded' | 'failed', error?: string): void => {
      deps.stack.mark(entry, status === 'succeeded' ? 'reverted' : 'failed', clock.now(), error);
      activities.push({
        name: entry.name,
        kind: 'revert',
        action: entry.action,
        startedAt: t0,
        endedAt: clock.now(),
        status,
        ...(error === undefined ? {} : { error }),
      });
    };
    try {
      await deps.faults.revert(entry.record);
      done('succeeded');
      emit({ type: 'revert-done', name: entry.name, action: entry.action });
    } catch (err) {
      done('failed', errorMessage(err));
      emit({ type: 'revert-failed', name: entry.name, action: entry.action, error: errorMessage(err) });
    }
  };

  // Abort-on-breach watcher: runs only while faults may be active.
  let breachTimer: Promise<void> | undefined;
  const watchBreaches = async (): Promise<void> => {
    if (!experiment.abortOnBreach || !deps.checkBreach) return;
    const interval = deps.breachCheckIntervalMs ?? 5000;
    while (!stop.signal.aborted) {
      try {
        await clock.sleep(interval, stop.signal);
      } catch {
        return;
      }
      // A check that throws decides nothing (the run goes on), but it is journaled, not counted as "ok".
      const verdict = await deps.checkBreach().catch((err: unknown) => {
        note({
          code: 'BREACH_CHECK_FAILED',
          message: `the abort-on-breach check failed, so this check could not abort the run: ${errorMessage(err)}`,
        });
        return undefined;
      });
      if (verdict === undefined) continue;
      if (!verdict.ok) {
        aborted = true;
        emit({ type: 'breach', breaches: verdict.breaches });
        stop.abort(new Error('SLO breached with abortOnBreach'));
        return;
      }
    }
  };

  let firstFault = true;
  for (const step of timeline) {
    // Reverts due before this step's start run first, in time order.
    revertsDue.sort((a, b) => a.atMs - b.atMs);
    while (revertsDue.length > 0 && revertsDue[0]!.atMs <= step.atMs) {
      const due = revertsDue.shift()!;
      if (!(await sleepUntil(due.atMs))) break;
      await revertEntry(due.entry);
    }
    if (!(await sleepUntil(step.atMs))) break;

    if (firstFault) {
      firstFault = false;
      if (deps.checkSteadyState) {
        const t0 = clock.now();
        const verdict = await deps.checkSteadyState();
        activities.push({
          name: 'steady-state',
          kind: 'preflight',
          startedAt: t0,
          endedAt: clock.now(),
          status: verdict.ok ? 'succeeded' : 'failed',
          output: verdict,
        });
        emit({ type: 'steady-state', verdict });
        if (!verdict.ok) {
          steadyStateFailed = true;
          stop.abort(new Error('steady state not met before the first fault'));
          break;
        }
      }
      breachTimer = watchBreaches();
    }

    const { name, action } = step.entry;
    const t0 = clock.now();
    let entry: RevertEntry | undefined;
    try {
      const prepared = await deps.faults.prepare(step.entry);
      for (const w of prepared.warnings ?? []) note({ ...w, name });
      // Persist the inverse before touching anything.
      entry = deps.stack.record(
        { name, action, description: prepared.description, record: prepared.record },
        clock.now(),
      );
      emit({ type: 'inject-start', name, action, description: prepared.description });
      const output = await prepared.apply();
      if (prepared.traffic && entry.record)
        await traffic.start(entry, entry, prepared.traffic.bind(prepared));
      activities.push({
        name,
        kind: 'inject',
        action,
        startedAt: t0,
        endedAt: clock.now(),
        // A fault with nothing to revert is observed for its `for` (its phase window).
        ...(step.forMs !== undefined && !entry.record ? { windowEndsAt: t0 + step.forMs } : {}),
        status: 'succeeded',
        output: { description: prepared.description, ...(output === undefined ? {} : { result: output }) },
      });
      emit({ type: 'inject-done', name, action, description: prepared.description });
      if (step.forMs !== undefined && entry.record) revertsDue.push({ atMs: step.atMs + step.forMs, entry });
    } catch (err) {
      faultFailed = true;
      activities.push({
        name,
        kind: 'inject',
        action,
        startedAt: t0,
        endedAt: clock.now(),
        status: 'failed',
        error: errorMessage(err),
      });
      emit({ type: 'inject-failed', name, action, error: errorMessage(err) });
      stop.abort(err);
      break;
    }
  }

  // Scheduled reverts that fall inside the run.
  revertsDue.sort((a, b) => a.atMs - b.atMs);
  while (revertsDue.length > 0 && !stop.signal.aborted) {
    const due = revertsDue.shift()!;
    if (!(await sleepUntil(due.atMs))) break;
    await revertEntry(due.entry);
  }

  // The load ends by itself, unless the run ends early first (also while it is waiting here).
  if (!stop.signal.aborted)
    await new Promise<void>((resolve) => {
      void loadDone.then(() => resolve());
      stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  const endedEarly = stop.signal.aborted;
  stop.abort(new Error('run finished')); // ends the breach watcher
  await breachTimer;

  // --- final reverts: explicit order first, then the rest most recent first ----------------
  const order = experiment.rollbackOrder ?? [];
  const outstanding = deps.stack.outstanding();
  const ordered = [
    ...order
      .map((name) => outstanding.find((e) => e.name === name))
      .filter((e): e is RevertEntry => e !== undefined),
    ...outstanding.filter((e) => !order.includes(e.name)),
  ];
  // `never` is an explicit, journaled decision; an interruption overrides it (a Ctrl-C reverts).
  const leaveInPlace = experiment.rollbackStrategy === 'never' && !interrupted;
  const leftInPlace = leaveInPlace ? ordered.filter((e) => e.status === 'pending') : [];
  if (leaveInPlace) {
    note({
      code: 'ROLLBACK_SKIPPED',
      message:
        leftInPlace.length === 0
          ? 'rollbackStrategy is `never`, but no fault was still injected at the end'
          : `rollbackStrategy is \`never\`: ${leftInPlace.length} fault(s) left in place for inspection (${leftInPlace.map((e) => e.name).join(', ')}); \`owui-chaos rollback\` reverts them`,
    });
  } else {
    for (const entry of ordered) {
      if (deps.stopReverting?.aborted) break;
      await revertEntry(entry);
    }
  }
  if (endedEarly) {
    loadStop.abort(stop.signal.reason);
    await loadDone;
  }
  deps.interrupt?.removeEventListener('abort', onInterrupt);

  const stillInjected = deps.stack.outstanding();
  const rollbackFailed = stillInjected.some((e) => !leftInPlace.includes(e));
  const status: RunStatus = interrupted
    ? 'interrupted'
    : aborted || steadyStateFailed
      ? 'aborted'
      : faultFailed || loadError || rollbackFailed || traffic.untouched.length > 0
        ? 'failed'
        : 'completed';
  const journal: Journal = {
    schemaVersion: 1,
    runId: deps.runId,
    experiment: { title: experiment.title, ...(experiment.file ? { file: experiment.file } : {}) },
    target: deps.target,
    engine: deps.engine.name,
    startedAt,
    endedAt: clock.now(),
    status,
    plannedFaults: experiment.timeline.length,
    deviated: steadyStateFailed || aborted,
    activities: activities.sort((a, b) => a.startedAt - b.startedAt),
    ...(events.length > 0 ? { events } : {}),
  };
  return {
    journal,
    steadyStateFailed,
    faultFailed,
    rollbackFailed,
    interrupted,
    aborted,
    ...(loadError === undefined ? {} : { loadError }),
    stillInjected,
    leftInPlace,
    untouched: traffic.untouched,
  };
}
