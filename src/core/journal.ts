// The run journal (chaostoolkit style): data, not log lines. The runner appends to it, the
// reporter derives phases from its timestamps, `results.json` embeds it.

export type RunStatus = 'completed' | 'failed' | 'aborted' | 'interrupted';
export type ActivityStatus = 'succeeded' | 'failed' | 'skipped';

export interface JournalActivity {
  /** Name of the timeline entry (or `preflight`, `load`, `rollback:<name>`). */
  name: string;
  kind: 'preflight' | 'inject' | 'revert' | 'probe' | 'load';
  /** Fault type, e.g. `redis.failover`, for inject/revert. */
  action?: string;
  startedAt: number;
  endedAt: number;
  /**
   * Inject only: when the fault's window ends if nothing reverts it — set for faults without an
   * inverse that declare `for` (e.g. a `redis.failover` observed for 20 s).
   */
  windowEndsAt?: number;
  status: ActivityStatus;
  output?: unknown;
  error?: string;
}

export interface Journal {
  schemaVersion: 1;
  runId: string;
  experiment: { title: string; file?: string };
  /** `version`: the Open WebUI release the target said it runs at preflight (absent in older journals). */
  target: { name: string; url: string; version?: string };
  engine: string;
  startedAt: number;
  endedAt: number;
  status: RunStatus;
  /** Timeline entries the experiment planned (0: a load-only run). Absent in older journals. */
  plannedFaults?: number;
  /** True when an SLO was breached (the steady-state hypothesis deviated), whatever the status. */
  deviated: boolean;
  activities: JournalActivity[];
  /** Game days (DESIGN §9): hypotheses and observations written during the session. */
  notes?: JournalNote[];
  /**
   * What the run noticed or decided that is not an activity: a check that failed to run, a role
   * lookup that did not answer, reverts skipped by `rollbackStrategy: never`. Absent when none.
   */
  events?: JournalEvent[];
  /** Problems that did not stop the run (e.g. a Grafana annotation that could not be posted). */
  warnings?: string[];
  /** Game days: each hypothesis (the plan's SLOs, hypothesis notes with a check) and its verdict. */
  hypotheses?: JournalHypothesis[];
  /** Game days: each live change of the load (docs/gameday.md), in time order. */
  loadChanges?: JournalLoadChange[];
}

/** A live load change: when, who asked (the console or its API, or the terminal keys), before and after. */
export interface JournalLoadChange {
  at: number;
  by: 'console' | 'terminal';
  before: { chatVus?: number; chatRate?: number; socketVus?: number };
  after: { chatVus?: number; chatRate?: number; socketVus?: number };
}

export interface JournalEvent {
  at: number;
  /** e.g. `BREACH_CHECK_FAILED`, `REDIS_ROLE_UNRESOLVED`, `ROLLBACK_SKIPPED`. */
  code: string;
  /** The timeline entry it concerns, if one. */
  name?: string;
  message: string;
}

export interface JournalNote {
  at: number;
  kind: 'hypothesis' | 'observation';
  text: string;
  /** The faults injected when the note was written. */
  faults: string[];
  /** A hypothesis's measurable check (src/core/gameday/hypotheses.ts). */
  check?: {
    metric: string;
    stat: string;
    lte?: number;
    gte?: number;
    client?: 'api' | 'browser';
    outcome?: string;
    during: string;
  };
}

/** A game-day hypothesis and its verdict (src/core/gameday/hypotheses.ts): silence is never `held`. */
export interface JournalHypothesis {
  id: string;
  source: 'plan' | 'note';
  text: string;
  at: number | null;
  verdict: 'held' | 'broken' | 'no-data' | 'pending';
  reason: string;
  checks: Array<{
    check: string;
    phase: string;
    objective: string;
    measured: number | null;
    samples: number;
    verdict: string;
    note?: string;
  }>;
}

/** Whether the run planned faults (old journals: it did when it checked a steady state or injected). */
export function faultsPlanned(journal: Pick<Journal, 'activities' | 'plannedFaults'>): boolean {
  if (journal.plannedFaults !== undefined) return journal.plannedFaults > 0;
  return journal.activities.some((a) => a.kind === 'inject' || a.name === 'steady-state');
}

/** A fault's time window, derived from its inject and (optional) revert activities. */
export interface FaultWindow {
  name: string;
  action: string;
  start: number;
  /** Revert end; for faults without an inverse the end of their declared `for`, else the inject's end. */
  end: number;
}

/** Fault windows in start order, from successful injects and their reverts. */
export function faultWindows(journal: Pick<Journal, 'activities' | 'endedAt'>): FaultWindow[] {
  const windows: FaultWindow[] = [];
  for (const inject of journal.activities) {
    if (inject.kind !== 'inject' || inject.status !== 'succeeded') continue;
    const revert = journal.activities.find(
      (a) => a.kind === 'revert' && a.name === inject.name && a.startedAt >= inject.startedAt,
    );
    windows.push({
      name: inject.name,
      action: inject.action ?? inject.name,
      start: inject.startedAt,
      end: revert ? revert.endedAt : Math.max(inject.endedAt, inject.windowEndsAt ?? inject.endedAt),
    });
  }
  return windows.sort((a, b) => a.start - b.start);
}
