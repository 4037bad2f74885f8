// `--scale-cmd` for `owui-chaos capacity` on a real target (docs/capacity.md "Replica counts"):
// run the operator's command with `{n}` filled in, then wait until the load balancer's /health
// answers. The inverse — the same command with the count the deployment had before — is what the
// revert stack holds (a `scale/command` record), persisted BEFORE the first scale, so Ctrl-C, a
// failure or (once `owui-chaos rollback` knows the record) a crash restores the replica count.
//
// The record carries the command itself: a run directory is as trusted as the target file it was
// made from (both say which shell command scales the deployment).

import { exec } from 'node:child_process';
import { promisify } from 'node:util';
import { PreflightError } from '../core/errors.js';
import type { RevertRecord } from '../core/ports.js';

const run = promisify(exec);

export interface ScaleCommand {
  /** The command with `{n}` in it. */
  template: string;
  /** The load balancer's base URL (its /health is polled afterwards). */
  url: string;
  healthBudgetMs?: number;
  commandTimeoutMs?: number;
}

export function scaleCommandFor(template: string, n: number): string {
  return template.replaceAll('{n}', String(n));
}

/** Runs the scale command for `n` replicas, then waits for /health. */
export async function runScaleCommand(
  s: ScaleCommand,
  n: number,
  notice: (t: string) => void = () => undefined,
): Promise<void> {
  const cmd = scaleCommandFor(s.template, n);
  notice(`scale to ${n}: ${cmd}`);
  await run(cmd, { timeout: s.commandTimeoutMs ?? 300_000 }).catch((err: unknown) => {
    throw new PreflightError(`The scale command failed: ${cmd}`, {
      code: 'CAPACITY_SCALE_FAILED',
      cause: err,
    });
  });
  const budget = s.healthBudgetMs ?? 120_000;
  const deadline = Date.now() + budget;
  for (;;) {
    const ok = await fetch(`${s.url.replace(/\/$/, '')}/health`, { signal: AbortSignal.timeout(3000) })
      .then(async (r) => {
        await r.arrayBuffer();
        return r.ok;
      })
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline)
      throw new PreflightError(
        `${s.url}/health did not answer within ${Math.round(budget / 1000)} s after \`${cmd}\``,
        { code: 'CAPACITY_SCALE_FAILED' },
      );
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * The persisted inverse of scaling: the same command with the original count. Its driver `scale`
 * is not (yet) in the revert-record catalogue of src/drivers/revert-records.ts, so today only the
 * capacity process itself replays it (`revertScaleRecord`); `owui-chaos rollback` reports it as
 * a record it cannot undo, with the command in the entry's description.
 */
export function scaleBackRecord(s: ScaleCommand, replicas: number): RevertRecord {
  return {
    driver: 'scale' as unknown as RevertRecord['driver'],
    op: 'command',
    args: {
      command: scaleCommandFor(s.template, replicas),
      template: s.template,
      replicas,
      url: s.url,
      healthBudgetMs: s.healthBudgetMs ?? 120_000,
    },
  };
}

export function isScaleRecord(record: RevertRecord | null | undefined): boolean {
  return (record?.driver as string | undefined) === 'scale' && record?.op === 'command';
}

export async function revertScaleRecord(
  record: RevertRecord,
  notice: (t: string) => void = () => undefined,
): Promise<void> {
  const a = record.args;
  if (typeof a.template !== 'string' || typeof a.replicas !== 'number' || typeof a.url !== 'string')
    throw new Error('invalid scale/command revert record (needs template, replicas, url)');
  await runScaleCommand(
    {
      template: a.template,
      url: a.url,
      ...(typeof a.healthBudgetMs === 'number' ? { healthBudgetMs: a.healthBudgetMs } : {}),
    },
    a.replicas,
    notice,
  );
}
