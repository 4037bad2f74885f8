// The lab's health probes: plain HTTP checks every part uses for `up` (wait until healthy, fail
// early when the part's process died, with its log tail) and for `status` (one probe, never a
// change).

import { PreflightError, errorMessage } from '../../core/errors.js';
import { isAlive, sleep, tailFile } from '../../infra/process/daemon.js';
import { answeredByInstance } from '../owui-sim/config.js';

/** What `waitHealthy` watches besides the check: the part's pid and/or a "gone" probe (containers). */
export interface WatchedProcess {
  pid?: number;
  logFile: string;
  gone?: () => Promise<string | undefined>;
}

/** Polls `check` until true; fails early when the part's process died; error carries the log tail. */
export async function waitHealthy(
  part: string,
  proc: WatchedProcess,
  budgetMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + budgetMs;
  let reason = 'not healthy yet';
  while (Date.now() < deadline) {
    if (proc.pid !== undefined && !isAlive(proc.pid)) {
      reason = `process ${proc.pid} exited`;
      break;
    }
    const gone = await proc.gone?.().catch(() => undefined);
    if (gone !== undefined) {
      reason = gone;
      break;
    }
    try {
      if (await check()) return;
    } catch (err) {
      reason = errorMessage(err);
    }
    await sleep(100);
  }
  throw new PreflightError(
    `The lab's ${part} did not become healthy within ${Math.round(budgetMs / 1000)} s (${reason})`,
    {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`cat ${proc.logFile}`],
      cause: new Error(`last log lines of ${part}:\n${tailFile(proc.logFile, 20) || '(log is empty)'}`),
    },
  );
}

export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

/** `{"status": true}` with 200; with `instance`, only from the simulator instance the lab started. */
export async function jsonStatusOk(url: string, instance?: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const text = await res.text();
  if (!res.ok) return false;
  if (!answeredByInstance(res.headers, instance))
    throw new Error(`${url} answered, but not from this replica (port taken?)`);
  try {
    return (JSON.parse(text) as { status?: unknown }).status === true;
  } catch {
    return false;
  }
}

/** One status probe: a throw becomes an unhealthy detail. */
export async function probe(fn: () => Promise<boolean>): Promise<{ ok: boolean; detail: string }> {
  try {
    const ok = await fn();
    return { ok, detail: ok ? 'ok' : 'unhealthy' };
  } catch (err) {
    return { ok: false, detail: errorMessage(err) };
  }
}
