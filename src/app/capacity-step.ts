// One step of a capacity sweep (docs/capacity.md "One step"): after an overloaded step, wait for
// the target to settle; then offer the step's load (API chats on an open schedule and/or browser
// users) for warm-up + window + tail, stop early once an SLO is clearly past its objective, and
// judge the window (src/core/capacity/step.ts) — invalid when the generator itself lagged, could
// not start an arrival, or was interrupted. Nothing here prints: notices go to the observer.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { formatDuration } from '../core/clock.js';
import { chatsPerSecond, intendedArrivals, offered } from '../core/capacity/offer.js';
import type { CapacityStep } from '../core/capacity/result.js';
import {
  clearlyPast,
  earlyStopFrom,
  measureStep,
  measureStepLive,
  type StepWindow,
} from '../core/capacity/step.js';
import type { StepReason } from '../core/capacity/sweep.js';
import type { Target } from '../core/config/target.js';
import type { Sample, SampleSink } from '../core/samples.js';
import type { NodeLoadEngine } from '../engines/node/engine.js';
import type { CapacityObserver } from './capacity.js';
import type { CapacitySettings } from './capacity-settings.js';

/** Bound on waiting for the target to settle after an overloaded step. */
const SETTLE_BUDGET_MS = 90_000;

export interface StepContext {
  engine: NodeLoadEngine;
  target: Target;
  settings: CapacitySettings;
  obs: CapacityObserver;
  notice: (text: string) => void;
  interrupt?: AbortSignal;
}

/** Runs the steps of every sweep in turn; remembers whether the last one overloaded the target. */
export class CapacityStepRunner {
  private previousOverloaded = false;

  constructor(private readonly ctx: StepContext) {}

  /**
   * Probe chats (one at a time, 5 tokens) until one answers its first token within half the
   * tightest ttft objective (1 s without one), bounded by `SETTLE_BUDGET_MS`.
   */
  private async settle(label: string): Promise<{ waitedMs: number; settled: boolean }> {
    const { engine, target, settings, notice, interrupt } = this.ctx;
    const slos = settings.slos;
    const began = Date.now();
    const ttftObjectives = slos.filter((s) => s.metric === 'ttft' && s.lte !== undefined).map((s) => s.lte!);
    const limit = ttftObjectives.length > 0 ? Math.min(...ttftObjectives) / 2 : 1000;
    while (Date.now() - began < SETTLE_BUDGET_MS && !interrupt?.aborted) {
      const probe: Sample[] = [];
      await engine.run(
        {
          durationMs: limit + 1000,
          baseUrl: target.openwebui.url,
          model: target.model,
          chat: { vus: 1, tokens: 5 },
        },
        { write: (metric, timeMs, value, tags) => void probe.push({ metric, timeMs, value, tags }) },
        interrupt ? { signal: interrupt } : {},
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

  async run(label: string, load: number, reason: StepReason, index: number): Promise<CapacityStep> {
    const { engine, target, settings, obs, interrupt } = this.ctx;
    const { slos, timing, maxLagMs, minSamples, tokens, workload } = settings;
    // After an overloaded step, wait until the target is back to answering at once: a step must
    // measure its own load, not the backlog of the one before (docs/capacity.md "One step").
    const settle = this.previousOverloaded ? await this.settle(label) : undefined;
    obs.onStepStart?.(label, load, reason);
    const samples: Sample[] = [];
    const sink: SampleSink = {
      write: (metric, timeMs, value, tags) => void samples.push({ metric, timeMs, value, tags }),
    };
    const stop = new AbortController();
    const onInterrupt = (): void => stop.abort();
    interrupt?.addEventListener('abort', onInterrupt, { once: true });
    const lag = monitorEventLoopDelay({ resolution: 10 });
    const rate = chatsPerSecond(workload, load);
    const measureMs = Math.max(timing.measureMs, Math.ceil((1000 * minSamples) / rate));
    const durationMs = timing.warmupMs + measureMs + timing.tailMs;
    const t0 = Date.now();
    const window: StepWindow = {
      startMs: t0 + timing.warmupMs,
      endMs: t0 + timing.warmupMs + measureMs,
      deadlineMs: t0 + durationMs,
    };
    let stoppedAt: number | undefined;
    /** Where the early stop judged from (earlyStopFrom); the recorded measurement says the same. */
    let judgedFrom: number | undefined;
    const offer = offered(workload, load);
    lag.enable();
    // Browser users connect during the warm-up (sockets, joins): that burst is not what the
    // window measures, so their steps judge the generator's lag from the window start on.
    const lagFromWindow = offer.browserUsers > 0 ? setTimeout(() => lag.reset(), timing.warmupMs) : undefined;
    try {
      await engine.run(
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
                  chatIntervalMs: workload.chatEveryMs,
                  schedule: workload.browserSchedule === 'open' ? ('open' as const) : ('think' as const),
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
            const from = earlyStopFrom(samples, window, t0, now, timing.warmupMs + timing.tailMs);
            if (from === undefined || now < from + 1000) return;
            const partial = measureStepLive({
              samples,
              window: { startMs: from, endMs: Math.min(now, window.endMs), deadlineMs: now },
              slos,
            });
            if (clearlyPast(partial, slos)) {
              stoppedAt = now;
              judgedFrom = from;
              stop.abort();
            }
          },
        },
      );
    } finally {
      clearTimeout(lagFromWindow);
      lag.disable();
      interrupt?.removeEventListener('abort', onInterrupt);
    }
    const lagInfo = { p99Ms: lag.percentile(99) / 1e6, maxMs: lag.max / 1e6, limitMs: maxLagMs };
    const interrupted = interrupt?.aborted === true;
    const end = stoppedAt ?? Date.now();
    const measurement = measureStep(
      stoppedAt !== undefined || interrupted
        ? {
            samples,
            window: {
              startMs: judgedFrom ?? window.startMs,
              endMs: Math.min(end, window.endMs),
              deadlineMs: end,
            },
            slos,
          }
        : { samples, window, ...intendedArrivals(workload, offer, samples, window, t0), slos },
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
    this.previousOverloaded = verdict !== 'pass';
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
