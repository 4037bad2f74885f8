// The SLO verdicts of a run: every SLO per phase it names (a load-only run: once, over the whole
// run), and per fault the recovery time — the first window after injection in which every
// recovery SLO holds again (src/core/slo/recovery.ts). Pure, over the TrackSet.

import { METRICS } from '../metrics.js';
import { judge, type Acc } from '../slo/measure.js';
import { findRecovery } from '../slo/recovery.js';
import { objectiveText, sloId, type SloSpec } from '../slo/spec.js';
import { newHistogram, recordingScale } from './histogram.js';
import type { PhasePlan } from './phases.js';
import type { RecoveryResult, SloResult } from './results.js';
import { windowAcc, type TrackSet } from './tracks.js';

export function evaluateSlos(
  tracks: TrackSet,
  sloList: readonly SloSpec[],
  plan: PhasePlan,
  phaseNames: Set<string>,
): SloResult[] {
  return sloList.flatMap((slo) =>
    judgedPhases(slo, plan).map((phase) =>
      judgeSloInPhase(slo, phase, plan, phaseNames, {
        own: tracks.trackOf(slo)?.phases.get(phase),
        base: tracks.baseOf(slo)?.phases.get(phase),
        steadyStateProduces: tracks.steadyStateProduces(slo),
      }),
    ),
  );
}

/** The phases an SLO is judged in: a load-only run judges every SLO once, over the whole run. */
export function judgedPhases(slo: SloSpec, plan: PhasePlan): readonly string[] {
  return plan.loadOnly ? ['all'] : slo.phases;
}

/**
 * One SLO in one phase, from its accumulators: the one place that words "not reached", "load
 * only" and "not measurable" — the run's report and the game day's live table both use it.
 */
export function judgeSloInPhase(
  slo: SloSpec,
  phase: string,
  plan: PhasePlan,
  phaseNames: Set<string>,
  accs: { own: Acc | undefined; base: Acc | undefined; steadyStateProduces: boolean },
): SloResult {
  const common = { id: sloId(slo), phase, slo, objectiveText: objectiveText(slo) };
  if (!phaseNames.has(phase)) {
    return {
      ...common,
      measured: null,
      samples: 0,
      verdict: 'no-data',
      note:
        plan.windows.length === 0
          ? `phase \`${phase}\` not reached: the run stopped before the first fault`
          : `this run has no phase \`${phase}\``,
    };
  }
  const kind = METRICS[slo.metric].kind;
  const scale = recordingScale(METRICS[slo.metric].unit);
  const j = judge(slo, kind, accs.own, accs.base, scale, {
    steadyStateProduces: phase !== 'baseline' && accs.steadyStateProduces,
  });
  const loadOnlyNote =
    plan.loadOnly && slo.phases.some((p) => p !== 'all')
      ? `load only: judged over the whole run (declared for ${slo.phases.join(', ')})`
      : undefined;
  const notMeasured =
    j.verdict === 'no-data' && slo.notMeasured !== undefined
      ? `not measurable: ${slo.notMeasured}`
      : undefined;
  const note = [notMeasured ?? j.note, loadOnlyNote].filter(Boolean).join('; ');
  return {
    ...common,
    measured: j.measured,
    samples: j.samples,
    verdict: j.verdict,
    ...(note ? { note } : {}),
  };
}

export function recoveryTimes(
  tracks: TrackSet,
  sloList: readonly SloSpec[],
  plan: PhasePlan,
  windowMs: number,
  dataEnd: number,
): RecoveryResult[] {
  const slos = sloList.filter((s) => s.phases.includes('recovery') || s.phases.includes('all'));
  const ids = slos.map((s) => sloId(s));
  const scratch = newHistogram();
  const memo = new Map<string, boolean>();
  // Metrics the steady state produces must be flowing when the window starts: otherwise a window
  // that is empty but for its last second (a stall ending) would count as recovered.
  const flowing = slos
    .filter((slo) => tracks.steadyStateProduces(slo))
    .map((slo) => tracks.flowingTrackOf(slo));
  const judgeWindow = (start: number, end: number, lenient = false): boolean => {
    const started = flowing.length === 0 || flowing.some((t) => (t?.seconds?.get(start)?.count ?? 0) > 0);
    if (!started && !lenient) return false;
    return slos.every((slo) => {
      const kind = METRICS[slo.metric].kind;
      const scale = recordingScale(METRICS[slo.metric].unit);
      const own = windowAcc(tracks.trackOf(slo), start, end, scratch);
      const base =
        kind === 'counter' && slo.tags ? windowAcc(tracks.baseOf(slo), start, end, null) : undefined;
      const j = judge(slo, kind, own, base, scale, {
        steadyStateProduces: !lenient && tracks.steadyStateProduces(slo),
      });
      return j.verdict !== 'breach';
    });
  };
  const holds = (start: number, end: number): boolean => {
    const key = `${start}:${end}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const ok = judgeWindow(start, end);
    memo.set(key, ok);
    return ok;
  };
  return plan.windows.map((w): RecoveryResult => {
    const common = {
      fault: w.key,
      action: w.action,
      injectedAt: w.start,
      revertedAt: w.end,
      windowMs,
      slos: ids,
    };
    if (slos.length === 0) {
      return {
        ...common,
        recovered: false,
        recoveryTimeMs: null,
        recoveredAt: null,
        evaluated: false,
        note: 'no SLO with phase `recovery` or `all` to recover to',
      };
    }
    // Observed until the next fault that starts after this one ended (it would be blamed on this
    // one otherwise), else to the end of the data.
    const next = plan.windows.find((o) => o !== w && o.start >= w.end && o.start > w.start);
    const observedUntil = next ? Math.floor(next.start / 1000) * 1000 : dataEnd;
    const outcome = findRecovery({
      injectedAt: w.start,
      windowMs,
      dataEnd: observedUntil,
      holds,
      holdsPrefix: (start, end) => judgeWindow(start, end, true),
    });
    return {
      ...common,
      ...outcome,
      observedUntil,
      ...(outcome.recovered
        ? {}
        : {
            note:
              outcome.reason === 'observation-too-short'
                ? `observed for less than one ${windowMs / 1000} s window after injection`
                : `never recovered: SLOs still breached in the last ${windowMs / 1000} s window of the observation`,
          }),
    };
  });
}
