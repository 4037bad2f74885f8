// The runner's FaultInjector over a target's ports: `prepare` hands the typed timeline entry to
// its kind's preparer (src/core/faults/), which resolves the concrete target (which replica, which
// master) and returns the persisted inverse BEFORE anything is touched; `revert` replays a record,
// also in a new process (`owui-chaos rollback`), so the normal path and the crash path run the
// same code.

import { prepareFault, type TimelineEntry } from '../core/faults/registry.js';
import { replayRevert, type RevertRecord } from '../core/faults/revert-record.js';
import type { FaultInjector, PreparedFault } from '../core/runner/runner.js';
import type { TargetDrivers } from './drivers.js';
import { runTag } from './safety/run-guard.js';

export { toxicFor, toxicOwnerTag } from '../core/faults/toxic.js';

export interface FaultInjectorOptions {
  /** Budget for a restarted replica (or Redis node) to answer again during a revert. Default 30 s. */
  replicaHealthBudgetMs?: number;
  /** Picks the replica for `replica: random` (injectable for tests). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The run that owns what this injector injects: its tag goes into toxic names and the nginx
   * marker, and a fault of another run in the way fails the injection before anything is touched.
   */
  runId?: string;
}

export class DriverFaultInjector implements FaultInjector {
  private readonly ctx: Parameters<typeof prepareFault>[1];

  constructor(
    private readonly drivers: TargetDrivers,
    opts: FaultInjectorOptions = {},
  ) {
    this.ctx = {
      ports: drivers,
      healthBudgetMs: opts.replicaHealthBudgetMs ?? 30_000,
      random: opts.random ?? Math.random,
      sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      ...(opts.runId === undefined ? {} : { runId: opts.runId, runTag: runTag(opts.runId) }),
    };
  }

  prepare(entry: TimelineEntry): Promise<PreparedFault> {
    return prepareFault(entry, this.ctx);
  }

  async revert(record: RevertRecord): Promise<void> {
    await replayRevert(record, this.drivers.forReverts());
  }
}
