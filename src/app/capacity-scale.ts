// `--scale-cmd` for `owui-chaos capacity` on a real target (docs/capacity.md "Replica counts"):
// run the operator's command with `{n}` filled in, then wait until the load balancer's /health
// answers. The inverse — the same command with the count the deployment had before — is what the
// revert stack holds (a `scale/command` record), persisted BEFORE the first scale, so Ctrl-C, a
// failure or (once `owui-chaos rollback` knows the record) a crash restores the replica count.
//
// The record carries the command itself: a run directory is as trusted as the target file it was
// made from (both say which shell command scales the deployment).
//
// On the lab, `scaleForSweep` scales live (src/lab/lab-scale.ts: replicas started or stopped, nginx's
// upstream list rewritten and reloaded), its way back (the nginx config, the replicas to restart)
// recorded first in the same way.

import { exec } from 'node:child_process';
import { promisify } from 'node:util';
import { formatDuration } from '../core/clock.js';
import { PreflightError } from '../core/errors.js';
import { replayRevert, type RevertDrivers, type RevertRecord } from '../core/faults/revert-record.js';
import type { TargetDrivers } from './drivers.js';
import type { RevertStack } from '../core/runner/revert-stack.js';
import {
  compositeRevertRecord,
  describeRevert,
  replicaStartRecord,
  restoreConfigRecord,
} from '../drivers/revert-records.js';
import { readLabState } from '../infra/lab-state.js';
import { scaleLab } from '../lab/lab-scale.js';

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
 * The persisted inverse of scaling: the same command with the original count (a `scale/command`
 * record in src/core/faults/revert-record.ts). The capacity process replays it itself; `owui-chaos
 * rollback` replays it through the same `scaler` port (`scaleCommandScaler`).
 */
export function scaleBackRecord(s: ScaleCommand, replicas: number): RevertRecord {
  return {
    driver: 'scale',
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
  return record?.driver === 'scale' && record.op === 'command';
}

/** The revert port that runs scale commands (for replayRevert). */
export function scaleCommandScaler(
  notice: (t: string) => void = () => undefined,
): NonNullable<RevertDrivers['scaler']> {
  return {
    scale: ({ template, replicas, url, healthBudgetMs }) =>
      runScaleCommand(
        { template, url, ...(healthBudgetMs === undefined ? {} : { healthBudgetMs }) },
        replicas,
        notice,
      ),
  };
}

export async function revertScaleRecord(
  record: RevertRecord,
  notice: (t: string) => void = () => undefined,
): Promise<void> {
  await replayRevert(record, { scaler: scaleCommandScaler(notice) });
}

export interface SweepScaling {
  /** The lab's state directory: scale the lab live. */
  labStateDir?: string;
  /** A real target with `--scale-cmd`: the command, and the count to restore at the end. */
  scale?: { cmd: ScaleCommand; back: number };
  drivers: Pick<TargetDrivers, 'nginx'>;
  stack: RevertStack;
  notice: (text: string) => void;
}

/**
 * Brings the target to `n` replicas before a sweep, its way back on the revert stack first. A real
 * target without `--scale-cmd` is measured as it is.
 */
export async function scaleForSweep(s: SweepScaling, n: number): Promise<void> {
  const { stack, notice } = s;
  if (s.labStateDir !== undefined) {
    const state = readLabState(s.labStateDir)!;
    const running = state.replicas.filter((r) => r.pid !== undefined).slice(n);
    const nginxConfig = await s.drivers.nginx().readConfig();
    const records: RevertRecord[] = [
      restoreConfigRecord(state.nginx!.configFile, nginxConfig),
      ...running.map((r) => replicaStartRecord(r.name, 30_000)),
    ];
    const record = records.length === 1 ? records[0]! : compositeRevertRecord(records);
    stack.record(
      { name: `scale-${n}`, action: 'lab.scale', description: describeRevert(record), record },
      Date.now(),
    );
    const result = await scaleLab(s.labStateDir, n, { onProgress: (m) => notice(`scale to ${n}: ${m}`) });
    notice(
      `scaled the lab to ${n} replica(s) (${result.serving.join(', ')}) in ${formatDuration(result.durationMs)}`,
    );
    return;
  }
  const scale = s.scale;
  if (!scale) return;
  // The way back first (persisted), once: the count the deployment had before the first scale.
  if (!stack.entries.some((e) => isScaleRecord(e.record))) {
    stack.record(
      {
        name: `scale-back-${scale.back}`,
        action: 'scale.command',
        description: `scale back to ${scale.back} replicas: ${scaleCommandFor(scale.cmd.template, scale.back)}`,
        record: scaleBackRecord(scale.cmd, scale.back),
      },
      Date.now(),
    );
  }
  await runScaleCommand(scale.cmd, n, notice);
}
