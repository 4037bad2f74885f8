// Runs one sweep: asks `nextStep` for a load, has the injected step runner measure it, repeats
// until the knee is known or a budget is spent, then summarises (throughput at the knee, the first
// SLO to break, run-to-run spread at the knee). The step runner is a port: the app wires the load
// engine behind it; unit tests give it synthetic steps.

import { primarySlo, runSpread } from './step.js';
import type { CapacityStep, CapacitySweep } from './result.js';
import { sweepLabel, type SweepTarget } from './plan.js';
import { nextStep, type KneeResult, type StepReason, type SweepConfig } from './sweep.js';
import type { SloSpec } from '../slo/spec.js';

export type StepRunner = (load: number, reason: StepReason, index: number) => Promise<CapacityStep>;

export interface RunSweepOptions {
  /** Steps the time budget still allows (asked before each step). */
  stepsLeft?: () => number;
  /** Stop between steps (Ctrl-C): the sweep ends with status `budget`. */
  signal?: AbortSignal;
  onStep?: (step: CapacityStep) => void;
  now?: () => number;
}

export async function runSweep(
  target: SweepTarget,
  config: SweepConfig,
  slos: readonly SloSpec[],
  runStep: StepRunner,
  opts: RunSweepOptions = {},
): Promise<CapacitySweep> {
  const now = opts.now ?? Date.now;
  const began = now();
  const steps: CapacityStep[] = [];
  let result: KneeResult | undefined;
  for (let guard = 0; guard < config.maxSteps + 2; guard++) {
    if (opts.signal?.aborted) break;
    const d = nextStep(
      config,
      steps.map((s) => ({ load: s.load, verdict: s.verdict })),
      opts.stepsLeft?.() ?? Number.POSITIVE_INFINITY,
    );
    if (d.kind === 'done') {
      result = d.result;
      break;
    }
    const step = await runStep(d.load, d.reason, steps.length);
    steps.push(step);
    opts.onStep?.(step);
  }
  if (!result) {
    const last = nextStep(
      { ...config, maxSteps: 0 },
      steps.map((s) => ({ load: s.load, verdict: s.verdict })),
    );
    result =
      last.kind === 'done'
        ? last.result
        : { status: 'budget', knee: null, firstFail: null, steps: steps.length };
  }
  return summarise(target, steps, result, slos, now() - began);
}

export function summarise(
  target: SweepTarget,
  steps: CapacityStep[],
  result: KneeResult,
  slos: readonly SloSpec[],
  durationMs: number,
): CapacitySweep {
  const valid = (s: CapacityStep): boolean => s.verdict !== 'invalid';
  const atKnee = steps.filter((s) => valid(s) && result.knee !== null && s.load === result.knee);
  const atFail = steps.filter(
    (s) => valid(s) && result.firstFail !== null && s.load === result.firstFail && s.verdict === 'fail',
  );
  const primary = primarySlo(slos);
  const primaryValue = (s: CapacityStep): number | null =>
    s.measurement.slos.find(
      (r) => primary !== undefined && r.metric === primary.metric && r.stat === primary.stat,
    )?.measured ?? null;
  const worst = atFail.map((s) => s.measurement.worst).find((w) => w !== undefined);
  return {
    ...target,
    label: sweepLabel(target),
    steps,
    result,
    throughputAtKnee:
      atKnee.length > 0 ? atKnee.reduce((a, s) => a + s.measurement.throughput, 0) / atKnee.length : null,
    firstBreach: worst
      ? {
          id: worst.id,
          objective: worst.objective,
          measured: worst.measured,
          censored: worst.censored,
          margin: worst.margin,
        }
      : null,
    kneeSpread: runSpread(atKnee.map(primaryValue)),
    durationMs,
  };
}
