// Driver logging and error wrapping. Every driver action logs "doing X", then "did X" or
// "failed X" through an injected callback (drivers never print), and a failure is rethrown as a
// FaultError whose message says what failed, on what and the limit passed, with the cause kept.

import { type Clock, systemClock } from '../core/clock.js';
import { FaultError, errorMessage } from '../core/errors.js';

export type DriverLogPhase = 'doing' | 'did' | 'failed';

export interface DriverLogEntry {
  /** Which adapter: `docker`, `process`, `sentinel`, `toxiproxy`, `nginx`. */
  driver: string;
  phase: DriverLogPhase;
  /** What is being done, on what: "pause replica owui-1". */
  action: string;
  /** One line: "doing pause replica owui-1", "did … (12 ms)", "failed …: <reason>". */
  message: string;
  elapsedMs?: number;
  error?: unknown;
}

export type DriverLogger = (entry: DriverLogEntry) => void;

export const silentLogger: DriverLogger = () => undefined;

export interface StepFailure {
  /** Message of the FaultError; defaults to "Could not <action>". */
  message?: string;
  code: string;
  suggestions?: string[];
}

/**
 * Runs one driver action with doing/did/failed logging. Errors that are already FaultErrors keep
 * their message (they were worded by a nested step); anything else is wrapped, cause attached.
 */
export async function step<T>(
  log: DriverLogger,
  driver: string,
  action: string,
  fn: () => Promise<T>,
  failure: StepFailure | ((err: unknown) => StepFailure),
  clock: Clock = systemClock,
): Promise<T> {
  const started = clock.now();
  log({ driver, phase: 'doing', action, message: `doing ${action}` });
  try {
    const value = await fn();
    const elapsedMs = clock.now() - started;
    log({ driver, phase: 'did', action, message: `did ${action} (${Math.round(elapsedMs)} ms)`, elapsedMs });
    return value;
  } catch (err) {
    const elapsedMs = clock.now() - started;
    log({
      driver,
      phase: 'failed',
      action,
      message: `failed ${action}: ${errorMessage(err)}`,
      elapsedMs,
      error: err,
    });
    if (err instanceof FaultError) throw err;
    const f = typeof failure === 'function' ? failure(err) : failure;
    throw new FaultError(`${f.message ?? `Could not ${action}`}: ${errorMessage(err)}`, {
      code: f.code,
      suggestions: f.suggestions ?? [],
      cause: err,
    });
  }
}

/** "30 s", "500 ms": budgets as people write them in error messages. */
export function formatBudget(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
