// A Clock whose time moves only when the test says so; sleeps resolve in time order.
import type { Clock } from '../../../../src/core/clock.js';

interface Sleeper {
  at: number;
  resolve: () => void;
}

export class ManualClock implements Clock {
  private t: number;
  private sleepers: Sleeper[] = [];

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const s: Sleeper = {
        at: this.t + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((x) => x !== s);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.push(s);
    });
  }

  /** Moves time forward by `ms`, waking sleepers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      await settle();
      const due = this.sleepers.filter((s) => s.at <= end);
      if (due.length === 0) break;
      const next = Math.min(...due.map((s) => s.at));
      this.t = Math.max(this.t, next);
      const wake = this.sleepers.filter((s) => s.at <= this.t);
      this.sleepers = this.sleepers.filter((s) => s.at > this.t);
      for (const s of wake) s.resolve();
    }
    this.t = end;
    await settle();
  }

  /** Jumps time without waking anyone (a stalled event loop). */
  jump(ms: number): void {
    this.t += ms;
  }
}

/** Lets every pending promise continuation run (a macrotask turn, not a sleep). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
