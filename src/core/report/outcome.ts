// The one outcome of a run (DESIGN §7): its verdict, its exit code and, when it stopped early, why.
// Pure. Contract: every output (results.json, junit.xml, report.html, the terminal, `--json`) is
// rendered from the same `RunOutcome`, so they can never disagree; the exit code of a run that
// stopped early wins over the SLOs' by the precedence below (docs/exit-codes in README):
//   rollback failed (14) > interrupted (13) > steady state broken (4) > fault failed (11)
//   > load generator failed (12) > SLO not met (10) > pass (0).
// A gating SLO without data is "not met" (see `sloExitCode`), and so is a run in which no SLO
// produced a verdict at all: silence is never a pass.

import { ExitCode } from '../errors.js';
import type { SloResult } from './results.js';

export type StopReason =
  'rollback-failed' | 'interrupted' | 'steady-state-failed' | 'fault-failed' | 'load-failed';

export type RunVerdict = 'pass' | 'breach' | 'no-data' | StopReason;

/** Why a run stopped early, as every report states it. */
export interface RunStop {
  reason: StopReason;
  /** The error code, e.g. `STEADY_STATE_BROKEN`. */
  code: string;
  message: string;
  suggestions: string[];
}

export interface RunOutcome {
  verdict: RunVerdict;
  exitCode: number;
  /** One line: what the verdict means, e.g. "steady state broken before the first fault". */
  headline: string;
  /** Every early stop that happened, most important first (a failed rollback after Ctrl-C: both). */
  stops: RunStop[];
}

/** Precedence of early stops, highest first; the first present decides the exit code. */
export const STOP_PRECEDENCE: readonly StopReason[] = [
  'rollback-failed',
  'interrupted',
  'steady-state-failed',
  'fault-failed',
  'load-failed',
];

export const STOP_EXIT_CODE: Record<StopReason, number> = {
  'rollback-failed': ExitCode.rollbackFailed,
  interrupted: ExitCode.interrupted,
  'steady-state-failed': ExitCode.preflightFailed,
  'fault-failed': ExitCode.faultFailed,
  'load-failed': ExitCode.loadGeneratorError,
};

export const STOP_HEADLINE: Record<StopReason, string> = {
  'rollback-failed': 'rollback failed: faults are still injected',
  interrupted: 'interrupted before the end of the run',
  'steady-state-failed': 'the steady state did not hold before the first fault, so nothing was injected',
  'fault-failed': 'a fault could not be injected',
  'load-failed': 'the load generator failed',
};

/** Whether an SLO result fails the verdict: a breach, or no data where data was required. */
export function sloFails(s: Pick<SloResult, 'verdict' | 'slo'>): boolean {
  return s.verdict === 'breach' || (s.verdict === 'no-data' && !noDataAllowed(s));
}

/** No data is acceptable: the SLO says so, or the run's engine cannot measure it (`notMeasured`). */
function noDataAllowed(s: Pick<SloResult, 'slo'>): boolean {
  return s.slo.allowNoData === true || s.slo.notMeasured !== undefined;
}

/** SLO part of the verdict: breach / no-data (fails) / pass, with counts for the headline. */
export function sloVerdict(slos: ReadonlyArray<Pick<SloResult, 'verdict' | 'slo'>>): {
  verdict: 'pass' | 'breach' | 'no-data';
  exitCode: number;
  breached: number;
  missing: number;
  passed: number;
  allowedNoData: number;
  /** No data because the engine cannot measure them (reported, not gating). */
  notMeasured: number;
} {
  const breached = slos.filter((s) => s.verdict === 'breach').length;
  const missing = slos.filter((s) => s.verdict === 'no-data' && !noDataAllowed(s)).length;
  const notMeasured = slos.filter((s) => s.verdict === 'no-data' && s.slo.notMeasured !== undefined).length;
  const allowedNoData = slos.filter(
    (s) => s.verdict === 'no-data' && s.slo.allowNoData === true && s.slo.notMeasured === undefined,
  ).length;
  const passed = slos.filter((s) => s.verdict === 'pass').length;
  // Nothing judged at all (no SLO, or every one without data) is not a pass either.
  const verdict = breached > 0 ? 'breach' : missing > 0 || passed === 0 ? 'no-data' : 'pass';
  return {
    verdict,
    exitCode: verdict === 'pass' ? ExitCode.ok : ExitCode.sloBreached,
    breached,
    missing,
    passed,
    allowedNoData,
    notMeasured,
  };
}

/** Exit code of the SLO evaluation alone (10 when any gating SLO breached or lacked data). */
export function sloExitCode(slos: ReadonlyArray<Pick<SloResult, 'verdict' | 'slo'>>): number {
  return sloVerdict(slos).exitCode;
}

/** The run's outcome from its SLO results and the early stops (in any order). */
export function decideOutcome(
  slos: ReadonlyArray<Pick<SloResult, 'verdict' | 'slo'>>,
  stops: readonly RunStop[] = [],
): RunOutcome {
  const ordered = [...stops].sort(
    (a, b) => STOP_PRECEDENCE.indexOf(a.reason) - STOP_PRECEDENCE.indexOf(b.reason),
  );
  const first = ordered[0];
  if (first) {
    return {
      verdict: first.reason,
      exitCode: STOP_EXIT_CODE[first.reason],
      headline: STOP_HEADLINE[first.reason],
      stops: ordered,
    };
  }
  const v = sloVerdict(slos);
  const total = slos.length;
  const headline =
    v.verdict === 'breach'
      ? `${v.breached} of ${total} SLO checks breached${v.missing ? `, ${v.missing} without data` : ''}`
      : v.verdict === 'no-data'
        ? total === 0
          ? 'no SLO was evaluated: nothing to judge is not a pass'
          : v.passed === 0
            ? `0 of ${total} SLO checks evaluated: no data is not a pass`
            : `${v.missing} of ${total} SLO checks have no data (a gating SLO without data fails)`
        : `${v.passed} of ${total} SLO checks met${v.allowedNoData ? `, ${v.allowedNoData} without data (allowed)` : ''}${v.notMeasured ? `, ${v.notMeasured} not measurable by this load engine (${notMeasuredList(slos)})` : ''}`;
  return { verdict: v.verdict, exitCode: v.exitCode, headline, stops: [] };
}

function notMeasuredList(slos: ReadonlyArray<Pick<SloResult, 'verdict' | 'slo'>>): string {
  const ids = new Set(
    slos
      .filter((s) => s.verdict === 'no-data' && s.slo.notMeasured !== undefined)
      .map((s) => `${s.slo.metric}${s.slo.client ? ` [${s.slo.client}]` : ''}`),
  );
  return [...ids].join(', ');
}

export function verdictText(verdict: RunVerdict): string {
  switch (verdict) {
    case 'pass':
      return 'PASS';
    case 'breach':
      return 'BREACH';
    case 'no-data':
      return 'NO DATA';
    case 'steady-state-failed':
      return 'STEADY STATE BROKEN';
    case 'fault-failed':
      return 'FAULT FAILED';
    case 'load-failed':
      return 'LOAD FAILED';
    case 'interrupted':
      return 'INTERRUPTED';
    case 'rollback-failed':
      return 'ROLLBACK FAILED';
  }
}
