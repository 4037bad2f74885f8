// Replica faults (kill / stop / pause one or more replicas, a rolling restart) over the
// ReplicaDriver port: containers or lab processes. The inverse of kill and stop is start + wait
// healthy; the inverse of pause is unpause (+ wait healthy); a rolling restart needs none.

import { z } from 'zod';
import { PositiveDurationSchema } from '../config/duration.js';
import { FaultError } from '../errors.js';
import type { ReplicaAction, ReplicaDriver, ReplicaInfo } from '../ports.js';
import {
  type ActionTable,
  type PrepareContext,
  type PreparedFault,
  entrySchema,
  forWindow,
  formatMs,
} from './kind.js';
import { combinedRevertRecord, replicaStartRecord, replicaUnpauseRecord } from './revert-record.js';

const replicaParams = z
  .strictObject({
    /** A replica name, or `random` (default) to pick one at injection time. */
    replica: z.string().min(1).default('random').describe('a replica name or `random`'),
    count: z.number().int().min(1).default(1),
  })
  .default({ replica: 'random', count: 1 });

/** Pause between one replica healthy and the next going down when the entry gives no `interval`. */
export const ROLLING_RESTART_INTERVAL_MS = 5000;

export const entries = [
  entrySchema('replica.kill', replicaParams),
  entrySchema('replica.stop', replicaParams),
  entrySchema('replica.pause', replicaParams),
  entrySchema(
    'replica.rolling-restart',
    z.strictObject({ interval: PositiveDurationSchema.optional() }).default({}),
  ),
] as const;

export type ReplicaEntry = z.output<(typeof entries)[number]>;
type TakeDown = Extract<ReplicaEntry, { action: `replica.${ReplicaAction}` }>;

const takeDownFacts = (inverse: string) => ({
  inverse,
  replicas: true,
  destructive: true,
  needs: 'replicas' as const,
  lasting: true,
});

function who(p: { replica: string; count: number }): string {
  return p.replica === 'random'
    ? `${p.count} random replica${p.count === 1 ? '' : 's'}`
    : `replica \`${p.replica}\``;
}

export const actions: ActionTable<ReplicaEntry> = {
  'replica.kill': {
    facts: takeDownFacts('start the replica again'),
    describe: (e) => `kill ${who(e.params)} (SIGKILL)`,
    window: forWindow,
    prepare: prepareTakeDown,
  },
  'replica.stop': {
    facts: takeDownFacts('start the replica again'),
    describe: (e) => `stop ${who(e.params)}`,
    window: forWindow,
    prepare: prepareTakeDown,
  },
  'replica.pause': {
    facts: takeDownFacts('unpause the replica'),
    describe: (e) => `pause ${who(e.params)} (frozen, connections stay open)`,
    window: forWindow,
    prepare: prepareTakeDown,
  },
  'replica.rolling-restart': {
    facts: { inverse: undefined, replicas: true, destructive: true, needs: 'replicas', lasting: false },
    describe: (e) =>
      `restart every replica one at a time${e.params.interval !== undefined ? `, ${formatMs(e.params.interval)} apart` : ''}`,
    window: forWindow,
    prepare: async (e, ctx) => {
      const d = ctx.ports.replicas();
      const replicas = await d.list();
      const interval = e.params.interval ?? ROLLING_RESTART_INTERVAL_MS;
      return {
        description: `rolling restart of ${replicas.map((r) => r.name).join(', ')} (${interval} ms apart)`,
        record: null,
        apply: async () => {
          await rollingRestart(
            d,
            replicas.map((r) => r.id),
            { healthBudgetMs: ctx.healthBudgetMs, intervalMs: interval, sleep: ctx.sleep },
          );
          return { restarted: replicas.map((r) => r.name) };
        },
      };
    },
  },
};

async function prepareTakeDown(entry: TakeDown, ctx: PrepareContext): Promise<PreparedFault> {
  const d = ctx.ports.replicas();
  const all = await d.list();
  const running = all.filter((r) => r.state === 'running');
  const { replica: wanted, count } = entry.params;
  let chosen: ReplicaInfo[];
  if (wanted === 'random') {
    const pool = [...running];
    chosen = [];
    while (chosen.length < count && pool.length > 0)
      chosen.push(pool.splice(Math.floor(ctx.random() * pool.length), 1)[0]!);
  } else {
    chosen = all.filter((r) => r.name === wanted || r.id === wanted);
    if (chosen.length === 0) {
      throw new FaultError(
        `No replica named \`${wanted}\` (found: ${all.map((r) => r.name).join(', ') || 'none'})`,
        {
          code: 'REPLICA_NOT_FOUND',
          suggestions: ['owui-chaos lab status', 'Use `replica: random` or one of the names above'],
        },
      );
    }
    const down = chosen.filter((r) => r.state === 'stopped' || r.state === 'paused');
    if (down.length > 0) {
      throw new FaultError(
        `Replica ${down.map((r) => `\`${r.name}\` is ${r.state}`).join(', ')}, not running: a fault that is not this entry's is in the way, so \`${entry.name}\` was not injected and nothing was touched`,
        {
          code: 'FOREIGN_FAULT',
          suggestions: ['owui-chaos lab status', 'owui-chaos rollback   # if an earlier run left it down'],
        },
      );
    }
  }
  if (chosen.length < count) {
    throw new FaultError(
      `${entry.action} needs ${count} running replica(s) but only ${running.length} are running`,
      { code: 'NOT_ENOUGH_REPLICAS', suggestions: ['owui-chaos lab status'] },
    );
  }
  const action = entry.action.slice('replica.'.length) as ReplicaAction;
  const records = chosen.map((r) =>
    action === 'pause'
      ? replicaUnpauseRecord(r.id, ctx.healthBudgetMs)
      : replicaStartRecord(r.id, ctx.healthBudgetMs),
  );
  return {
    description: `${action} replica ${chosen.map((r) => r.name).join(', ')}`,
    record: combinedRevertRecord(records),
    apply: async () => {
      for (const r of chosen) {
        if (action === 'kill') await d.kill(r.id, 'SIGKILL');
        else if (action === 'stop') await d.stop(r.id);
        else await d.pause(r.id);
      }
      return { replicas: chosen.map((r) => r.name) };
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
  driver: Pick<ReplicaDriver, 'restart' | 'waitHealthy'>,
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
