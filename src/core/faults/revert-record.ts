// Revert records: the persisted, serialisable inverse of every fault (DESIGN §6). This module is the
// one place that knows their shapes: a discriminated union (TypeScript) and its zod schema (for a
// record read back from a run directory by `owui-chaos rollback`, in a NEW process), builders for
// the fault kinds that create them, and `replayRevert`, which turns a record into the port calls
// that undo the fault. The normal path and the crash path run the same code.
//
// Catalogue (driver/op → args):
//   replicas/start        { id, healthBudgetMs? }      after kill/stop: start, then wait healthy
//   replicas/unpause      { id, healthBudgetMs? }      after pause
//   sentinel/restartNode  { host, port, masterName?, budgetMs? }  after a master kill: restart, rejoin as replica
//   toxiproxy/removeToxic { proxy, toxic }             after adding a toxic
//   toxiproxy/restoreToxic{ proxy, toxic: ToxicSpec }  after updating a toxic: put the old one back
//   toxiproxy/setEnabled  { proxy, enabled }           after `down`: the proxy's previous state
//   nginx/restoreConfig   { configFile, sha256, base64, container? }  the original bytes, exactly
//   scale/command         { command, template, replicas, url, healthBudgetMs? }  after `capacity --scale-cmd`:
//                         the operator's command with the count the deployment had before
//   composite/all         { records: RevertRecord[] }  several at once (two replicas killed): last first

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RollbackError, errorMessage } from '../errors.js';
import type {
  NginxDriver,
  RedisNodeAddress,
  ReplicaDriver,
  SentinelDriver,
  ToxicSpec,
  ToxiproxyDriver,
} from '../ports.js';
import { TOXIC_TYPES } from './toxic-types.js';

const id = z.string().min(1);
const budget = z.number().int().positive().optional();

export const ToxicSpecSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(TOXIC_TYPES),
  stream: z.enum(['upstream', 'downstream']),
  toxicity: z.number().min(0).max(1),
  attributes: z.record(z.string(), z.number()),
});

function record<D extends string, O extends string, A extends z.ZodType>(driver: D, op: O, args: A) {
  return z.strictObject({ driver: z.literal(driver), op: z.literal(op), args });
}

const leafSchemas = [
  record('replicas', 'start', z.strictObject({ id, healthBudgetMs: budget })),
  record('replicas', 'unpause', z.strictObject({ id, healthBudgetMs: budget })),
  record(
    'sentinel',
    'restartNode',
    z.strictObject({
      host: z.string().min(1),
      port: z.number().int().positive(),
      masterName: z.string().optional(),
      budgetMs: budget,
    }),
  ),
  record(
    'scale',
    'command',
    z.strictObject({
      command: z.string().min(1),
      template: z.string().min(1),
      replicas: z.number().int().min(0),
      url: z.string().min(1),
      healthBudgetMs: budget,
    }),
  ),
  record('toxiproxy', 'removeToxic', z.strictObject({ proxy: id, toxic: id })),
  record('toxiproxy', 'restoreToxic', z.strictObject({ proxy: id, toxic: ToxicSpecSchema })),
  record('toxiproxy', 'setEnabled', z.strictObject({ proxy: id, enabled: z.boolean() })),
  record(
    'nginx',
    'restoreConfig',
    z.strictObject({
      configFile: z.string().min(1),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      base64: z.string(),
      container: z.string().optional(),
    }),
  ),
] as const;

export type LeafRevertRecord = z.output<(typeof leafSchemas)[number]>;
export interface CompositeRevertRecord {
  driver: 'composite';
  op: 'all';
  args: { records: RevertRecord[] };
}
/** A persisted revert: enough for `owui-chaos rollback` in a new process to undo the fault. */
export type RevertRecord = LeafRevertRecord | CompositeRevertRecord;

const LEAVES = new Map<string, (typeof leafSchemas)[number]>(
  leafSchemas.map((schema) => [`${schema.shape.driver.value}/${schema.shape.op.value}`, schema]),
);

/**
 * Reads a record that came from disk. An unknown `driver/op` is REVERT_RECORD_UNKNOWN, bad args
 * REVERT_RECORD_INVALID naming the field (`where` says in which file or entry, when given).
 */
export function parseRevertRecord(data: unknown, where?: string): RevertRecord {
  const at = where === undefined ? '' : ` in ${where}`;
  const obj = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  const key = `${String(obj.driver)}/${String(obj.op)}`;
  if (key === 'composite/all') {
    const records = (obj.args as { records?: unknown } | undefined)?.records;
    if (!Array.isArray(records))
      throw new RollbackError(`Invalid revert record \`${key}\`${at} (records: expected an array)`, {
        code: 'REVERT_RECORD_INVALID',
      });
    return compositeRevertRecord(records.map((r, i) => parseRevertRecord(r, `${where ?? key} records.${i}`)));
  }
  const schema = LEAVES.get(key);
  if (schema === undefined) {
    throw new RollbackError(
      `Unknown revert record \`${key}\`${at}: this version of owui-chaos cannot undo it`,
      {
        code: 'REVERT_RECORD_UNKNOWN',
        suggestions: ["Undo it by hand, then delete the entry from the run directory's revert stack"],
      },
    );
  }
  const args = schema.shape.args.safeParse(obj.args);
  if (!args.success) {
    throw new RollbackError(`Invalid revert record \`${key}\`${at} (${zodIssues(args.error)})`, {
      code: 'REVERT_RECORD_INVALID',
    });
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new RollbackError(`Invalid revert record \`${key}\`${at} (${zodIssues(parsed.error)})`, {
      code: 'REVERT_RECORD_INVALID',
    });
  }
  return parsed.data;
}

export function zodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
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

/** One record for several parts: the part itself when there is one. */
export function combinedRevertRecord(records: RevertRecord[]): RevertRecord {
  return records.length === 1 ? records[0]! : compositeRevertRecord(records);
}

/** The leaf records of a record, in the order they were recorded. */
export function flattenRevertRecord(record: RevertRecord): LeafRevertRecord[] {
  return record.driver === 'composite' ? record.args.records.flatMap(flattenRevertRecord) : [record];
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---- replay -----------------------------------------------------------------------------------

/** The port verbs a replay needs; each resolved only when a record needs it. */
export interface RevertDrivers {
  replicas?: Pick<ReplicaDriver, 'start' | 'unpause' | 'waitHealthy'>;
  sentinel?: Pick<SentinelDriver, 'restartNode'>;
  toxiproxy?: Pick<ToxiproxyDriver, 'removeToxic' | 'setEnabled' | 'restoreToxic'>;
  nginx?: Pick<NginxDriver, 'readConfig' | 'applyConfig'>;
  /** Runs a `capacity --scale-cmd` template for `replicas`, then waits for the URL's /health. */
  scaler?: {
    scale(args: { template: string; replicas: number; url: string; healthBudgetMs?: number }): Promise<void>;
  };
}

/** A short human line for a record ("remove toxic lat1 from proxy llm"), for "still injected" lists. */
export function describeRevert(record: RevertRecord): string {
  switch (record.driver) {
    case 'replicas':
      return `${record.op} replica ${record.args.id}`;
    case 'sentinel':
      return `restart Redis node ${record.args.host}:${record.args.port}`;
    case 'toxiproxy':
      switch (record.op) {
        case 'removeToxic':
          return `remove toxic ${record.args.toxic} from proxy ${record.args.proxy}`;
        case 'restoreToxic':
          return `restore toxic ${record.args.toxic.name} on proxy ${record.args.proxy}`;
        case 'setEnabled':
          return `${record.args.enabled ? 'enable' : 'disable'} proxy ${record.args.proxy}`;
      }
    // eslint-disable-next-line no-fallthrough -- the inner switch is exhaustive
    case 'nginx':
      return `restore nginx config ${record.args.configFile} (sha256 ${record.args.sha256.slice(0, 12)}…)`;
    case 'scale':
      return `scale back to ${record.args.replicas} replica(s): ${record.args.command}`;
    case 'composite':
      return record.args.records.map(describeRevert).join('; ');
  }
}

/**
 * Undoes one persisted fault. Idempotent as long as the port verbs are (they are). The record is
 * checked against the schema first, so a hand-edited or damaged record fails before anything runs.
 */
export async function replayRevert(input: RevertRecord, drivers: RevertDrivers): Promise<void> {
  const record = parseRevertRecord(input);
  switch (record.driver) {
    case 'replicas': {
      const d = need(drivers.replicas, 'replicas', record);
      if (record.op === 'start') await d.start(record.args.id);
      else await d.unpause(record.args.id);
      if (record.args.healthBudgetMs !== undefined)
        await d.waitHealthy(record.args.id, record.args.healthBudgetMs);
      return;
    }
    case 'sentinel':
      await need(drivers.sentinel, 'sentinel', record).restartNode(
        { host: record.args.host, port: record.args.port },
        record.args.budgetMs,
      );
      return;
    case 'toxiproxy': {
      const d = need(drivers.toxiproxy, 'toxiproxy', record);
      if (record.op === 'removeToxic') await d.removeToxic(record.args.proxy, record.args.toxic);
      else if (record.op === 'restoreToxic') await d.restoreToxic(record.args.proxy, record.args.toxic);
      else await d.setEnabled(record.args.proxy, record.args.enabled);
      return;
    }
    case 'nginx': {
      const d = need(drivers.nginx, 'nginx', record);
      const original = Buffer.from(record.args.base64, 'base64');
      if (sha256(original) !== record.args.sha256) {
        throw new RollbackError(
          `The saved nginx config for ${record.args.configFile} is corrupt (sha256 mismatch); it was not restored`,
          { code: 'REVERT_RECORD_INVALID' },
        );
      }
      // Already the original bytes: nothing to write, nothing to reload.
      if ((await d.readConfig()).equals(original)) return;
      await d.applyConfig(original);
      return;
    }
    case 'scale': {
      const { template, replicas, url, healthBudgetMs } = record.args;
      await need(drivers.scaler, 'scaler', record).scale({
        template,
        replicas,
        url,
        ...(healthBudgetMs === undefined ? {} : { healthBudgetMs }),
      });
      return;
    }
    case 'composite': {
      // Every part is attempted even when one fails: leave as little injected as possible.
      const records = record.args.records;
      const failures: string[] = [];
      let firstError: unknown;
      for (const r of [...records].reverse()) {
        try {
          await replayRevert(r, drivers);
        } catch (err) {
          firstError ??= err;
          failures.push(`${describeRevert(r)}: ${errorMessage(err)}`);
        }
      }
      if (failures.length) {
        throw new RollbackError(
          `${failures.length} of ${records.length} reverts failed (${failures.join('; ')})`,
          { code: 'REVERT_FAILED', cause: firstError },
        );
      }
      return;
    }
  }
}

function need<T>(driver: T | undefined, name: keyof RevertDrivers, record: RevertRecord): T {
  if (driver === undefined) {
    throw new RollbackError(
      `Cannot replay \`${record.driver}/${record.op}\`: no ${name} driver is configured for this target`,
      {
        code: 'REVERT_DRIVER_MISSING',
        suggestions: [
          `Check the target's \`${name === 'replicas' ? 'docker' : name === 'sentinel' ? 'redis' : name}\` section`,
        ],
      },
    );
  }
  return driver;
}
