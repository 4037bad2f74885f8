// The steady load of a game-day session (docs/gameday.md): the plan's load, run by the engine for
// at most the session's length, its progress emitted as events, and its activity in the journal
// when it ends. The session finishes when the load ends (or is stopped). The load can be changed
// live (docs/gameday.md "Changing the load live"): the engine takes the change without
// restarting (browser sockets stay connected); each change is a journal record and an event.

import type { Target } from '../core/config/target.js';
import type { Experiment } from '../core/config/experiment.js';
import { toLoadPlan } from '../core/config/plan.js';
import { errorMessage, PreflightError, UsageError } from '../core/errors.js';
import { parseLiveLoad, type LoadLevels } from '../core/gameday/live-load.js';
import type { JournalLoadChange } from '../core/journal.js';
import type { LiveLoad, LoadEngine, LoadPlan, LoadProgress } from '../core/ports.js';
import type { SampleSink } from '../core/samples.js';
import type { SessionRecord } from './gameday-record.js';
import type { Emit } from './gameday-types.js';

export class SessionLoad {
  lastProgress: LoadProgress | undefined;
  /** Set when the engine failed. */
  error: unknown;
  private readonly stopper = new AbortController();
  private done: Promise<void> = Promise.resolve();
  private running = false;
  private levels: LoadLevels = {};

  constructor(
    private readonly ctx: {
      engine: LoadEngine;
      sink: SampleSink;
      experiment: Experiment;
      target: Target;
      record: SessionRecord;
      emit: Emit;
      /** Names of the faults injected now (shown with each progress event). */
      injected: () => string[];
      /** Called once the load has ended, whatever the reason. */
      onEnded: () => void;
    },
  ) {}

  /** Starts the load (bounded by the plan's duration). */
  start(): void {
    const { engine, emit, record } = this.ctx;
    const plan = toLoadPlan(this.ctx.experiment.load, this.ctx.target);
    this.levels = levelsOf(plan);
    this.running = true;
    const loadStart = Date.now();
    this.done = engine
      .run(plan, this.ctx.sink, {
        signal: this.stopper.signal,
        onProgress: (p) => {
          this.lastProgress = p;
          emit({ type: 'progress', at: Date.now(), progress: p, injected: this.ctx.injected() });
        },
      })
      .catch((err: unknown) => {
        this.error = err;
      })
      .finally(() => {
        this.running = false;
        record.activity({
          name: 'load',
          kind: 'load',
          startedAt: loadStart,
          endedAt: Date.now(),
          status: this.error ? 'failed' : 'succeeded',
          ...(this.error ? { error: errorMessage(this.error) } : {}),
          output: { engine: engine.name, durationMs: plan.durationMs },
        });
        emit({
          type: 'load-finished',
          at: Date.now(),
          ...(this.error ? { error: errorMessage(this.error) } : {}),
        });
        this.ctx.onEnded();
      });
  }

  /** The load now (the plan's, with every live change applied). */
  current(): LoadLevels {
    return { ...this.levels };
  }

  /**
   * Changes the load live. Throws ValidationError for a bad value (the field is named), UsageError
   * for a change the engine or the plan cannot take (k6; a rate for a closed-model plan), and
   * PreflightError once the load has ended.
   */
  change(input: unknown, by: JournalLoadChange['by']): JournalLoadChange {
    const change = parseLiveLoad(input);
    const engine = this.ctx.engine;
    if (!engine.setLoad)
      throw new UsageError(
        `the ${engine.name} engine cannot change the load of a running session; the load stays as the plan says`,
        {
          code: 'LIVE_LOAD_UNSUPPORTED',
          suggestions: [
            'Run the game day with the Node engine (the plan’s `load.engine: node`) to change the load live.',
          ],
        },
      );
    if (!this.running)
      throw new PreflightError('The load is not running (it has ended or not begun); nothing to change', {
        code: 'LOAD_NOT_RUNNING',
      });
    const before = this.current();
    engine.setLoad(change);
    this.levels = { ...before, ...change };
    const entry: JournalLoadChange = { at: Date.now(), by, before, after: this.current() };
    this.ctx.record.loadChanges.push(entry);
    this.ctx.emit({ type: 'load-changed', ...entry });
    return entry;
  }

  /** Stops the load; resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopper.abort(new Error('session finished'));
    await this.done;
  }
}

/** The levels a plan runs at, in the terms of a live change. */
function levelsOf(plan: LoadPlan): LiveLoad {
  return {
    ...(plan.chat?.vus !== undefined && plan.chat.ratePerSecond === undefined
      ? { chatVus: plan.chat.vus }
      : {}),
    ...(plan.chat?.ratePerSecond !== undefined ? { chatRate: plan.chat.ratePerSecond } : {}),
    ...(plan.sockets && plan.sockets.vus > 0 ? { socketVus: plan.sockets.vus } : {}),
  };
}
