// Phasing of samples by the journal's fault windows (pure). Contract:
// - `baseline`: before the first fault's start; `recovery`: at or after the last fault window's end;
// - each fault window [start, end) is a phase named after its timeline entry, and `fault` is their
//   union; with overlapping faults a sample belongs to every window covering it;
// - `all` holds every sample. A sample between two non-overlapping windows is only in `all`.
// - a load-only run (no journal, or an experiment without a timeline) has only the `all` phase, and
//   its SLOs are judged over the whole run whatever phases they name;
// - a run with a timeline that stopped before its first injection (steady state broken, Ctrl-C)
//   has `baseline` (every sample) and `all`; its fault and recovery phases were never reached.

import { RESERVED_PHASES } from '../config/slo-defaults.js';
import type { FaultWindow } from '../journal.js';

export type PhaseKind = 'baseline' | 'fault' | 'recovery' | 'all' | 'window';

export interface PhaseInfo {
  /** Phase key, usable as an SLO phase selector. */
  name: string;
  kind: PhaseKind;
  /** Epoch ms; open ends are the data's first / last sample time, filled in by the reporter. */
  start: number | null;
  end: number | null;
  /** For `window` phases: the fault's action, e.g. `redis.failover`. */
  action?: string;
}

export interface PhasePlan {
  windows: Array<FaultWindow & { key: string }>;
  firstStart: number;
  lastEnd: number;
  /** No fault was planned: SLOs are judged over the whole run. */
  loadOnly: boolean;
}

/** An instantaneous fault (end = start) still owns the millisecond it happened in. */
function effectiveEnd(w: FaultWindow): number {
  return Math.max(w.end, w.start + 1);
}

export function phasePlan(
  windows: readonly FaultWindow[],
  options: { faultsPlanned?: boolean } = {},
): PhasePlan {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const used = new Set<string>(RESERVED_PHASES);
  const keyed = sorted.map((w) => {
    // A timeline entry named like a reserved phase (or twice the same name) must stay addressable.
    let key = w.name;
    for (let i = 2; used.has(key); i++) key = `${w.name}#${i}`;
    used.add(key);
    return { ...w, key };
  });
  return {
    windows: keyed,
    firstStart: keyed.length > 0 ? Math.min(...keyed.map((w) => w.start)) : Number.POSITIVE_INFINITY,
    lastEnd: keyed.length > 0 ? Math.max(...keyed.map((w) => effectiveEnd(w))) : Number.NEGATIVE_INFINITY,
    loadOnly: keyed.length === 0 && options.faultsPlanned !== true,
  };
}

/** Every phase key a sample at `timeMs` belongs to, `all` first. */
export function phasesAt(plan: PhasePlan, timeMs: number): string[] {
  if (plan.loadOnly) return ['all'];
  if (timeMs < plan.firstStart) return ['all', 'baseline'];
  if (timeMs >= plan.lastEnd) return ['all', 'recovery'];
  const keys = ['all'];
  for (const w of plan.windows) {
    if (timeMs >= w.start && timeMs < effectiveEnd(w)) keys.push(w.key);
  }
  if (keys.length > 1) keys.splice(1, 0, 'fault');
  return keys;
}

/** The phases this run has, in reading order: baseline, each fault window, fault, recovery, all. */
export function phaseInfos(plan: PhasePlan): PhaseInfo[] {
  if (plan.loadOnly) return [{ name: 'all', kind: 'all', start: null, end: null }];
  if (plan.windows.length === 0) {
    return [
      { name: 'baseline', kind: 'baseline', start: null, end: null },
      { name: 'all', kind: 'all', start: null, end: null },
    ];
  }
  return [
    { name: 'baseline', kind: 'baseline', start: null, end: plan.firstStart },
    ...plan.windows.map((w): PhaseInfo => ({
      name: w.key,
      kind: 'window',
      start: w.start,
      end: w.end,
      action: w.action,
    })),
    { name: 'fault', kind: 'fault', start: plan.firstStart, end: plan.lastEnd },
    { name: 'recovery', kind: 'recovery', start: plan.lastEnd, end: null },
    { name: 'all', kind: 'all', start: null, end: null },
  ];
}
