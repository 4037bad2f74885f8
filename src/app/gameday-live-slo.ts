// The live judgement of a game-day session (docs/gameday.md "The live SLO table", "Hypotheses"):
// samples are folded once as they arrive into the incremental evaluator (never re-read); the SLO
// table per phase so far and the hypotheses' verdicts are read from its accumulators. The final
// verdicts come from the same evaluator with everything folded.

import { judgeHypotheses, type Hypothesis, type HypothesisResult } from '../core/gameday/hypotheses.js';
import { faultsPlanned, faultWindows, type Journal } from '../core/journal.js';
import { IncrementalSloEvaluator } from '../core/report/incremental.js';
import type { SloSpec } from '../core/slo/spec.js';
import type { LiveSloRow, LiveWindow } from './gameday-types.js';

/** How late a worker's batch of samples may arrive (they flush every second or so). */
export const LIVE_LAG_MS = 5000;

export class LiveJudge {
  readonly sloEval: IncrementalSloEvaluator;
  private sloCache: { at: number; rows: LiveSloRow[] } | undefined;

  constructor(
    private readonly slos: SloSpec[],
    /** The plan's own SLOs, each a hypothesis (its description is the statement). */
    private readonly planHypotheses: Hypothesis[],
  ) {
    this.sloEval = new IncrementalSloEvaluator({ slos, trackAll: true });
  }

  /** Fault windows of `journal`; those of faults still injected (`isOpen`) are open (ending now). */
  static liveWindows(journal: Journal, isOpen: (name: string) => boolean): LiveWindow[] {
    return faultWindows(journal).map((w) => (isOpen(w.name) ? { ...w, open: true } : w));
  }

  /** Samples before this are folded: older than the workers' batching lag and any injection being applied. */
  static horizon(now: number, earliestApplying: number): number {
    return Math.min(now - LIVE_LAG_MS, earliestApplying);
  }

  /** The SLO table per phase so far (recomputed at most once a second). */
  table(now: number, journal: Journal, windows: LiveWindow[], horizon: number): LiveSloRow[] {
    if (this.sloCache && now - this.sloCache.at < 1000) return this.sloCache.rows;
    this.sloEval.advance(windows, horizon);
    const rows = this.sloEval.judgeSlos(this.slos, windows, faultsPlanned(journal)).map((s) => ({
      id: s.id,
      phase: s.phase,
      objective: s.objectiveText,
      measured: s.measured,
      samples: s.samples,
      // Live, a phase that has not happened yet (no recovery before the first revert) is
      // pending, not a breach; the final report judges it as usual.
      verdict: s.samples === 0 && s.measured === null ? 'pending' : s.verdict,
    }));
    this.sloCache = { at: now, rows };
    return rows;
  }

  /** Every hypothesis so far with its verdict (live: a phase not reached yet is `pending`). */
  hypotheses(windows: LiveWindow[], horizon: number, fromNotes: Hypothesis[]): HypothesisResult[] {
    this.sloEval.advance(windows, horizon);
    return this.judge(windows, true, fromNotes);
  }

  /** The final verdicts: everything folded, the final windows. */
  final(journal: Journal, fromNotes: Hypothesis[]): HypothesisResult[] {
    const windows = faultWindows(journal);
    this.sloEval.advance(windows, Number.POSITIVE_INFINITY);
    this.sloEval.flush();
    return this.judge(windows, false, fromNotes);
  }

  private judge(windows: LiveWindow[], live: boolean, fromNotes: Hypothesis[]): HypothesisResult[] {
    return judgeHypotheses(this.sloEval, [...this.planHypotheses, ...fromNotes], windows, live);
  }
}
