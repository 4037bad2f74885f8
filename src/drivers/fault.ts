// Faults as the runner needs them: resolved to concrete targets and with their inverse known
// BEFORE they are applied (the runner persists `record` to the revert stack, then calls
// `apply()`), and handles whose `revert()` is idempotent and concurrency-safe.

import type { FaultHandle, RevertRecord } from '../core/ports.js';

/** Structurally a core `PreparedFault` (runner) whose `apply()` yields the handle. */
export interface PreparedDriverFault<H extends FaultHandle = FaultHandle> {
  description: string;
  record: RevertRecord;
  apply(): Promise<H>;
}

/**
 * A handle whose revert runs `undo` at most once successfully: concurrent calls share one attempt,
 * a failed attempt can be retried, later calls after success are no-ops.
 */
export function faultHandle(
  description: string,
  revertRecord: RevertRecord,
  undo: () => Promise<void>,
): FaultHandle {
  let done = false;
  let inFlight: Promise<void> | undefined;
  return {
    description,
    revertRecord,
    revert(): Promise<void> {
      if (done) return Promise.resolve();
      inFlight ??= undo().then(
        () => {
          done = true;
          inFlight = undefined;
        },
        (err: unknown) => {
          inFlight = undefined;
          throw err;
        },
      );
      return inFlight;
    },
  };
}
