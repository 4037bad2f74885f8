// A discrete-event clock for tests: `sleep` registers a timer; `runAll` repeatedly lets pending
// promise work settle, then jumps to the earliest timer. Tests advance time instead of sleeping.

import type { Clock } from '../../src/core/clock.js';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = {
        at: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve,
        reject,
        cancelled: false,
      };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          timer.cancelled = true;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Lets queued promise callbacks (and I/O callbacks) run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Runs timers in time order until none are left (bounded, so a bug can't hang a test). */
  async runAll(maxSteps = 10_000): Promise<void> {
    for (let step = 0; step < maxSteps; step++) {
      await this.settle();
      this.timers = this.timers.filter((t) => !t.cancelled);
      if (this.timers.length === 0) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.current = Math.max(this.current, next.at);
      next.resolve();
    }
    throw new Error(`FakeClock.runAll: still busy after ${maxSteps} steps`);
  }

  /** Advances to `now + ms`, firing timers due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await this.settle();
      this.timers = this.timers.filter((t) => !t.cancelled);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = next.at;
      next.resolve();
    }
    this.current = target;
    await this.settle();
  }
}
