// A game-day session (DESIGN §9, docs/gameday.md): the parts put together — steady load
// (gameday-load.ts), fault control on the persisted revert stack (gameday-faults.ts), notes and
// the journal (gameday-record.ts), the live SLO table and hypotheses (gameday-live-slo.ts),
// annotations (gameday-annotate.ts) — and the end: stop the load, revert everything, write the
// reports. Nothing here prints; events go to `emit`.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Experiment } from '../core/config/experiment.js';
import type { Target } from '../core/config/target.js';
import { faultCatalogue, type CatalogueAction, type HandFaultInput } from '../core/gameday/hand-fault.js';
import type { Hypothesis, HypothesisResult } from '../core/gameday/hypotheses.js';
import { LiveSeries } from '../core/gameday/live-series.js';
import type { LoadLevels } from '../core/gameday/live-load.js';
import type { JournalLoadChange, JournalNote } from '../core/journal.js';
import type { LoadEngine, LoadProgress } from '../core/ports.js';
import { PreflightError } from '../core/errors.js';
import { evaluateRun } from '../core/report/evaluate.js';
import { applyOutcome } from '../core/report/results.js';
import { writeReports } from '../core/report/write.js';
import type { RevertStack } from '../core/runner/revert-stack.js';
import type { TargetDrivers } from './drivers.js';
import type { DriverFaultInjector } from './fault-injector.js';
import { SessionAnnotations, type Annotator } from './gameday-annotate.js';
import { FaultControl } from './gameday-faults.js';
import { stopsOf } from './run-stops.js';
import { LiveJudge } from './gameday-live-slo.js';
import { SessionLoad } from './gameday-load.js';
import { SessionRecord } from './gameday-record.js';
import type {
  ActiveFault,
  FaultWindowLive,
  GamedayEvent,
  GamedaySummary,
  LiveSloRow,
} from './gameday-types.js';
import type { TappedNdjsonFileSink } from './sample-tap.js';

export interface SessionContext {
  engine: LoadEngine;
  sink: TappedNdjsonFileSink;
  samplesFile: string;
  stack: RevertStack;
  drivers: TargetDrivers;
  faults: DriverFaultInjector;
  emit: (e: GamedayEvent) => void;
  onFinished: () => Promise<void>;
  /** Posts fault windows and notes (e.g. to Grafana); failures become journal warnings. */
  annotator?: Annotator;
  /** The plan's own SLOs, each a hypothesis (its description is the statement). */
  planHypotheses?: Hypothesis[];
}

export class GamedaySession {
  readonly live = new LiveSeries();
  readonly catalogue: CatalogueAction[] = faultCatalogue();
  readonly startedAt = Date.now();
  readonly endsAt: number;
  finished = false;
  private readonly record: SessionRecord;
  private readonly annotations: SessionAnnotations;
  private readonly faultControl: FaultControl;
  private readonly load: SessionLoad;
  private readonly judge: LiveJudge;
  private readonly tick: NodeJS.Timeout;
  private finishing: Promise<GamedaySummary> | undefined;

  constructor(
    readonly runId: string,
    readonly runDir: string,
    readonly target: Target,
    readonly experiment: Experiment,
    private readonly ctx: SessionContext,
  ) {
    this.endsAt = this.startedAt + experiment.load.duration;
    const emit = ctx.emit;
    this.record = new SessionRecord({
      runId,
      title: experiment.title,
      target: { name: target.name, url: target.openwebui.url },
      engine: ctx.engine.name,
      startedAt: this.startedAt,
    });
    this.annotations = new SessionAnnotations(runId, ctx.annotator, (warning) => {
      this.record.warn(warning);
      emit({ type: 'warning', at: Date.now(), text: warning });
    });
    this.faultControl = new FaultControl({
      target,
      faults: ctx.faults,
      stack: ctx.stack,
      record: this.record,
      annotations: this.annotations,
      emit,
      ending: () => this.finished || this.finishing !== undefined,
    });
    this.load = new SessionLoad({
      engine: ctx.engine,
      sink: ctx.sink,
      experiment,
      target,
      record: this.record,
      emit,
      injected: () => this.faultControl.names(),
      onEnded: () => void this.finish(),
    });
    this.judge = new LiveJudge(experiment.slos, ctx.planHypotheses ?? []);
    this.tick = setInterval(() => this.live.advance(Date.now()), 1000);
  }

  /** The live SLO table and hypotheses: samples folded once as they arrive (never re-read). */
  get sloEval(): LiveJudge['sloEval'] {
    return this.judge.sloEval;
  }

  get lastProgress(): LoadProgress | undefined {
    return this.load.lastProgress;
  }

  /** Starts the load (bounded by the plan's duration); the session finishes when it ends. */
  startLoad(): void {
    this.load.start();
  }

  /** Schedules the plan's timeline relative to the session start (a scripted game day). */
  schedulePlan(): void {
    this.faultControl.schedulePlan(this.experiment.timeline, this.startedAt);
  }

  /** Validates (schema + safety), persists the inverse, applies. Throws ValidationError when refused. */
  inject(input: HandFaultInput, by: 'hand' | 'plan' = 'hand'): Promise<ActiveFault> {
    return this.faultControl.inject(input, by);
  }

  revert(name: string, by: 'hand' | 'timer' | 'end' = 'hand'): Promise<void> {
    return this.faultControl.revert(name, by);
  }

  /** Reverts everything injected, most recent first; failures stay on the stack for `rollback`. */
  revertAll(by: 'hand' | 'end' = 'hand'): Promise<string[]> {
    return this.faultControl.revertAll(by);
  }

  /** Changes the load live (see SessionLoad.change for what is refused and how). */
  changeLoad(input: unknown, by: JournalLoadChange['by'] = 'console'): JournalLoadChange {
    if (this.finished || this.finishing)
      throw new PreflightError('The session is ending; the load is not changed', { code: 'SESSION_ENDING' });
    return this.load.change(input, by);
  }

  /** A note; a hypothesis may carry a measurable check (validated: throws ValidationError). */
  note(kind: JournalNote['kind'], text: string, check?: unknown): JournalNote {
    const note = this.record.note(kind, text, this.faultControl.names(), check);
    this.ctx.emit({ type: 'note', at: note.at, note });
    this.annotations.note(note.at, kind, note.text);
    return note;
  }

  state(): {
    runId: string;
    runDir: string;
    target: string;
    startedAt: number;
    endsAt: number;
    finished: boolean;
    active: ActiveFault[];
    windows: FaultWindowLive[];
    notes: JournalNote[];
    load: LoadLevels;
    loadChanges: JournalLoadChange[];
    progress: LoadProgress | undefined;
    totals: LiveSeries['totals'];
    errorsByStatus: Record<string, number>;
  } {
    return {
      runId: this.runId,
      runDir: this.runDir,
      target: `${this.target.name} (${this.target.openwebui.url})`,
      startedAt: this.startedAt,
      endsAt: this.endsAt,
      finished: this.finished,
      active: this.faultControl.active(),
      windows: this.faultControl.windows(),
      notes: [...this.record.notes],
      load: this.load.current(),
      loadChanges: [...this.record.loadChanges],
      progress: this.load.lastProgress,
      totals: { ...this.live.totals },
      errorsByStatus: { ...this.live.errorsByStatus },
    };
  }

  /**
   * The SLO table per phase so far, from the incremental evaluator (samples were folded as they
   * arrived; nothing is re-read). Recomputed at most once a second.
   */
  slos(): LiveSloRow[] {
    const now = Date.now();
    const journal = this.record.journal((n) => this.faultControl.isInjected(n), now);
    const windows = LiveJudge.liveWindows(journal, (n) => this.faultControl.isOpen(n));
    return this.judge.table(now, journal, windows, this.horizon(now));
  }

  /** Every hypothesis so far with its verdict (live: a phase not reached yet is `pending`). */
  hypotheses(): HypothesisResult[] {
    const now = Date.now();
    const journal = this.record.journal((n) => this.faultControl.isInjected(n), now);
    const windows = LiveJudge.liveWindows(journal, (n) => this.faultControl.isOpen(n));
    return this.judge.hypotheses(windows, this.horizon(now), this.record.noteHypotheses());
  }

  private horizon(now: number): number {
    return LiveJudge.horizon(now, this.faultControl.earliestApplying());
  }

  /** Ends the session: stops load, reverts everything, writes the reports. Idempotent. */
  finish(): Promise<GamedaySummary> {
    if (!this.finishing) {
      this.finishing = this.doFinish();
      this.finishing.then(this.settle.resolve, this.settle.reject);
    }
    return this.finishing;
  }

  // Declared before `done`, whose executor replaces it (class fields initialise in order).
  private settle: { resolve: (s: GamedaySummary) => void; reject: (err: unknown) => void } = {
    resolve: () => undefined,
    reject: () => undefined,
  };
  /** Settles when the session has finished (its load ended, or `finish()` was called). */
  readonly done: Promise<GamedaySummary> = new Promise((resolve, reject) => {
    this.settle = { resolve, reject };
  });

  private async doFinish(): Promise<GamedaySummary> {
    this.faultControl.cancelPlan();
    // Faults out before the load stops: Toxiproxy 2.12 can hang removing a latency toxic whose
    // downstream client has just gone (docs/faults.md, "Reverting under load").
    await this.faultControl.drained();
    await this.faultControl.revertAll('end');
    await this.load.stop();
    clearInterval(this.tick);
    this.live.advance(Date.now() + 10_000);
    this.ctx.sink.close();
    await this.ctx.drivers.close().catch(() => undefined);
    // Annotations of the last reverts (each bounded by its timeout) before the journal is written.
    await this.annotations.settled();
    const journal = this.record.journal((n) => this.faultControl.isInjected(n));
    // Hypotheses from the same evaluator, everything folded, the final windows.
    journal.hypotheses = this.judge.final(journal, this.record.noteHypotheses());
    writeFileSync(join(this.runDir, 'journal.json'), JSON.stringify(journal, null, 2));
    const stillInjected = this.ctx.stack.outstanding().map((e) => ({
      name: e.name,
      action: e.action,
      description: e.description,
      ...(e.error ? { error: e.error } : {}),
    }));
    // Faults still injected, a failed load and toxics no traffic reached are early stops as in
    // `run`, so results.json, junit.xml and the exit code say the same thing.
    const stops = stopsOf(
      {
        journal,
        rollbackFailed: stillInjected.length > 0,
        interrupted: false,
        steadyStateFailed: false,
        faultFailed: false,
        untouched: this.faultControl.untouched(),
        ...(this.load.error !== undefined ? { loadError: this.load.error } : {}),
      },
      stillInjected,
      this.runDir,
    );
    const results = applyOutcome(
      await evaluateRun({
        sampleFiles: [this.ctx.samplesFile],
        journal,
        slos: this.experiment.slos,
        recoveryWindowMs: this.experiment.settings.recoveryWindow,
      }),
      stops,
    );
    const reports = await writeReports(results, this.runDir);
    this.finished = true;
    const exitCode = results.exitCode;
    this.ctx.emit({ type: 'session-finished', at: Date.now(), exitCode, verdict: results.verdict, reports });
    await this.ctx.onFinished();
    return {
      runId: this.runId,
      runDir: this.runDir,
      exitCode,
      verdict: results.verdict,
      results,
      reports,
      stillInjected,
      notes: [...this.record.notes],
      hypotheses: journal.hypotheses ?? [],
    };
  }
}
