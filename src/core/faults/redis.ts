// Redis faults through the SentinelDriver port: a Sentinel failover (instantaneous, no inverse;
// its `for` is an observation window) and a master kill, whose inverse restarts the old master and
// waits until it has rejoined as a replica. `restartAfter` is the kill's own window.

import { z } from 'zod';
import { DurationSchema, PositiveDurationSchema } from '../config/duration.js';
import { type ActionTable, entrySchema, forWindow, formatMs } from './kind.js';
import { sentinelRestartNodeRecord } from './revert-record.js';

/** How long a failover waits for the promotion when the entry gives no `timeout`. */
export const FAILOVER_BUDGET_MS = 30_000;
/** How long a master kill waits for Sentinel to promote a replica. */
export const PROMOTION_BUDGET_MS = 30_000;

export const entries = [
  entrySchema('redis.failover', z.strictObject({ timeout: PositiveDurationSchema.optional() }).default({})),
  entrySchema('redis.kill-master', z.strictObject({ restartAfter: DurationSchema.optional() }).default({})),
] as const;

export type RedisEntry = z.output<(typeof entries)[number]>;

export const actions: ActionTable<RedisEntry> = {
  'redis.failover': {
    facts: { inverse: undefined, replicas: false, destructive: true, needs: 'redis', lasting: false },
    describe: (e) =>
      `Sentinel failover of the Redis master${e.params.timeout !== undefined ? ` (wait up to ${formatMs(e.params.timeout)} for the new master)` : ''}`,
    window: forWindow,
    prepare: async (e, ctx) => {
      const sentinel = ctx.ports.sentinel();
      const master = await sentinel.currentMaster();
      const budget = e.params.timeout ?? FAILOVER_BUDGET_MS;
      return {
        description: `SENTINEL FAILOVER (master ${master.host}:${master.port})`,
        record: null,
        apply: () => sentinel.failover(budget),
      };
    },
  },
  'redis.kill-master': {
    facts: {
      inverse: 'restart the old master (it rejoins as a replica)',
      replicas: false,
      destructive: true,
      needs: 'redis',
      lasting: true,
    },
    describe: (e) =>
      `kill the Redis master${e.params.restartAfter !== undefined ? ` and restart it after ${formatMs(e.params.restartAfter)}` : ''}`,
    // `restartAfter` says when the master comes back, as `for` would (the checks refuse both).
    window: (e) => e.for ?? e.params.restartAfter,
    prepare: async (_e, ctx) => {
      const sentinel = ctx.ports.sentinel();
      // Resolved now, so the revert record names the node that is killed.
      const oldMaster = await sentinel.currentMaster();
      return {
        description: `kill Redis master ${oldMaster.host}:${oldMaster.port} of \`${sentinel.masterName}\``,
        record: sentinelRestartNodeRecord(oldMaster, sentinel.masterName, ctx.healthBudgetMs),
        apply: async () => ({
          oldMaster,
          ...(await sentinel.killNode(oldMaster, { promotionBudgetMs: PROMOTION_BUDGET_MS })),
        }),
      };
    },
  },
};
