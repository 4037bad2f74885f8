// Replica faults over any ReplicaDriver (containers or lab processes): kill / stop / pause with
// their inverse known before anything happens, and a rolling restart. The inverse of kill and stop
// is start + wait healthy; the inverse of pause is unpause (+ wait healthy).

import type { FaultHandle, ReplicaAction, ReplicaDriver } from '../core/ports.js';
import { type PreparedDriverFault, faultHandle } from './fault.js';
import { replicaStartRecord, replicaUnpauseRecord, revertFromRecord } from './revert-records.js';

export interface ReplicaFaultSpec {
  /** Replica id as the driver knows it (container id/name, lab replica name). */
  id: string;
  action: ReplicaAction;
  /** For `kill`; default SIGKILL. */
  signal?: string;
  /** Budget the revert gives the replica to answer `/health` again. Default 60 s. */
  healthBudgetMs?: number;
}

export function prepareReplicaFault(driver: ReplicaDriver, spec: ReplicaFaultSpec): PreparedDriverFault {
  const budget = spec.healthBudgetMs ?? 60_000;
  const record =
    spec.action === 'pause' ? replicaUnpauseRecord(spec.id, budget) : replicaStartRecord(spec.id, budget);
  const description =
    spec.action === 'kill'
      ? `kill replica ${spec.id} (${spec.signal ?? 'SIGKILL'})`
      : `${spec.action} replica ${spec.id}`;
  return {
    description,
    record,
    apply: async (): Promise<FaultHandle> => {
      if (spec.action === 'kill') await driver.kill(spec.id, spec.signal ?? 'SIGKILL');
      else if (spec.action === 'stop') await driver.stop(spec.id);
      else await driver.pause(spec.id);
      return faultHandle(description, record, () => revertFromRecord(record, { replicas: driver }));
    },
  };
}

export interface RollingRestartProgress {
  id: string;
  phase: 'restarting' | 'healthy';
  index: number;
  total: number;
}

/** Restarts replicas one at a time, each healthy before the next goes down (never two down). */
export async function rollingRestart(
  driver: ReplicaDriver,
  ids: string[],
  opts: {
    healthBudgetMs?: number;
    /** Pause between one replica healthy and the next going down (a rollout's pace). */
    intervalMs?: number;
    sleep?: (ms: number) => Promise<void>;
    onProgress?: (p: RollingRestartProgress) => void;
    signal?: AbortSignal;
  } = {},
): Promise<void> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (const [index, id] of ids.entries()) {
    if (index > 0 && opts.intervalMs) await sleep(opts.intervalMs);
    if (opts.signal?.aborted) return;
    opts.onProgress?.({ id, phase: 'restarting', index, total: ids.length });
    await driver.restart(id);
    await driver.waitHealthy(id, opts.healthBudgetMs ?? 60_000);
    opts.onProgress?.({ id, phase: 'healthy', index, total: ids.length });
  }
}
