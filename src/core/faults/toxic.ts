// Toxiproxy faults through the ToxiproxyDriver port: one `toxic.<type>` action per toxic type of
// src/core/faults/toxic-types.ts (a toxic whose inverse removes it) and `toxic.down` (the proxy's
// `enabled: false`, whose inverse restores its previous state). Toxics are named after the entry
// and the run, so a revert finds exactly its own and no run takes another's for its own.

import { z } from 'zod';
import { DurationSchema } from '../config/duration.js';
import { FaultError } from '../errors.js';
import type { RedisNodeAddress, ToxicSpec } from '../ports.js';
import {
  type ActionTable,
  type PrepareContext,
  type PreparedFault,
  entrySchema,
  forWindow,
  formatMs,
} from './kind.js';
import { removeToxicRecord, setEnabledRecord } from './revert-record.js';
import { TOXIC_ATTRIBUTES, type ToxicType } from './toxic-types.js';

const common = {
  proxy: z.string().min(1).describe('the name of a Toxiproxy proxy, e.g. `llm`'),
  stream: z.enum(['upstream', 'downstream']).default('downstream'),
  toxicity: z.number().min(0).max(1).default(1).describe('a probability from 0 to 1'),
};
const ms = DurationSchema;

export const entries = [
  entrySchema('toxic.latency', z.strictObject({ ...common, latency: ms, jitter: ms.default(0) })),
  entrySchema(
    'toxic.bandwidth',
    z.strictObject({ ...common, rate: z.number().min(0).describe('a rate in KB/s (a number ≥ 0)') }),
  ),
  entrySchema('toxic.slow_close', z.strictObject({ ...common, delay: ms })),
  entrySchema('toxic.timeout', z.strictObject({ ...common, timeout: ms })),
  entrySchema('toxic.reset_peer', z.strictObject({ ...common, timeout: ms.default(0) })),
  entrySchema(
    'toxic.slicer',
    z.strictObject({
      ...common,
      average_size: z.number().int().min(1).describe('bytes per slice (an integer ≥ 1)'),
      size_variation: z.number().int().min(0).default(0),
      /** Microseconds between slices, as Toxiproxy takes it. */
      delay: z.number().int().min(0).default(0).describe('microseconds between slices (an integer ≥ 0)'),
    }),
  ),
  entrySchema('toxic.limit_data', z.strictObject({ ...common, bytes: z.number().int().min(0) })),
  entrySchema('toxic.down', z.strictObject({ ...common })),
] as const;

export type ToxicEntry = z.output<(typeof entries)[number]>;
type AddToxic = Exclude<ToxicEntry, { action: 'toxic.down' }>;

// The toxic actions are exactly the toxic types (plus `down`): a type missing on either side fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameTypes: Same<AddToxic['action'], `toxic.${ToxicType}`> = true;
void sameTypes;

function tail(p: { proxy: string; stream: string; toxicity: number }): string {
  return ` on proxy \`${p.proxy}\` (${p.stream}${p.toxicity < 1 ? `, ${Math.round(p.toxicity * 100)}% of connections` : ''})`;
}

const toxicFacts = {
  inverse: 'remove the toxic',
  replicas: false,
  destructive: false,
  needs: 'toxiproxy' as const,
  lasting: true,
};

function addToxic<E extends AddToxic>(describe: (e: E) => string) {
  return { facts: toxicFacts, describe, window: forWindow, prepare: prepareToxic };
}

export const actions: ActionTable<ToxicEntry> = {
  'toxic.latency': addToxic(
    (e) =>
      `latency ${formatMs(e.params.latency)}${e.params.jitter ? ` ±${formatMs(e.params.jitter)}` : ''}${tail(e.params)}`,
  ),
  'toxic.bandwidth': addToxic((e) => `bandwidth limit ${e.params.rate} KB/s${tail(e.params)}`),
  'toxic.slow_close': addToxic((e) => `close delayed by ${formatMs(e.params.delay)}${tail(e.params)}`),
  'toxic.timeout': addToxic(
    (e) =>
      `${e.params.timeout === 0 ? 'stalled connections (no data, never closed)' : `connections closed after ${formatMs(e.params.timeout)} without data`}${tail(e.params)}`,
  ),
  'toxic.reset_peer': addToxic(
    (e) =>
      `connections reset (TCP RST)${e.params.timeout ? ` after ${formatMs(e.params.timeout)}` : ''}${tail(e.params)}`,
  ),
  'toxic.slicer': addToxic(
    (e) =>
      `data sliced into ~${e.params.average_size}-byte pieces${e.params.delay ? ` ${e.params.delay} µs apart` : ''}${tail(e.params)}`,
  ),
  'toxic.limit_data': addToxic((e) => `connections closed after ${e.params.bytes} bytes${tail(e.params)}`),
  'toxic.down': {
    facts: { ...toxicFacts, inverse: 'enable the proxy again' },
    describe: (e) => `proxy \`${e.params.proxy}\` disabled (connections refused)`,
    window: forWindow,
    prepare: async (e, ctx) => {
      const proxy = await resolveProxy(e.params.proxy, ctx);
      const toxiproxy = ctx.ports.toxiproxy();
      const info = await toxiproxy.getProxy(proxy.name);
      if (!info.enabled) {
        throw new FaultError(
          `Proxy \`${proxy.name}\` is already disabled, by someone else than this run: \`${e.name}\` was not injected and nothing was touched`,
          {
            code: 'FOREIGN_FAULT',
            suggestions: ['owui-chaos rollback   # if an earlier run left it disabled'],
          },
        );
      }
      return {
        description: `proxy ${proxy.name} down (enabled: false)${proxy.note}`,
        record: setEnabledRecord(proxy.name, info.enabled),
        apply: () => toxiproxy.setEnabled(proxy.name, false),
      };
    },
  },
};

/** `owui-chaos-<entry>--run-<tag>`: whose toxic it is can be read off its name. */
const TOXIC_OWNER = /^owui-chaos-(.+)--run-([0-9a-f]{8})$/;

/** The run tag a toxic name carries, `legacy` for an owui-chaos toxic without one, else undefined. */
export function toxicOwnerTag(name: string): string | undefined {
  const m = TOXIC_OWNER.exec(name);
  if (m) return m[2];
  return name.startsWith('owui-chaos-') ? 'legacy' : undefined;
}

/**
 * The Toxiproxy toxic for a `toxic.*` timeline entry; named after the entry (so reverts find it)
 * and, with a run tag, after the run (so no other run ever takes it for its own).
 */
export function toxicFor(entry: AddToxic, runTag?: string): ToxicSpec {
  const type = entry.action.slice('toxic.'.length) as ToxicType;
  const params = entry.params as Record<string, unknown>;
  const attributes: Record<string, number> = {};
  for (const key of TOXIC_ATTRIBUTES[type]) {
    const value = params[key];
    if (typeof value === 'number') attributes[key] = value;
  }
  return {
    name: runTag === undefined ? `owui-chaos-${entry.name}` : `owui-chaos-${entry.name}--run-${runTag}`,
    type,
    stream: entry.params.stream,
    toxicity: entry.params.toxicity,
    attributes,
  };
}

export function describeToxic(
  t: Pick<ToxicSpec, 'name' | 'type' | 'stream' | 'toxicity' | 'attributes'>,
): string {
  const attrs = Object.entries(t.attributes)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const share = t.toxicity < 1 ? `, ${Math.round(t.toxicity * 100)}% of connections` : '';
  return `${t.type} toxic ${t.name} (${t.stream}${attrs ? `, ${attrs}` : ''}${share})`;
}

async function prepareToxic(entry: AddToxic, ctx: PrepareContext): Promise<PreparedFault> {
  const proxy = await resolveProxy(entry.params.proxy, ctx);
  const toxic = toxicFor(entry, ctx.runTag);
  await refuseForeignToxics(proxy.name, toxic.name, ctx);
  const toxiproxy = ctx.ports.toxiproxy();
  return {
    description: `${describeToxic(toxic)} on proxy ${proxy.name}${proxy.note}`,
    record: removeToxicRecord(proxy.name, toxic.name),
    apply: () => toxiproxy.addToxic(proxy.name, toxic),
    traffic: () => toxiproxy.traffic(proxy.name),
  };
}

/**
 * A toxic of another owui-chaos run (or one with the very name this run would use) on the proxy
 * is a fault in the way: the injection fails before anything is touched and says whose it is.
 */
async function refuseForeignToxics(proxy: string, name: string, ctx: PrepareContext): Promise<void> {
  const mine = ctx.runTag;
  if (mine === undefined) return;
  const existing = (await ctx.ports.toxiproxy().getProxy(proxy)).toxics;
  const foreign = existing.filter((t) => t.name === name || (toxicOwnerTag(t.name) ?? mine) !== mine);
  if (foreign.length === 0) return;
  const whose = foreign
    .map((t) => {
      const tag = toxicOwnerTag(t.name);
      return `${t.type} toxic \`${t.name}\` (${tag === 'legacy' ? 'an older owui-chaos run' : tag === mine ? 'this run' : `run tag ${tag}`})`;
    })
    .join(', ');
  throw new FaultError(
    `Proxy \`${proxy}\` already carries ${whose}: another run's fault is in the way, so nothing was injected or removed`,
    {
      code: 'FOREIGN_FAULT',
      suggestions: ['owui-chaos rollback   # lists the runs with faults still injected and whose they are'],
    },
  );
}

/** Lab proxies named after a Redis role (src/lab/lab.ts PROXY_REDIS_MASTER / PROXY_REDIS_REPLICA). */
const REDIS_ROLE_PROXIES: Record<string, 'master' | 'replica' | undefined> = {
  'redis-master': 'master',
  'redis-replica': 'replica',
};

/**
 * `redis-master` / `redis-replica` name a Redis ROLE (the lab creates them so), but each proxy was
 * created in front of the node that had the role when it was set up. After a failover the roles
 * swap while the proxies do not, so a toxic on `redis-master` would slow the node that is now the
 * replica and the experiment would measure nothing. When the target has Sentinel, the role is
 * resolved to the proxy whose upstream holds it now; any other name is taken as it is. When the
 * role cannot be resolved (no Sentinel, or it does not answer) the name is taken as it is and a
 * warning says so: the run journals it, so a toxic that landed on the wrong node is visible.
 */
async function resolveProxy(name: string, ctx: PrepareContext): Promise<{ name: string; note: string }> {
  const role = REDIS_ROLE_PROXIES[name];
  if (role === undefined) return { name, note: '' };
  let master: RedisNodeAddress;
  let proxies: Array<{ name: string; upstream: string }>;
  try {
    master = await ctx.ports.sentinel().currentMaster();
    proxies = await ctx.ports.toxiproxy().listProxies();
  } catch (err) {
    ctx.warn({
      code: 'REDIS_ROLE_UNRESOLVED',
      message: `proxy \`${name}\` stands for the Redis ${role}, but which node holds that role could not be looked up (${err instanceof Error ? err.message : String(err)}); the toxic goes on \`${name}\` as it is, which may no longer front the ${role}`,
    });
    return { name, note: '' };
  }
  const frontsMaster = (p: { upstream: string }): boolean =>
    Number(p.upstream.slice(p.upstream.lastIndexOf(':') + 1)) === master.port;
  const holdsRole = (p: { upstream: string }): boolean =>
    role === 'master' ? frontsMaster(p) : !frontsMaster(p);
  const named = proxies.find((p) => p.name === name);
  if (!named || holdsRole(named)) return { name, note: '' };
  const other = proxies.find(
    (p) => p.name !== name && REDIS_ROLE_PROXIES[p.name] !== undefined && holdsRole(p),
  );
  if (!other) return { name, note: '' };
  return {
    name: other.name,
    note: ` (proxy \`${name}\` stands for the Redis ${role}, which is now ${other.upstream} behind \`${other.name}\`)`,
  };
}
