// The shapes a game-day session shares with its console, terminal view and command
// (docs/gameday.md): the events it emits, what is injected, fault windows, the live SLO rows and
// the summary at the end. Types only.

import type { HypothesisResult } from '../core/gameday/hypotheses.js';
import type { faultWindows, JournalNote } from '../core/journal.js';
import type { LiveLoad, LoadProgress } from '../core/ports.js';
import type { RunResults } from '../core/report/results.js';
import type { ReportPaths } from '../core/report/write.js';
import type { RevertEntry } from '../core/runner/revert-stack.js';

export type GamedayEvent =
  | { type: 'session-started'; at: number; runDir: string; endsAt: number }
  | {
      type: 'inject-start' | 'inject-done' | 'revert-start' | 'revert-done';
      at: number;
      name: string;
      action: string;
      description: string;
      by: 'hand' | 'plan' | 'timer' | 'end';
    }
  | { type: 'inject-failed' | 'revert-failed'; at: number; name: string; action: string; error: string }
  | { type: 'note'; at: number; note: JournalNote }
  | { type: 'warning'; at: number; text: string }
  | { type: 'progress'; at: number; progress: LoadProgress; injected: string[] }
  | { type: 'load-finished'; at: number; error?: string }
  | { type: 'load-changed'; at: number; by: 'console' | 'terminal'; before: LiveLoad; after: LiveLoad }
  | { type: 'session-finished'; at: number; exitCode: number; verdict: string; reports: ReportPaths };

export interface ActiveFault {
  name: string;
  action: string;
  description: string;
  since: number;
  /** When a `for` reverts it automatically. */
  until?: number;
  status: 'injecting' | 'injected' | 'reverting' | 'inject-failed' | 'revert-failed';
  error?: string;
}

export interface FaultWindowLive {
  name: string;
  action: string;
  start: number;
  /** null while the fault is injected. */
  end: number | null;
}

/** A journal fault window; `open` while its fault is still injected (it ends "now"). */
export type LiveWindow = ReturnType<typeof faultWindows>[number] & { open?: boolean };

export interface LiveSloRow {
  id: string;
  phase: string;
  objective: string;
  measured: number | null;
  samples: number;
  verdict: string;
}

export interface GamedaySummary {
  runId: string;
  runDir: string;
  exitCode: number;
  verdict: string;
  results: RunResults;
  reports: ReportPaths;
  stillInjected: Array<Pick<RevertEntry, 'name' | 'action' | 'description' | 'error'>>;
  notes: JournalNote[];
  hypotheses: HypothesisResult[];
}

export type Emit = (e: GamedayEvent) => void;
