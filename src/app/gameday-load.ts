// The steady load of a game-day session (docs/gameday.md): the plan's load, run by the engine for
// at most the session's length, its progress emitted as events, and its activity in the journal
// when it ends. The session finishes when the load ends (or is stopped).

import type { Target } from '../core/config/target.js';
import type { Experiment } from '../core/config/experiment.js';
import { toLoadPlan } from '../core/config/plan.js';
import { errorMessage } from '../core/errors.js';
import type { LoadEngine, LoadProgress } from '../core/ports.js';
import type { SampleSink } from '../core/samples.js';
import type { SessionRecord } from './gameday-record.js';
import type { Emit } from './gameday-types.js';

export class SessionLoad {
  lastProgress: LoadProgress | undefined;
  /** Set when the engine failed. */
  error: unknown;
  private readonly stopper = new AbortController();
  private done: Promise<void> = Promise.resolve();

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

  /** Stops the load; resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopper.abort(new Error('session finished'));
    await this.done;
  }
}
