// Fault control of a game-day session (docs/gameday.md): hand faults (and a scripted plan's
// timeline) injected through the same fault injector and persisted revert stack as `run`. Every
// inverse is in `reverts.json` before its fault is applied; injects and reverts are serialised
// (the drivers are not meant for concurrent changes); a `for` reverts by timer. Journal
// activities, fault windows and annotations are written as each step ends.

import { PreflightError, errorMessage } from '../core/errors.js';
import type { TimelineEntry } from '../core/config/faults.js';
import type { Target } from '../core/config/target.js';
import { checkHandFault, type HandFaultInput } from '../core/gameday/hand-fault.js';
import type { RevertEntry, RevertStack } from '../core/runner/revert-stack.js';
import { runnerEntry } from '../core/runner/runner.js';
import { TrafficWatch, type UntouchedFault } from '../core/faults/traffic-watch.js';
import type { SessionAnnotations } from './gameday-annotate.js';
import type { SessionRecord } from './gameday-record.js';
import type { ActiveFault, Emit, FaultWindowLive } from './gameday-types.js';
import type { DriverFaultInjector } from './fault-injector.js';

interface Injected {
  entry: TimelineEntry;
  stackEntry: RevertEntry;
  timer?: NodeJS.Timeout;
  active: ActiveFault;
}

export class FaultControl {
  private readonly injected = new Map<string, Injected>();
  private readonly windowList: FaultWindowLive[] = [];
  private readonly usedNames = new Set<string>();
  /** Start times of injections still being applied: samples after them wait (their window is not known yet). */
  private readonly applying = new Set<number>();
  private planTimers: NodeJS.Timeout[] = [];
  /** Serialises injects and reverts. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Whether traffic reached each injected toxic (as in `run`; a game day with one untouched exits 11). */
  private readonly traffic: TrafficWatch<RevertEntry>;

  constructor(
    private readonly ctx: {
      target: Target;
      faults: DriverFaultInjector;
      stack: RevertStack;
      record: SessionRecord;
      annotations: SessionAnnotations;
      emit: Emit;
      /** True once the session is ending: nothing more is injected. */
      ending: () => boolean;
    },
  ) {
    this.traffic = new TrafficWatch<RevertEntry>({
      now: () => Date.now(),
      notCounted: (_name, message) => {
        ctx.record.warn(message);
        ctx.emit({ type: 'warning', at: Date.now(), text: message });
      },
      activity: (a) => ctx.record.activity(a),
    });
  }

  /** Faults no traffic reached while they were injected (checked at each revert). */
  untouched(): UntouchedFault[] {
    return [...this.traffic.untouched];
  }

  /** Names of the faults injected now (in injection order). */
  names(): string[] {
    return [...this.injected.keys()];
  }

  isInjected(name: string): boolean {
    return this.injected.has(name);
  }

  /** Injected and its injection did not fail (its window is open). */
  isOpen(name: string): boolean {
    const item = this.injected.get(name);
    return item !== undefined && item.active.status !== 'inject-failed';
  }

  active(): ActiveFault[] {
    return [...this.injected.values()].map((i) => ({ ...i.active }));
  }

  windows(): FaultWindowLive[] {
    return this.windowList.map((w) => ({ ...w }));
  }

  /** The earliest start of an injection still being applied (Infinity when none). */
  earliestApplying(): number {
    return Math.min(Number.POSITIVE_INFINITY, ...this.applying);
  }

  /** Schedules a plan's timeline relative to `startedAt` (a scripted game day). */
  schedulePlan(timeline: readonly TimelineEntry[], startedAt: number): void {
    for (const entry of timeline) {
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
          Math.max(0, startedAt + entry.at - Date.now()),
        ),
      );
    }
  }

  cancelPlan(): void {
    for (const t of this.planTimers) clearTimeout(t);
    this.planTimers = [];
  }

  /** Resolves when every inject and revert queued so far has settled. */
  drained(): Promise<unknown> {
    return this.queue;
  }

  /** Validates (schema + safety), persists the inverse, applies. Throws ValidationError when refused. */
  async inject(input: HandFaultInput, by: 'hand' | 'plan' = 'hand'): Promise<ActiveFault> {
    if (this.ctx.ending())
      throw new PreflightError('The session is ending; nothing more is injected', { code: 'SESSION_ENDING' });
    const run = async (): Promise<ActiveFault> => {
      const entry = checkHandFault(input, {
        target: this.ctx.target,
        active: [...this.injected.values()].map((i) => i.entry),
        usedNames: this.usedNames,
      });
      this.usedNames.add(entry.name);
      // How long it lasts is the kind's window (a master kill's `restartAfter` too), as in `run`.
      const { forMs } = runnerEntry(entry, 0);
      const t0 = Date.now();
      this.applying.add(t0);
      try {
        return await this.apply(entry, forMs, t0, by);
      } finally {
        this.applying.delete(t0);
      }
    };
    return this.serialised(run);
  }

  private async apply(
    entry: TimelineEntry,
    forMs: number | undefined,
    t0: number,
    by: 'hand' | 'plan',
  ): Promise<ActiveFault> {
    const { emit, record } = this.ctx;
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
    emit({
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
    if (prepared.traffic && prepared.record)
      await this.traffic.start(stackEntry, stackEntry, prepared.traffic.bind(prepared));
    const now = Date.now();
    active.status = 'injected';
    const window: FaultWindowLive = { name: entry.name, action: entry.action, start: t0, end: null };
    this.windowList.push(window);
    record.activity({
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
      this.ctx.annotations.window(entry.name, entry.action, prepared.description, t0, window.end);
    }
    emit({
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
      const { emit, record, annotations } = this.ctx;
      const t0 = Date.now();
      item.active.status = 'reverting';
      emit({
        type: 'revert-start',
        at: t0,
        name,
        action: stackEntry.action,
        description: stackEntry.description,
        by,
      });
      const untouched = await this.traffic.finish(stackEntry);
      if (untouched)
        emit({
          type: 'warning',
          at: Date.now(),
          text: `${name} touched no traffic in the ${Math.round(untouched.injectedMs / 1000)} s it was injected: it tested nothing (the session will exit 11)`,
        });
      try {
        await this.ctx.faults.revert(stackEntry.record);
        this.ctx.stack.mark(stackEntry, 'reverted', Date.now());
        this.injected.delete(name);
        const now = Date.now();
        record.activity({
          name,
          kind: 'revert',
          action: stackEntry.action,
          startedAt: t0,
          endedAt: now,
          status: 'succeeded',
        });
        const w = this.openWindow(name);
        if (w) {
          w.end = now;
          annotations.window(name, stackEntry.action, stackEntry.description, w.start, now);
        }
        emit({
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
        record.activity({
          name,
          kind: 'revert',
          action: stackEntry.action,
          startedAt: t0,
          endedAt: Date.now(),
          status: 'failed',
          error: errorMessage(err),
        });
        const open = this.openWindow(name);
        if (open)
          annotations.window(
            name,
            stackEntry.action,
            `${stackEntry.description} — revert FAILED, still injected: ${errorMessage(err)}`,
            open.start,
            Date.now(),
          );
        emit({
          type: 'revert-failed',
          at: Date.now(),
          name,
          action: stackEntry.action,
          error: errorMessage(err),
        });
        throw err;
      }
    };
    return this.serialised(run);
  }

  /** Reverts everything injected, most recent first; failures stay on the stack for `rollback`. */
  async revertAll(by: 'hand' | 'end' = 'hand'): Promise<string[]> {
    const failed: string[] = [];
    for (const name of [...this.injected.keys()].reverse()) {
      await this.revert(name, by).catch(() => failed.push(name));
    }
    return failed;
  }

  private openWindow(name: string): FaultWindowLive | undefined {
    return [...this.windowList].reverse().find((x) => x.name === name && x.end === null);
  }

  private serialised<T>(run: () => Promise<T>): Promise<T> {
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private failedInject(entry: TimelineEntry, t0: number, err: unknown): void {
    this.ctx.record.activity({
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
}
