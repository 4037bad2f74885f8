// How lab parts wait for health during `up`: the shared probes of src/infra/http-probe.ts, polled
// until healthy; a part whose process died fails early, and the error carries its log tail.
// `status` calls the same probes once and never changes anything.

import { PreflightError } from '../../core/errors.js';
import { pollHealthy, type HealthProbe, type ProbeWatch } from '../../infra/http-probe.js';
import { tailFile } from '../../infra/process/daemon.js';

/** What `waitHealthy` watches besides the check: the part's pid and/or a "gone" probe (containers). */
export interface WatchedProcess extends ProbeWatch {
  logFile: string;
}

/** Polls `check` until it passes; fails early when the part's process died; error carries the log tail. */
export async function waitHealthy(
  part: string,
  proc: WatchedProcess,
  budgetMs: number,
  check: (timeoutMs: number) => Promise<HealthProbe>,
): Promise<void> {
  const last = await pollHealthy(check, budgetMs, { intervalMs: 100, watch: proc });
  if (last.ok) return;
  throw new PreflightError(
    `The lab's ${part} did not become healthy within ${Math.round(budgetMs / 1000)} s (${last.reason})`,
    {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`cat ${proc.logFile}`],
      cause: new Error(`last log lines of ${part}:\n${tailFile(proc.logFile, 20) || '(log is empty)'}`),
    },
  );
}
