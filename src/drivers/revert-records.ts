// Revert records: the persisted, serialisable inverse of every fault (DESIGN §6). This module is the
// one place that knows their shapes — builders for the drivers that create them, and
// `revertFromRecord`, which turns a record read back from a run directory (by `owui-chaos
// rollback`, in a NEW process) into the driver call that undoes the fault. Fault handles revert
// through the same function, so the crash path and the normal path are the same code.
//
// Catalogue (driver/op → args):
//   replicas/start        { id, healthBudgetMs? }      after kill/stop: start, then wait healthy
//   replicas/unpause      { id, healthBudgetMs? }      after pause
//   sentinel/restartNode  { host, port, masterName?, budgetMs? }  after a master kill: restart, rejoin as replica
//   toxiproxy/removeToxic { proxy, toxic }             after adding a toxic
//   toxiproxy/restoreToxic{ proxy, toxic: ToxicSpec }  after updating a toxic: put the old one back
//   toxiproxy/setEnabled  { proxy, enabled }           after `down`: the proxy's previous state
//   nginx/restoreConfig   { configFile, sha256, base64, container? }  the original bytes, exactly
//   composite/all         { records: RevertRecord[] }  several at once (two replicas killed): last first

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RollbackError } from '../core/errors.js';
import type {
  NginxDriver,
  RedisNodeAddress,
  ReplicaDriver,
  RevertRecord,
  ToxicSpec,
  ToxiproxyDriver,
} from '../core/ports.js';

export interface RevertDrivers {
  replicas?: Pick<ReplicaDriver, 'start' | 'unpause' | 'waitHealthy'>;
  sentinel?: { restartNode(node: RedisNodeAddress, budgetMs?: number): Promise<unknown> };
  toxiproxy?: Pick<ToxiproxyDriver, 'removeToxic' | 'setEnabled'> & {
    restoreToxic(proxy: string, toxic: ToxicSpec): Promise<void>;
  };
  nginx?: Pick<NginxDriver, 'readConfig' | 'applyConfig'>;
}

// ---- builders -------------------------------------------------------------------------------

export function replicaStartRecord(id: string, healthBudgetMs?: number): RevertRecord {
  return {
    driver: 'replicas',
    op: 'start',
    args: { id, ...(healthBudgetMs === undefined ? {} : { healthBudgetMs }) },
  };
}

export function replicaUnpauseRecord(id: string, healthBudgetMs?: number): RevertRecord {
  return {
    driver: 'replicas',
    op: 'unpause',
    args: { id, ...(healthBudgetMs === undefined ? {} : { healthBudgetMs }) },
  };
}

export function sentinelRestartNodeRecord(
  node: RedisNodeAddress,
  masterName: string,
  budgetMs: number,
): RevertRecord {
  return {
    driver: 'sentinel',
    op: 'restartNode',
    args: { host: node.host, port: node.port, masterName, budgetMs },
  };
}

export function removeToxicRecord(proxy: string, toxic: string): RevertRecord {
  return { driver: 'toxiproxy', op: 'removeToxic', args: { proxy, toxic } };
}

export function restoreToxicRecord(proxy: string, toxic: ToxicSpec): RevertRecord {
  return {
    driver: 'toxiproxy',
    op: 'restoreToxic',
    args: { proxy, toxic: { ...toxic, attributes: { ...toxic.attributes } } },
  };
}

export function setEnabledRecord(proxy: string, enabled: boolean): RevertRecord {
  return { driver: 'toxiproxy', op: 'setEnabled', args: { proxy, enabled } };
}

export function restoreConfigRecord(configFile: string, original: Buffer, container?: string): RevertRecord {
  return {
    driver: 'nginx',
    op: 'restoreConfig',
    args: {
      configFile,
      sha256: sha256(original),
      base64: original.toString('base64'),
      ...(container === undefined ? {} : { container }),
    },
  };
}

export function compositeRevertRecord(records: RevertRecord[]): RevertRecord {
  return { driver: 'composite', op: 'all', args: { records } };
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---- replay -----------------------------------------------------------------------------------

const id = z.string().min(1);
const budget = z.number().int().positive().optional();
const toxicSpec = z.strictObject({
  name: z.string().min(1),
  type: z.enum(['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data']),
  stream: z.enum(['upstream', 'downstream']),
  toxicity: z.number().min(0).max(1),
  attributes: z.record(z.string(), z.number()),
});

const schemas = {
  'replicas/start': z.strictObject({ id, healthBudgetMs: budget }),
  'replicas/unpause': z.strictObject({ id, healthBudgetMs: budget }),
  'sentinel/restartNode': z.strictObject({
    host: z.string().min(1),
    port: z.number().int().positive(),
    masterName: z.string().optional(),
    budgetMs: budget,
  }),
  'toxiproxy/removeToxic': z.strictObject({ proxy: id, toxic: id }),
  'toxiproxy/restoreToxic': z.strictObject({ proxy: id, toxic: toxicSpec }),
  'toxiproxy/setEnabled': z.strictObject({ proxy: id, enabled: z.boolean() }),
  'nginx/restoreConfig': z.strictObject({
    configFile: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    base64: z.string(),
    container: z.string().optional(),
  }),
  'composite/all': z.strictObject({
    records: z.array(
      z.strictObject({ driver: z.string(), op: z.string(), args: z.record(z.string(), z.unknown()) }),
    ),
  }),
} as const;

type Key = keyof typeof schemas;

/** A short human line for a record ("remove toxic lat1 from proxy llm"), for "still injected" lists. */
export function describeRevert(record: RevertRecord): string {
  const a = record.args;
  switch (`${record.driver}/${record.op}`) {
    case 'replicas/start':
      return `start replica ${String(a.id)}`;
    case 'replicas/unpause':
      return `unpause replica ${String(a.id)}`;
    case 'sentinel/restartNode':
      return `restart Redis node ${String(a.host)}:${String(a.port)}`;
    case 'toxiproxy/removeToxic':
      return `remove toxic ${String(a.toxic)} from proxy ${String(a.proxy)}`;
    case 'toxiproxy/restoreToxic':
      return `restore toxic ${String((a.toxic as { name?: unknown } | undefined)?.name)} on proxy ${String(a.proxy)}`;
    case 'toxiproxy/setEnabled':
      return `${a.enabled ? 'enable' : 'disable'} proxy ${String(a.proxy)}`;
    case 'composite/all':
      return ((a.records as RevertRecord[] | undefined) ?? []).map(describeRevert).join('; ');
    case 'nginx/restoreConfig':
      return `restore nginx config ${String(a.configFile)} (sha256 ${String(a.sha256).slice(0, 12)}…)`;
    default:
      return `${record.driver}/${record.op}`;
  }
}

/** Undoes one persisted fault. Idempotent as long as the driver verbs are (they are). */
export async function revertFromRecord(record: RevertRecord, drivers: RevertDrivers): Promise<void> {
  const key = `${record.driver}/${record.op}`;
  if (!(key in schemas)) {
    throw new RollbackError(`Unknown revert record \`${key}\`: this version of owui-chaos cannot undo it`, {
      code: 'REVERT_RECORD_UNKNOWN',
      suggestions: ["Undo it by hand, then delete the entry from the run directory's revert stack"],
    });
  }
  const parsed = schemas[key as Key].safeParse(record.args);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`).join('; ');
    throw new RollbackError(`Invalid revert record \`${key}\` (${issues})`, {
      code: 'REVERT_RECORD_INVALID',
    });
  }
  const args = parsed.data as Record<string, unknown>;
  switch (key as Key) {
    case 'replicas/start': {
      const d = need(drivers.replicas, 'replicas', key);
      await d.start(args.id as string);
      if (args.healthBudgetMs !== undefined)
        await d.waitHealthy(args.id as string, args.healthBudgetMs as number);
      return;
    }
    case 'replicas/unpause': {
      const d = need(drivers.replicas, 'replicas', key);
      await d.unpause(args.id as string);
      if (args.healthBudgetMs !== undefined)
        await d.waitHealthy(args.id as string, args.healthBudgetMs as number);
      return;
    }
    case 'sentinel/restartNode': {
      const d = need(drivers.sentinel, 'sentinel', key);
      await d.restartNode(
        { host: args.host as string, port: args.port as number },
        args.budgetMs as number | undefined,
      );
      return;
    }
    case 'toxiproxy/removeToxic':
      await need(drivers.toxiproxy, 'toxiproxy', key).removeToxic(args.proxy as string, args.toxic as string);
      return;
    case 'toxiproxy/restoreToxic':
      await need(drivers.toxiproxy, 'toxiproxy', key).restoreToxic(
        args.proxy as string,
        args.toxic as ToxicSpec,
      );
      return;
    case 'toxiproxy/setEnabled':
      await need(drivers.toxiproxy, 'toxiproxy', key).setEnabled(
        args.proxy as string,
        args.enabled as boolean,
      );
      return;
    case 'nginx/restoreConfig': {
      const d = need(drivers.nginx, 'nginx', key);
      const original = Buffer.from(args.base64 as string, 'base64');
      if (sha256(original) !== args.sha256) {
        throw new RollbackError(
          `The saved nginx config for ${String(args.configFile)} is corrupt (sha256 mismatch); it was not restored`,
          {
            code: 'REVERT_RECORD_INVALID',
          },
        );
      }
      // Already the original bytes: nothing to write, nothing to reload.
      if ((await d.readConfig()).equals(original)) return;
      await d.applyConfig(original);
      return;
    }
    case 'composite/all': {
      // Every part is attempted even when one fails: leave as little injected as possible.
      const records = args.records as RevertRecord[];
      const failures: string[] = [];
      let firstError: unknown;
      for (const r of [...records].reverse()) {
        try {
          await revertFromRecord(r, drivers);
        } catch (err) {
          firstError ??= err;
          failures.push(`${describeRevert(r)}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      if (failures.length) {
        throw new RollbackError(
          `${failures.length} of ${records.length} reverts failed (${failures.join('; ')})`,
          {
            code: 'REVERT_FAILED',
            cause: firstError,
          },
        );
      }
      return;
    }
  }
}

function need<T>(driver: T | undefined, name: keyof RevertDrivers, key: string): T {
  if (driver === undefined) {
    throw new RollbackError(`Cannot replay \`${key}\`: no ${name} driver is configured for this target`, {
      code: 'REVERT_DRIVER_MISSING',
      suggestions: [
        `Check the target's \`${name === 'replicas' ? 'docker' : name === 'sentinel' ? 'redis' : name}\` section`,
      ],
    });
  }
  return driver;
}
