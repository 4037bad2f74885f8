// What `run` (and later `gameday`, `capacity`) does around its faults for safety, in one call:
// take the target's lease, refuse when another run left faults injected on the same target, and
// register in the run index; at the end mark the entry ended and release the lease.
// src/app/run-experiment.ts calls `guardRun` once before its first fault and `end()` in a finally.

import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Target } from '../../core/config/target.js';
import { PreflightError, errorMessage } from '../../core/errors.js';
import { RevertStack } from '../../core/runner/revert-stack.js';
import { describeRevert } from '../../drivers/revert-records.js';
import { RedisLeaseStore } from '../../drivers/sentinel/redis-lease-store.js';
import { readLabState } from '../../infra/lab-state.js';
import {
  acquireLease,
  labLeaseStore,
  localLeaseStore,
  type Lease,
  type LeaseHolder,
  type LeaseStore,
} from './lease.js';
import { liveness, thisProcess } from './process-identity.js';
import {
  chaosHome,
  listIndex,
  pendingReverts,
  updateIndexEntry,
  writeIndexEntry,
  type RunIndexEntry,
} from './run-index.js';

/** A short tag of a run id, carried by everything the run injects (toxic names, nginx marker). */
export function runTag(runId: string): string {
  return createHash('sha256').update(runId).digest('hex').slice(0, 8);
}

export interface GuardRequest {
  runId: string;
  runDir: string;
  command: string;
  /** `lab` or the target file, as the user named it. */
  targetRef: string;
  target: Target;
  labStateDir?: string;
  targetFile?: string;
  env?: NodeJS.ProcessEnv;
  breakLease?: boolean;
  /** `rollback` of this run id: its dead lease is taken over. */
  takeOverFrom?: string;
  onNotice?: (text: string) => void;
}

export interface RunGuard {
  lease: Lease;
  home: string;
  end(): Promise<void>;
}

export function leaseStoreFor(req: Pick<GuardRequest, 'target' | 'labStateDir' | 'env'>): LeaseStore {
  if (req.labStateDir) return labLeaseStore(req.labStateDir);
  const redis = req.target.redis;
  if (redis && redis.sentinels.length > 0) {
    return new RedisLeaseStore<LeaseHolder>({
      sentinels: redis.sentinels,
      masterName: redis.masterName,
      ...(redis.password ? { password: redis.password } : {}),
      ...(redis.sentinelPassword ? { sentinelPassword: redis.sentinelPassword } : {}),
      target: req.target.name,
    });
  }
  return localLeaseStore(chaosHome(req.env), req.target.name);
}

/** Same target: the same lab state dir, or the same target name for real targets. */
export function sameTarget(e: RunIndexEntry, req: Pick<GuardRequest, 'target' | 'labStateDir'>): boolean {
  if (req.labStateDir || e.labStateDir)
    return (
      e.labStateDir !== undefined &&
      req.labStateDir !== undefined &&
      resolve(e.labStateDir) === resolve(req.labStateDir)
    );
  return e.targetName === req.target.name;
}

/** Other runs on this target whose faults are still recorded as injected, described for messages. */
export function foreignPending(
  home: string,
  req: Pick<GuardRequest, 'target' | 'labStateDir' | 'runId'>,
): Array<{ entry: RunIndexEntry; faults: string[] }> {
  const out: Array<{ entry: RunIndexEntry; faults: string[] }> = [];
  for (const e of listIndex(home)) {
    if (e.runId === req.runId || e.state === 'forgotten' || !sameTarget(e, req)) continue;
    if (pendingReverts(e.runDir) === 0) continue;
    if (e.labStateDir && e.labCreatedAt && readLabState(e.labStateDir)?.createdAt !== e.labCreatedAt)
      continue;
    const stack = RevertStack.load(join(e.runDir, 'reverts.json'));
    out.push({
      entry: e,
      faults: stack.outstanding().map((x) => `${x.name} (${x.record ? describeRevert(x.record) : x.action})`),
    });
  }
  return out;
}

export async function guardRun(req: GuardRequest): Promise<RunGuard> {
  const home = chaosHome(req.env);
  const notice = req.onNotice ?? (() => undefined);
  const store = leaseStoreFor(req);
  const lease = await acquireLease({
    store,
    runId: req.runId,
    command: req.command,
    target: req.target.name === 'lab' && req.labStateDir ? `lab ${req.labStateDir}` : req.target.name,
    ...(req.breakLease ? { breakLease: true } : {}),
    ...(req.takeOverFrom ? { takeOverFrom: req.takeOverFrom } : {}),
    onNotice: notice,
  });
  try {
    const foreign = foreignPending(home, req);
    if (foreign.length > 0) {
      const whose = foreign
        .map(
          ({ entry, faults }) =>
            `run ${entry.runId} (host ${entry.host}, pid ${entry.pid}, ${liveness(entry)}; ${entry.runDir}) still has ${faults.join(', ')}`,
        )
        .join('; ');
      throw new PreflightError(
        `Target \`${req.target.name}\` still carries faults another run injected: ${whose}. Nothing was touched`,
        {
          code: 'FOREIGN_FAULTS',
          suggestions: foreign.map((f) => `owui-chaos rollback --run ${f.entry.runDir}`),
        },
      );
    }
    const labState = req.labStateDir ? readLabState(req.labStateDir) : undefined;
    writeIndexEntry(home, {
      schemaVersion: 1,
      ...thisProcess(),
      runId: req.runId,
      runDir: resolve(req.runDir),
      startedAt: new Date().toISOString(),
      target: req.targetRef,
      targetName: req.target.name,
      ...(req.labStateDir ? { labStateDir: resolve(req.labStateDir) } : {}),
      ...(labState?.createdAt ? { labCreatedAt: labState.createdAt } : {}),
      ...(req.targetFile ? { targetFile: resolve(req.targetFile) } : {}),
      lease: lease.store,
      state: 'running',
    });
  } catch (err) {
    await lease.release();
    throw err;
  }
  return {
    lease,
    home,
    async end() {
      try {
        updateIndexEntry(home, req.runId, { state: 'ended', endedAt: new Date().toISOString() });
        await lease.release();
      } catch (err) {
        notice(`lease: could not release ${lease.store.where}: ${errorMessage(err)}`);
      }
    },
  };
}
