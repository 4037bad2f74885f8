// The `owui-chaos gameday` use case (DESIGN §9): steady load for the length of a session, faults
// injected by hand (and optionally a scripted plan's timeline) through the same fault injector and
// persisted revert stack as `run`, notes in the journal, live series for the console, and at the
// end the usual results.json, report.html and junit.xml. Nothing here prints; events go to
// `onEvent`. Ctrl-C, crash and `owui-chaos rollback` restore the target exactly as for `run`:
// every inverse is in `reverts.json` before its fault is applied, and `run.json` says where.

import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultSlosFile, experimentsDir } from '../cli/paths.js';
import { resolveExperimentRef } from '../core/config/builtin.js';
import { loadExperiment, type Experiment } from '../core/config/experiment.js';
import { toLoadPlan } from '../core/config/plan.js';
import { describeFault, FAULT_FACTS, type TimelineEntry } from '../core/config/faults.js';
import { loadSloDefaults } from '../core/config/slo-defaults.js';
import { LAB_TARGET, loadTarget, type Target } from '../core/config/target.js';
import { errorMessage, PreflightError, UsageError } from '../core/errors.js';
import { parseDuration } from '../core/clock.js';
import {
  checkHandFault,
  faultCatalogue,
  type CatalogueAction,
  type HandFaultInput,
} from '../core/gameday/hand-fault.js';
import {
  describeCheck,
  judgeHypotheses,
  noteHypothesis,
  parseHypothesisCheck,
  type Hypothesis,
  type HypothesisResult,
} from '../core/gameday/hypotheses.js';
import { LiveSeries } from '../core/gameday/live-series.js';
import {
  faultWindows,
  faultsPlanned,
  type Journal,
  type JournalActivity,
  type JournalNote,
} from '../core/journal.js';
import type { LoadEngine, LoadProgress } from '../core/ports.js';
import { evaluateRun } from '../core/report/evaluate.js';
import { IncrementalSloEvaluator } from '../core/report/incremental.js';
import type { RunResults } from '../core/report/results.js';
import { writeReports, type ReportPaths } from '../core/report/write.js';
import { RevertStack, type RevertEntry } from '../core/runner/revert-stack.js';
import { runnerEntry } from '../core/runner/runner.js';
import { createAgent } from '../engines/node/http.js';
import { authSourceFromTarget, provisionCredentials } from '../engines/node/provisioning.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { defaultLabStateDir, readLabState } from '../infra/lab-state.js';
import { driversForTarget, type TargetDrivers } from './drivers.js';
import { DriverFaultInjector } from './fault-injector.js';
import { engineFor, preflightReachable } from './run-experiment.js';
import { guardRun, type RunGuard } from './safety/run-guard.js';
import type { Annotator, GrafanaAnnotation } from './gameday-annotate.js';
import { TappedNdjsonFileSink, type SampleObserver } from './sample-tap.js';

export interface GamedayRequest {
  /** An experiment file or built-in name: its load and SLOs, and its timeline when `scripted`. */
  plan?: string;
  /** Run the plan's timeline inside the session (true when `--plan` was given). */
  scripted?: boolean;
  target?: string;
  labName?: string;
  /** Session length (bounds the load); default the plan's `load.duration`. */
  duration?: string;
  outDir?: string;
  /** Confirmed: faults may be injected into a non-lab target. */
  yes?: boolean;
  keepLab?: boolean;
  /** Take the target's lease from a holder that is gone (docs/safety.md). */
  breakLease?: boolean;
  workers?: number;
  env?: NodeJS.ProcessEnv;
  /** Where fault windows and notes are posted (`--annotate grafana`). */
  annotator?: Annotator;
  observers?: SampleObserver[];
  onEvent?: (e: GamedayEvent) => void;
  onNotice?: (text: string) => void;
}

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

interface Injected {
  entry: TimelineEntry;
  stackEntry: RevertEntry;
  timer?: NodeJS.Timeout;
  active: ActiveFault;
}

export class GamedaySession {
  readonly live = new LiveSeries();
  readonly catalogue: CatalogueAction[] = faultCatalogue();
  readonly startedAt = Date.now();
  readonly endsAt: number;
  lastProgress: LoadProgress | undefined;
  finished = false;
  private readonly activities: JournalActivity[] = [];
  private readonly warnings: string[] = [];
  /** Annotations being posted (each bounded by the annotator's timeout). */
  private readonly annotating = new Set<Promise<void>>();
  private readonly notes: JournalNote[] = [];
  private readonly injected = new Map<string, Injected>();
  private readonly windows: FaultWindowLive[] = [];
  private readonly usedNames = new Set<string>();
  private readonly stop = new AbortController();
  private readonly tick: NodeJS.Timeout;
  private loadDone!: Promise<void>;
  private loadError: unknown;
  private finishing: Promise<GamedaySummary> | undefined;
  /** The live SLO table and hypotheses: samples folded once as they arrive (never re-read). */
  readonly sloEval: IncrementalSloEvaluator;
  /** Start times of injections still being applied: samples after them wait (their window is not known yet). */
  private readonly applying = new Set<number>();
  private sloCache: { at: number; rows: LiveSloRow[] } | undefined;
  private planTimers: NodeJS.Timeout[] = [];
  /** Serialises injects and reverts (the drivers are not meant for concurrent changes). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly runId: string,
    readonly runDir: string,
    readonly target: Target,
    readonly experiment: Experiment,
    private readonly ctx: {
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
    },
  ) {
    this.endsAt = this.startedAt + experiment.load.duration;
    this.sloEval = new IncrementalSloEvaluator({ slos: experiment.slos, trackAll: true });
    this.tick = setInterval(() => this.live.advance(Date.now()), 1000);
  }

  /** Starts the load (bounded by the plan's duration); the session finishes when it ends. */
  startLoad(): void {
    const plan = toLoadPlan(this.experiment.load, this.target);
    const loadStart = Date.now();
    this.loadDone = this.ctx.engine
      .run(plan, this.ctx.sink, {
        signal: this.stop.signal,
        onProgress: (p) => {
          this.lastProgress = p;
          this.ctx.emit({
            type: 'progress',
            at: Date.now(),
            progress: p,
            injected: [...this.injected.keys()],
          });
        },
      })
      .catch((err: unknown) => {
        this.loadError = err;
      })
      .finally(() => {
        this.activities.push({
          name: 'load',
          kind: 'load',
          startedAt: loadStart,
          endedAt: Date.now(),
          status: this.loadError ? 'failed' : 'succeeded',
          ...(this.loadError ? { error: errorMessage(this.loadError) } : {}),
          output: { engine: this.ctx.engine.name, durationMs: plan.durationMs },
        });
        this.ctx.emit({
          type: 'load-finished',
          at: Date.now(),
          ...(this.loadError ? { error: errorMessage(this.loadError) } : {}),
        });
        void this.finish();
      });
  }

  /** Schedules the plan's timeline relative to the session start (a scripted game day). */
  schedulePlan(): void {
    for (const entry of this.experiment.timeline) {
      this.usedNames.add(entry.name);
      this.planTimers.push(
        setTimeout(
          () => {
            this.usedNames.delete(entry.name);
            this.inject(
              {
                name: entry.name,
                action: entry.action,
                params: entry.params as Record<string, unknown>,
                ...(entry.for !== undefined ? { for: entry.for } : {}),
              },
              'plan',
            ).catch(() => undefined);
          },
          Math.max(0, this.startedAt + entry.at - Date.now()),
        ),
      );
    }
  }

  /** Validates (schema + safety), persists the inverse, applies. Throws ValidationError when refused. */
  async inject(input: HandFaultInput, by: 'hand' | 'plan' = 'hand'): Promise<ActiveFault> {
    if (this.finished || this.finishing)
      throw new PreflightError('The session is ending; nothing more is injected', { code: 'SESSION_ENDING' });
    const run = async (): Promise<ActiveFault> => {
      const entry = checkHandFault(input, {
        target: this.target,
        active: [...this.injected.values()].map((i) => i.entry),
        usedNames: this.usedNames,
      });
      this.usedNames.add(entry.name);
      // How long it lasts is the kind's window (a master kill's `restartAfter` too), as in `run`.
      const { forMs } = runnerEntry(entry, 0);
      const t0 = Date.now();
      this.applying.add(t0);
      try {
        return await applyIt(entry, forMs, t0);
      } finally {
        this.applying.delete(t0);
      }
    };
    const applyIt = async (
      entry: TimelineEntry,
      forMs: number | undefined,
      t0: number,
    ): Promise<ActiveFault> => {
      let prepared;
      try {
        prepared = await this.ctx.faults.prepare(entry);
      } catch (err) {
        this.failedInject(entry, t0, err);
        throw err;
      }
      // Persist the inverse before touching anything (DESIGN §6).
      const stackEntry = this.ctx.stack.record(
        {
          name: entry.name,
          action: entry.action,
          description: prepared.description,
          record: prepared.record,
        },
        Date.now(),
      );
      const active: ActiveFault = {
        name: entry.name,
        action: entry.action,
        description: prepared.description,
        since: t0,
        status: 'injecting',
      };
      const item: Injected = { entry, stackEntry, active };
      if (prepared.record) this.injected.set(entry.name, item);
      this.ctx.emit({
        type: 'inject-start',
        at: t0,
        name: entry.name,
        action: entry.action,
        description: prepared.description,
        by,
      });
      let output: unknown;
      try {
        output = await prepared.apply();
      } catch (err) {
        active.status = 'inject-failed';
        active.error = errorMessage(err);
        this.failedInject(entry, t0, err);
        throw err;
      }
      const now = Date.now();
      active.status = 'injected';
      const window: FaultWindowLive = { name: entry.name, action: entry.action, start: t0, end: null };
      this.windows.push(window);
      this.activities.push({
        name: entry.name,
        kind: 'inject',
        action: entry.action,
        startedAt: t0,
        endedAt: now,
        ...(forMs !== undefined && !prepared.record ? { windowEndsAt: t0 + forMs } : {}),
        status: 'succeeded',
        output: {
          description: prepared.description,
          by,
          ...(output === undefined ? {} : { result: output }),
        },
      });
      if (!prepared.record) {
        window.end = t0 + (forMs ?? now - t0);
        this.annotateWindow(entry.name, entry.action, prepared.description, t0, window.end);
      }
      this.ctx.emit({
        type: 'inject-done',
        at: now,
        name: entry.name,
        action: entry.action,
        description: prepared.description,
        by,
      });
      if (forMs !== undefined && prepared.record) {
        active.until = t0 + forMs;
        item.timer = setTimeout(() => void this.revert(entry.name, 'timer').catch(() => undefined), forMs);
      }
      return { ...active };
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async revert(name: string, by: 'hand' | 'timer' | 'end' = 'hand'): Promise<void> {
    const run = async (): Promise<void> => {
      const item = this.injected.get(name);
      if (!item) return; // already reverted: reverts are idempotent
      if (item.timer) clearTimeout(item.timer);
      const { stackEntry } = item;
      if (!stackEntry.record || (stackEntry.status !== 'pending' && stackEntry.status !== 'failed')) {
        this.injected.delete(name);
        return;
      }
      const t0 = Date.now();
      item.active.status = 'reverting';
      this.ctx.emit({
        type: 'revert-start',
        at: t0,
        name,
        action: stackEntry.action,
        description: stackEntry.description,
        by,
      });
      try {
        await this.ctx.faults.revert(stackEntry.record);
        this.ctx.stack.mark(stackEntry, 'reverted', Date.now());
        this.injected.delete(name);
        const now = Date.now();
        this.activities.push({
          name,
          kind: 'revert',
          action: stackEntry.action,
          startedAt: t0,
          endedAt: now,
          status: 'succeeded',
        });
        const w = [...this.windows].reverse().find((x) => x.name === name && x.end === null);
        if (w) {
          w.end = now;
          this.annotateWindow(name, stackEntry.action, stackEntry.description, w.start, now);
        }
        this.ctx.emit({
          type: 'revert-done',
          at: now,
          name,
          action: stackEntry.action,
          description: stackEntry.description,
          by,
        });
      } catch (err) {
        this.ctx.stack.mark(stackEntry, 'failed', Date.now(), errorMessage(err));
        item.active.status = 'revert-failed';
        item.active.error = errorMessage(err);
        this.activities.push({
          name,
          kind: 'revert',
          action: stackEntry.action,
          startedAt: t0,
          endedAt: Date.now(),
          status: 'failed',
          error: errorMessage(err),
        });
        const open = [...this.windows].reverse().find((x) => x.name === name && x.end === null);
        if (open)
          this.annotateWindow(
            name,
            stackEntry.action,
            `${stackEntry.description} — revert FAILED, still injected: ${errorMessage(err)}`,
            open.start,
            Date.now(),
          );
        this.ctx.emit({
          type: 'revert-failed',
          at: Date.now(),
          name,
          action: stackEntry.action,
          error: errorMessage(err),
        });
        throw err;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Reverts everything injected, most recent first; failures stay on the stack for `rollback`. */
  async revertAll(by: 'hand' | 'end' = 'hand'): Promise<string[]> {
    const failed: string[] = [];
    for (const name of [...this.injected.keys()].reverse()) {
      await this.revert(name, by).catch(() => failed.push(name));
    }
    return failed;
  }

  /** A note; a hypothesis may carry a measurable check (validated: throws ValidationError). */
  note(kind: JournalNote['kind'], text: string, check?: unknown): JournalNote {
    const parsed = kind === 'hypothesis' && check !== undefined ? parseHypothesisCheck(check) : undefined;
    const note: JournalNote = {
      at: Date.now(),
      kind,
      text: text.slice(0, 4000),
      faults: [...this.injected.keys()],
      ...(parsed ? { check: parsed } : {}),
    };
    this.notes.push(note);
    this.ctx.emit({ type: 'note', at: note.at, note });
    this.annotate({
      time: note.at,
      tags: ['owui-chaos', 'gameday', `run:${this.runId}`, 'note', kind],
      text: `${kind}: ${note.text}`,
    });
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
      active: [...this.injected.values()].map((i) => ({ ...i.active })),
      windows: this.windows.map((w) => ({ ...w })),
      notes: [...this.notes],
      progress: this.lastProgress,
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
    if (this.sloCache && now - this.sloCache.at < 1000) return this.sloCache.rows;
    const journal = this.journal(now);
    const windows = this.liveWindows(journal);
    this.sloEval.advance(windows, this.horizon(now));
    const rows = this.sloEval.judgeSlos(this.experiment.slos, windows, faultsPlanned(journal)).map((s) => ({
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
  hypotheses(): HypothesisResult[] {
    const now = Date.now();
    const journal = this.journal(now);
    const windows = this.liveWindows(journal);
    this.sloEval.advance(windows, this.horizon(now));
    return this.judgeHypotheses(windows, true);
  }

  private judgeHypotheses(
    windows: Array<ReturnType<typeof faultWindows>[number] & { open?: boolean }>,
    live: boolean,
  ): HypothesisResult[] {
    const fromNotes: Hypothesis[] = this.notes.flatMap((n, i) =>
      n.kind === 'hypothesis' && n.check ? [noteHypothesis(n, `note-${i + 1}`)] : [],
    );
    return judgeHypotheses(this.sloEval, [...(this.ctx.planHypotheses ?? []), ...fromNotes], windows, live);
  }

  /** Fault windows so far; those of faults still injected are open (ending now). */
  private liveWindows(journal: Journal): Array<ReturnType<typeof faultWindows>[number] & { open?: boolean }> {
    return faultWindows(journal).map((w) =>
      this.injected.has(w.name) && this.injected.get(w.name)?.active.status !== 'inject-failed'
        ? { ...w, open: true }
        : w,
    );
  }

  /** Samples before this are folded: older than the workers' batching lag and any injection being applied. */
  private horizon(now: number): number {
    return Math.min(now - LIVE_LAG_MS, ...this.applying);
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
    for (const t of this.planTimers) clearTimeout(t);
    this.stop.abort(new Error('session finished'));
    await this.loadDone;
    await this.queue;
    await this.revertAll('end');
    clearInterval(this.tick);
    this.live.advance(Date.now() + 10_000);
    this.ctx.sink.close();
    await this.ctx.drivers.close().catch(() => undefined);
    // Annotations of the last reverts (each bounded by its timeout) before the journal is written.
    await Promise.allSettled([...this.annotating]);
    const journal = this.journal();
    // Hypotheses from the same evaluator, everything folded, the final windows.
    const finalWindows = faultWindows(journal);
    this.sloEval.advance(finalWindows, Number.POSITIVE_INFINITY);
    this.sloEval.flush();
    journal.hypotheses = this.judgeHypotheses(finalWindows, false);
    writeFileSync(join(this.runDir, 'journal.json'), JSON.stringify(journal, null, 2));
    const results = await evaluateRun({
      sampleFiles: [this.ctx.samplesFile],
      journal,
      slos: this.experiment.slos,
      recoveryWindowMs: this.experiment.settings.recoveryWindow,
    });
    const reports = await writeReports(results, this.runDir);
    const stillInjected = this.ctx.stack.outstanding().map((e) => ({
      name: e.name,
      action: e.action,
      description: e.description,
      ...(e.error ? { error: e.error } : {}),
    }));
    this.finished = true;
    const exitCode = stillInjected.length > 0 ? 14 : this.loadError ? 12 : results.exitCode;
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
      notes: [...this.notes],
      hypotheses: journal.hypotheses ?? [],
    };
  }

  private annotateWindow(
    name: string,
    action: string,
    description: string,
    start: number,
    end: number,
  ): void {
    this.annotate({
      time: start,
      timeEnd: end,
      tags: ['owui-chaos', 'gameday', `run:${this.runId}`, `fault:${name}`, action],
      text: `fault ${name} (${action}): ${description}`,
    });
  }

  /** Fire and forget: a failure is a warning in the journal, never an error of the session. */
  private annotate(a: GrafanaAnnotation): void {
    const annotator = this.ctx.annotator;
    if (!annotator) return;
    const p: Promise<void> = annotator
      .post(a)
      .then((warning) => {
        if (!warning) return;
        if (this.warnings.length < 100) this.warnings.push(warning);
        this.ctx.emit({ type: 'warning', at: Date.now(), text: warning });
      })
      .catch(() => undefined)
      .finally(() => this.annotating.delete(p));
    this.annotating.add(p);
  }

  private failedInject(entry: TimelineEntry, t0: number, err: unknown): void {
    this.activities.push({
      name: entry.name,
      kind: 'inject',
      action: entry.action,
      startedAt: t0,
      endedAt: Date.now(),
      status: 'failed',
      error: errorMessage(err),
    });
    this.ctx.emit({
      type: 'inject-failed',
      at: Date.now(),
      name: entry.name,
      action: entry.action,
      error: errorMessage(err),
    });
  }

  /** The journal; `openUntil` (live SLOs) keeps the windows of faults still injected open until then. */
  private journal(openUntil?: number): Journal {
    const failed = this.activities.some((a) => a.status === 'failed');
    const open = (a: JournalActivity): JournalActivity =>
      openUntil !== undefined && a.kind === 'inject' && a.status === 'succeeded' && this.injected.has(a.name)
        ? { ...a, windowEndsAt: openUntil }
        : a;
    return {
      schemaVersion: 1,
      runId: this.runId,
      experiment: { title: `Game day: ${this.experiment.title}` },
      target: { name: this.target.name, url: this.target.openwebui.url },
      engine: this.ctx.engine.name,
      startedAt: this.startedAt,
      endedAt: Date.now(),
      status: failed ? 'failed' : 'completed',
      deviated: false,
      activities: this.activities.map(open).sort((a, b) => a.startedAt - b.startedAt),
      notes: [...this.notes],
      ...(this.warnings.length > 0 ? { warnings: [...this.warnings] } : {}),
    };
  }
}

/** How late a worker's batch of samples may arrive (they flush every second or so). */
const LIVE_LAG_MS = 5000;

export interface LiveSloRow {
  id: string;
  phase: string;
  objective: string;
  measured: number | null;
  samples: number;
  verdict: string;
}

const GENERIC_PHASES = new Set(['baseline', 'fault', 'recovery', 'all']);

function durationFlag(text: string): number {
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new UsageError(`--duration ${text} is not a duration; use e.g. 30m, 2h`, { code: 'BAD_DURATION' });
}

/** Resolves plan and target (starting the lab if it is the target and not up), preflights, starts load. */
export async function startGameday(req: GamedayRequest): Promise<GamedaySession> {
  const env = req.env ?? process.env;
  const notice = req.onNotice ?? (() => undefined);
  const emit = req.onEvent ?? (() => undefined);
  const labName = req.labName ?? 'default';
  const labStateDir = defaultLabStateDir(labName, env);
  const file = await resolveExperimentRef(req.plan ?? 'gameday', { builtinDir: experimentsDir() });
  const loaded = await loadExperiment(file, {
    env,
    defaultSlos: await loadSloDefaults(defaultSlosFile(), env),
    flags: {
      ...(req.target !== undefined ? { target: req.target } : {}),
      // A scripted plan's timeline must fit the session; hand sessions replace the duration below.
      ...(req.duration !== undefined && req.scripted ? { duration: req.duration } : {}),
    },
    resolveTarget: async (ref) => (ref.kind === 'file' ? loadTarget(ref.file, { env }) : undefined),
  });
  const experiment: Experiment = req.scripted
    ? loaded.experiment
    : {
        ...loaded.experiment,
        timeline: [],
        // Phases named after the plan's timeline do not exist in a hand session: keep the SLOs of
        // the phases every session has (hand faults are phases under their own names too).
        slos: loaded.experiment.slos.flatMap((slo) => {
          const phases = slo.phases.filter((p) => GENERIC_PHASES.has(p));
          return phases.length > 0 ? [{ ...slo, phases }] : [];
        }),
        load: {
          ...loaded.experiment.load,
          ...(req.duration !== undefined ? { duration: durationFlag(req.duration) } : {}),
        },
      };
  const isLab = loaded.targetRef.kind === 'lab';
  // The plan's own SLOs (not the defaults merged under them) are its hypotheses.
  const own = await loadExperiment(file, {
    env,
    flags: req.target !== undefined ? { target: req.target } : {},
    resolveTarget: () => Promise.resolve(undefined),
  });
  const planHypotheses: Hypothesis[] = own.experiment.slos.flatMap((slo, i) => {
    const phases = req.scripted ? slo.phases : slo.phases.filter((p) => GENERIC_PHASES.has(p));
    return phases.length > 0
      ? [
          {
            id: `plan-${i + 1}`,
            source: 'plan' as const,
            text: slo.description ?? describeCheck(slo),
            at: null,
            slos: [{ ...slo, phases }],
          },
        ]
      : [];
  });

  let startedLab = false;
  if (isLab) {
    const status = await labStatus(labStateDir, { nginxProbes: 0 }).catch(() => undefined);
    if (!status?.running || !status.healthy) {
      notice(`the lab \`${labName}\` is not up: starting it (owui-chaos lab up --name ${labName})`);
      await labUp({ name: labName, stateDir: labStateDir, onProgress: (s: string) => notice(`lab: ${s}`) });
      startedLab = true;
    }
  }
  const stopLab = async (): Promise<void> => {
    if (startedLab && !req.keepLab) {
      notice('stopping the lab this session started (keep it with --keep-lab)');
      await labDown(labStateDir).catch((err: unknown) => notice(`lab down failed: ${errorMessage(err)}`));
    }
  };
  let guard: RunGuard | undefined;
  try {
    const labTargetFile = isLab ? readLabState(labStateDir)?.targetFile : undefined;
    const { target } = await loadTarget(isLab ? LAB_TARGET : (loaded.targetRef as { file: string }).file, {
      env,
      ...(labTargetFile ? { labTargetFile } : {}),
    });
    if (!isLab && !req.yes) {
      throw new PreflightError(
        `A game day injects faults by hand into the non-lab target \`${target.name}\`; confirm with --yes`,
        {
          code: 'NOT_CONFIRMED',
          suggestions: ['owui-chaos gameday --target <file> --yes'],
        },
      );
    }
    await preflightReachable(target);
    const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-gameday`;
    const runDir = resolve(req.outDir ?? join(env.OWUI_CHAOS_HOME ?? '.owui-chaos', 'runs', runId));
    // The target's lease and the run index before anything touches the target, as for `run`
    // (docs/safety.md): a second gameday, run or capacity on the same target is refused.
    guard = await guardRun({
      runId,
      runDir,
      command: 'gameday',
      targetRef: isLab ? LAB_TARGET : (loaded.targetRef as { file: string }).file,
      target,
      ...(isLab ? { labStateDir } : {}),
      ...(!isLab ? { targetFile: (loaded.targetRef as { file: string }).file } : {}),
      env,
      ...(req.breakLease ? { breakLease: true } : {}),
      onNotice: notice,
    });
    const needUsers = Math.max(
      experiment.load.sockets?.vus ?? 0,
      experiment.load.chat?.model === 'closed' ? experiment.load.chat.vus : 1,
      1,
    );
    const agent = createAgent(8);
    let credentials;
    try {
      credentials = await provisionCredentials(
        agent,
        target.openwebui.url,
        authSourceFromTarget(target.auth, needUsers),
      );
    } finally {
      await agent.close();
    }
    notice(
      `preflight: ${target.openwebui.url} answers (Open WebUI ${credentials.version}); ${credentials.users.length} user(s) signed in once`,
    );

    mkdirSync(runDir, { recursive: true });
    copyFileSync(file, join(runDir, 'experiment.yaml'));
    const samplesFile = join(runDir, 'samples.ndjson');
    const stack = RevertStack.create(join(runDir, 'reverts.json'), runId);
    writeFileSync(
      join(runDir, 'run.json'),
      JSON.stringify(
        {
          runId,
          kind: 'gameday',
          target: isLab ? LAB_TARGET : (loaded.targetRef as { file: string }).file,
          labStateDir: isLab ? labStateDir : undefined,
          targetFile: labTargetFile ?? (isLab ? undefined : (loaded.targetRef as { file: string }).file),
          pid: process.pid,
        },
        null,
        2,
      ),
    );
    // The sink exists before the session that observes it.
    const ref: { session?: GamedaySession } = {};
    const sink = new TappedNdjsonFileSink(samplesFile, [
      (s) => {
        ref.session?.live.observe(s);
        ref.session?.sloEval.add(s);
      },
      ...(req.observers ?? []),
    ]);
    const drivers = driversForTarget(target, isLab ? { labStateDir } : {});
    // Fault names carry the run's tag, as for `run` (docs/safety.md).
    const faults = new DriverFaultInjector(drivers, { runId });
    const engine = engineFor(experiment, target, credentials, {
      workers: req.workers,
      k6Binary: undefined,
      runDir,
    });
    const session = new GamedaySession(runId, runDir, target, experiment, {
      engine,
      sink,
      samplesFile,
      stack,
      drivers,
      faults,
      emit,
      onFinished: async () => {
        const g = guard;
        guard = undefined;
        await g?.end();
        await stopLab();
      },
      planHypotheses,
      ...(req.annotator ? { annotator: req.annotator } : {}),
    });
    ref.session = session;
    session.startLoad();
    if (req.scripted) session.schedulePlan();
    emit({ type: 'session-started', at: session.startedAt, runDir, endsAt: session.endsAt });
    return session;
  } catch (err) {
    await guard?.end();
    await stopLab();
    throw err;
  }
}

/** Facts the console shows next to each form. */
export { FAULT_FACTS, describeFault };
