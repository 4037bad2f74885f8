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

import { setMaxListeners } from 'node:events';
import type { Clock } from '../../core/clock.js';

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
  const target = (): number =>
    stages && stages.length > 0 ? stageTarget(stages, w.startVus ?? 0, clock.now() - startedAt) : fixed;
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
  stop.dispose();
  return result;
}

export interface OpenWorkload {
  durationMs: number;
  ratePerSecond: number;
  maxInFlight: number;
  /** Offset of the first arrival, so several workers' arrivals interleave evenly. */
  phaseMs?: number;
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
  if (!(w.ratePerSecond > 0)) {
    await stop.done;
    stop.dispose();
    return result;
  }
  const interval = 1000 / w.ratePerSecond;
  const inFlight = new Set<Promise<unknown>>();
  for (let k = 0; ; k++) {
    const intended = startMs + (w.phaseMs ?? 0) + k * interval;
    if (intended >= endMs || stop.signal.aborted) break;
    const wait = intended - clock.now();
    if (wait > 0) {
      await clock.sleep(wait, stop.signal).catch(() => undefined);
      if (stop.signal.aborted) break;
    }
    if (inFlight.size >= w.maxInFlight) {
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
