// Workload models of the Node engine (DESIGN §5), independent of what one iteration does, on an
// injectable clock so tests advance time instead of sleeping.
//
// Contract:
// - Both models stop by themselves: at `durationMs` after they start, the signal handed to every
//   iteration aborts (in-flight work is then cancelled by its owner and counted as such) and no
//   new iteration starts; the returned promise resolves once every iteration has settled. An
//   external `signal` ends the run early the same way.
// - Closed: `vus` virtual users, or `stages` ramping the target linearly like k6's ramping-vus
//   (from `startVus`, each stage moves to its `target` over its `durationMs`; after the last stage
//   the last target holds; VUs start one by one as the target passes them). A VU runs iteration, think time, iteration…; a VU above the current
//   target finishes its iteration and stops (graceful ramp-down). A failed iteration (returns
//   false) is followed by at least `failurePauseMs` so a dead server cannot spin a hot loop.
// - Open: arrivals at `ratePerSecond`, the k-th intended at start + phaseMs + k·1000/rate. An
//   arrival finding `maxInFlight` iterations in flight is not started: `missed(intendedMs)` is
//   called instead. Started iterations get their INTENDED start time, so latency measured from
//   it includes any delay of the scheduler itself (coordinated omission cannot hide a stall).
// - Live changes (a game day's load control, docs/gameday.md): `live` is a LiveValue the owner
//   sets while the run goes on. Closed: a set VU count replaces the fixed count or the stages
//   from then on; new VUs start at once, VUs above the new target finish their iteration and stop
//   (the same graceful ramp-down as stages). Open: the schedule re-anchors at the change — the
//   arrivals intended before it keep their intended times (late ones still count from them), the
//   first one at the new rate is intended at change + phaseMs, then every 1000/rate ms.

import { setMaxListeners } from 'node:events';
import type { Clock } from '../../core/clock.js';

/** A value its owner changes while a run goes on; listeners run on every change. */
export class LiveValue<T> {
  private readonly listeners = new Set<(v: T) => void>();

  constructor(private current: T) {}

  get(): T {
    return this.current;
  }

  set(v: T): void {
    this.current = v;
    for (const l of [...this.listeners]) l(v);
  }

  /** Returns the unsubscribe function. */
  subscribe(l: (v: T) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

export interface Stage {
  durationMs: number;
  target: number;
}

/** Target VUs at `elapsedMs`, interpolated linearly within the current stage. */
export function stageTarget(stages: readonly Stage[], startVus: number, elapsedMs: number): number {
  let from = startVus;
  let t = elapsedMs;
  for (const stage of stages) {
    if (t < stage.durationMs) {
      return Math.round(from + ((stage.target - from) * t) / stage.durationMs);
    }
    t -= stage.durationMs;
    from = stage.target;
  }
  return from;
}

/**
 * How long the ramp controller may sleep at `elapsedMs`: the time one VU takes to be added or
 * removed in the current stage (so VUs start one by one, not in batches every tick: batches of
 * streams started together also end together, and each batch is a burst of work for the client
 * and the server), at least 1 ms, at most `tickMs`.
 */
export function rampStepMs(
  stages: readonly Stage[],
  startVus: number,
  elapsedMs: number,
  tickMs: number,
): number {
  let from = startVus;
  let t = elapsedMs;
  for (const stage of stages) {
    if (t < stage.durationMs) {
      const delta = Math.abs(stage.target - from);
      return delta === 0 ? tickMs : Math.min(tickMs, Math.max(1, stage.durationMs / delta));
    }
    t -= stage.durationMs;
    from = stage.target;
  }
  return tickMs;
}

export interface ClosedWorkload {
  durationMs: number;
  vus?: number;
  stages?: readonly Stage[];
  startVus?: number;
  thinkTimeMs?: number;
  /** How often (at most) the ramp controller re-evaluates the target. Default 200 ms; faster while a stage ramps. */
  tickMs?: number;
  failurePauseMs?: number;
  /** A live VU target: once set (not undefined) it replaces `vus` and `stages`. */
  live?: LiveValue<number | undefined>;
}

export interface RunDeps {
  clock: Clock;
  signal?: AbortSignal;
}

export interface ClosedResult {
  iterations: number;
  maxVus: number;
}

export async function runClosed(
  w: ClosedWorkload,
  deps: RunDeps & { iterate: (vu: number, signal: AbortSignal) => Promise<boolean | void> },
): Promise<ClosedResult> {
  const { clock } = deps;
  const stop = deadlineController(clock, w.durationMs, deps.signal);
  const startedAt = clock.now();
  const stages = w.stages;
  const fixed = w.vus ?? 0;
  const target = (): number => {
    const live = w.live?.get();
    if (live !== undefined) return live;
    return stages && stages.length > 0
      ? stageTarget(stages, w.startVus ?? 0, clock.now() - startedAt)
      : fixed;
  };
  const think = Math.max(0, w.thinkTimeMs ?? 0);
  const failurePause = Math.max(think, w.failurePauseMs ?? 100);
  const running = new Map<number, Promise<void>>();
  const result: ClosedResult = { iterations: 0, maxVus: 0 };

  const vuLoop = async (vu: number): Promise<void> => {
    while (!stop.signal.aborted && vu < target()) {
      let ok: boolean | void;
      try {
        ok = await deps.iterate(vu, stop.signal);
      } catch {
        ok = false;
      }
      result.iterations++;
      const pause = ok === false ? failurePause : think;
      if (pause > 0 && !stop.signal.aborted) await clock.sleep(pause, stop.signal).catch(() => undefined);
    }
  };
  const ensure = (): void => {
    const n = target();
    for (let vu = 0; vu < n; vu++) {
      if (running.has(vu)) continue;
      running.set(
        vu,
        vuLoop(vu).finally(() => running.delete(vu)),
      );
    }
    result.maxVus = Math.max(result.maxVus, running.size);
  };

  ensure();
  const unsubscribe = w.live?.subscribe(() => {
    if (!stop.signal.aborted) ensure();
  });
  if (stages && stages.length > 0) {
    const tick = Math.max(1, w.tickMs ?? 200);
    while (!stop.signal.aborted) {
      const step = rampStepMs(stages, w.startVus ?? 0, clock.now() - startedAt, tick);
      await clock.sleep(step, stop.signal).catch(() => undefined);
      if (!stop.signal.aborted) ensure();
    }
  } else {
    await stop.done;
  }
  // Every VU loop sees the aborted signal and ends after its current (cancelled) iteration.
  while (running.size > 0) await Promise.all([...running.values()]);
  unsubscribe?.();
  stop.dispose();
  return result;
}

export interface OpenWorkload {
  durationMs: number;
  ratePerSecond: number;
  maxInFlight: number;
  /** Offset of the first arrival, so several workers' arrivals interleave evenly. */
  phaseMs?: number;
  /** A live rate: the schedule re-anchors at each change (see the contract above). */
  live?: LiveValue<OpenRate | undefined>;
}

export interface OpenRate {
  ratePerSecond: number;
  phaseMs: number;
  maxInFlight: number;
}

export interface OpenResult {
  started: number;
  missed: number;
  maxInFlight: number;
}

export async function runOpen(
  w: OpenWorkload,
  deps: RunDeps & {
    start: (intendedMs: number, signal: AbortSignal) => Promise<unknown>;
    missed: (intendedMs: number) => void;
  },
): Promise<OpenResult> {
  const { clock } = deps;
  const startMs = clock.now();
  const endMs = startMs + w.durationMs;
  const stop = deadlineController(clock, w.durationMs, deps.signal);
  const result: OpenResult = { started: 0, missed: 0, maxInFlight: 0 };
  if (!(w.ratePerSecond > 0) && !w.live) {
    await stop.done;
    stop.dispose();
    return result;
  }
  interface Schedule {
    anchor: number;
    phase: number;
    /** ms between arrivals; Infinity: none. */
    interval: number;
    maxInFlight: number;
  }
  const schedule = (anchor: number, r: OpenRate): Schedule => ({
    anchor,
    phase: r.phaseMs,
    interval: r.ratePerSecond > 0 ? 1000 / r.ratePerSecond : Number.POSITIVE_INFINITY,
    maxInFlight: r.maxInFlight,
  });
  let current = schedule(startMs, {
    ratePerSecond: w.ratePerSecond,
    phaseMs: w.phaseMs ?? 0,
    maxInFlight: w.maxInFlight,
  });
  let pending: Schedule | undefined;
  // Wakes the scheduler's sleep when the rate changes (the next arrival may now be sooner).
  let wake = new AbortController();
  const unsubscribe = w.live?.subscribe((r) => {
    if (r === undefined) return;
    pending = schedule(clock.now(), r);
    wake.abort();
  });
  /** Sleeps until `at`, the end, or a change; true when a change woke it. */
  const sleepUntil = async (at: number): Promise<boolean> => {
    if (!w.live) {
      await clock.sleep(Math.max(0, at - clock.now()), stop.signal).catch(() => undefined);
      return false;
    }
    if (wake.signal.aborted) wake = new AbortController();
    const woken = wake.signal;
    await clock
      .sleep(Math.max(0, at - clock.now()), AbortSignal.any([stop.signal, woken]))
      .catch(() => undefined);
    return woken.aborted && !stop.signal.aborted;
  };
  const inFlight = new Set<Promise<unknown>>();
  for (let k = 0; !stop.signal.aborted;) {
    const intended =
      current.interval === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : current.anchor + current.phase + k * current.interval;
    // Arrivals intended before a change keep the old schedule; from the change on, the new one.
    if (pending && intended >= pending.anchor) {
      current = pending;
      pending = undefined;
      k = 0;
      continue;
    }
    if (intended >= endMs) {
      if (!w.live) break;
      // Nothing more at this rate before the end: wait for a change or the end.
      await sleepUntil(endMs);
      continue;
    }
    if (intended > clock.now()) {
      const woken = await sleepUntil(intended);
      if (stop.signal.aborted) break;
      if (woken) continue; // the rate changed: look again
    }
    k++;
    if (inFlight.size >= current.maxInFlight) {
      result.missed++;
      deps.missed(intended);
      continue;
    }
    result.started++;
    const p: Promise<unknown> = deps
      .start(intended, stop.signal)
      .catch(() => undefined)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    result.maxInFlight = Math.max(result.maxInFlight, inFlight.size);
  }
  unsubscribe?.();
  await stop.done;
  while (inFlight.size > 0) await Promise.all([...inFlight]);
  stop.dispose();
  return result;
}

/** An AbortController that aborts at `durationMs` on `clock`, or when `outer` aborts. */
function deadlineController(
  clock: Clock,
  durationMs: number,
  outer?: AbortSignal,
): { signal: AbortSignal; done: Promise<void>; dispose(): void } {
  const controller = new AbortController();
  // Every in-flight iteration listens on this signal; thousands are expected.
  setMaxListeners(0, controller.signal);
  const timerCancel = new AbortController();
  const onOuter = (): void => controller.abort(outer?.reason ?? new Error('stopped'));
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  const done = new Promise<void>((resolve) => {
    if (controller.signal.aborted) return resolve();
    controller.signal.addEventListener('abort', () => resolve(), { once: true });
    clock
      .sleep(Math.max(0, durationMs), timerCancel.signal)
      .then(() => controller.abort(new Error('deadline')))
      .catch(() => undefined);
  });
  return {
    signal: controller.signal,
    done,
    dispose: () => {
      timerCancel.abort();
      outer?.removeEventListener('abort', onOuter);
    },
  };
}
