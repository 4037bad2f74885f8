// The fault catalogue of DESIGN §6 as zod schemas: one timeline entry shape per `action`
// (a discriminated union), with params normalised (durations → ms, defaults filled in), plus
// the facts other checks and the plan need about each action: its inverse, whether it takes
// replicas down, whether it is destructive, and which part of a target it needs.

import { z } from 'zod';
import { DurationSchema, PositiveDurationSchema } from './duration.js';

const name = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: 'is not a valid name; use letters, digits, `.`, `_` or `-` (e.g. `slow-llm`)',
  })
  .describe('a name such as `slow-llm` (letters, digits, `.`, `_`, `-`)');

const replicaParams = z
  .strictObject({
    /** A replica name, or `random` (default) to pick one at injection time. */
    replica: z.string().min(1).default('random').describe('a replica name or `random`'),
    count: z.number().int().min(1).default(1),
  })
  .default({ replica: 'random', count: 1 });

const toxicCommon = {
  proxy: z.string().min(1).describe('the name of a Toxiproxy proxy, e.g. `llm`'),
  stream: z.enum(['upstream', 'downstream']).default('downstream'),
  toxicity: z.number().min(0).max(1).default(1).describe('a probability from 0 to 1'),
};

const ms = DurationSchema;

function entry<A extends string, P extends z.ZodType>(action: A, params: P) {
  return z.strictObject({
    name,
    at: DurationSchema,
    for: PositiveDurationSchema.optional(),
    action: z.literal(action),
    params,
    description: z.string().optional(),
  });
}

export const TimelineEntrySchema = z.discriminatedUnion('action', [
  entry('replica.kill', replicaParams),
  entry('replica.stop', replicaParams),
  entry('replica.pause', replicaParams),
  entry(
    'replica.rolling-restart',
    z.strictObject({ interval: PositiveDurationSchema.optional() }).default({}),
  ),
  entry('redis.failover', z.strictObject({ timeout: PositiveDurationSchema.optional() }).default({})),
  entry('redis.kill-master', z.strictObject({ restartAfter: DurationSchema.optional() }).default({})),
  entry('toxic.latency', z.strictObject({ ...toxicCommon, latency: ms, jitter: ms.default(0) })),
  entry(
    'toxic.bandwidth',
    z.strictObject({ ...toxicCommon, rate: z.number().min(0).describe('a rate in KB/s (a number ≥ 0)') }),
  ),
  entry('toxic.slow_close', z.strictObject({ ...toxicCommon, delay: ms })),
  entry('toxic.timeout', z.strictObject({ ...toxicCommon, timeout: ms })),
  entry('toxic.reset_peer', z.strictObject({ ...toxicCommon, timeout: ms.default(0) })),
  entry(
    'toxic.slicer',
    z.strictObject({
      ...toxicCommon,
      average_size: z.number().int().min(1).describe('bytes per slice (an integer ≥ 1)'),
      size_variation: z.number().int().min(0).default(0),
      /** Microseconds between slices, as Toxiproxy takes it. */
      delay: z.number().int().min(0).default(0).describe('microseconds between slices (an integer ≥ 0)'),
    }),
  ),
  entry('toxic.limit_data', z.strictObject({ ...toxicCommon, bytes: z.number().int().min(0) })),
  entry('toxic.down', z.strictObject({ ...toxicCommon })),
  entry(
    'nginx.buffering',
    z.strictObject({ enabled: z.boolean().describe('`true` (buffer responses: the fault) or `false`') }),
  ),
]);

export type TimelineEntry = z.output<typeof TimelineEntrySchema>;
export type FaultAction = TimelineEntry['action'];
export type TimelineEntryOf<A extends FaultAction> = Extract<TimelineEntry, { action: A }>;

export const FAULT_ACTIONS = TimelineEntrySchema.options.map((o) => o.shape.action.value) as FaultAction[];

export interface FaultFacts {
  /** How the fault is undone, in words; undefined when it needs no inverse. */
  inverse: string | undefined;
  /** Takes Open WebUI replicas out of service (counts against `safety.maxUnavailable`). */
  replicas: boolean;
  /** Stops processes or rewrites config (refused unless the target's `safety.allowDestructive`). */
  destructive: boolean;
  /** The target section the fault needs. */
  needs: 'replicas' | 'redis' | 'toxiproxy' | 'nginx';
  /** A `for:` window makes sense (the fault lasts and is reverted when it ends). */
  lasting: boolean;
}

export const FAULT_FACTS: Record<FaultAction, FaultFacts> = {
  'replica.kill': {
    inverse: 'start the replica again',
    replicas: true,
    destructive: true,
    needs: 'replicas',
    lasting: true,
  },
  'replica.stop': {
    inverse: 'start the replica again',
    replicas: true,
    destructive: true,
    needs: 'replicas',
    lasting: true,
  },
  'replica.pause': {
    inverse: 'unpause the replica',
    replicas: true,
    destructive: true,
    needs: 'replicas',
    lasting: true,
  },
  'replica.rolling-restart': {
    inverse: undefined,
    replicas: true,
    destructive: true,
    needs: 'replicas',
    lasting: false,
  },
  'redis.failover': {
    inverse: undefined,
    replicas: false,
    destructive: true,
    needs: 'redis',
    lasting: false,
  },
  'redis.kill-master': {
    inverse: 'restart the old master (it rejoins as a replica)',
    replicas: false,
    destructive: true,
    needs: 'redis',
    lasting: true,
  },
  'toxic.latency': {
    inverse: 'remove the toxic',
    replicas: false,
    destructive: false,
    needs: 'toxiproxy',
    lasting: true,
  },
  'toxic.bandwidth': {
    inverse: 'remove the toxic',
    replicas: false,
    destructive: false,
    needs: 'toxiproxy',
    lasting: true,
  },
  'toxic.slow_close': {
    inverse: 'remove the toxic',
    replicas: false,
    destructive: false,
    needs: 'toxiproxy',
    lasting: true,
  },
  'toxic.timeout': {
    inverse: 'remove the toxic',
    replicas: false,
    destructive: false,
    needs: 'toxiproxy',
    lasting: true,
  },
  'toxic.reset_peer': {
    inverse: 'remove the toxic',
    replicas: false,
    destructive: false,
    needs: 'toxiproxy',
    lasting: true,
  },
  'toxic.slicer': {
    inverse: 'remove the toxic',
    replicas: false,
    destructive: false,
    needs: 'toxiproxy',
    lasting: true,
  },
  'toxic.limit_data': {
    inverse: 'remove the toxic',
    replicas: false,
    destructive: false,
    needs: 'toxiproxy',
    lasting: true,
  },
  'toxic.down': {
    inverse: 'enable the proxy again',
    replicas: false,
    destructive: false,
    needs: 'toxiproxy',
    lasting: true,
  },
  'nginx.buffering': {
    inverse: 'restore the original nginx config and reload',
    replicas: false,
    destructive: true,
    needs: 'nginx',
    lasting: true,
  },
};

/** Replicas the entry keeps out of service at once (0 for faults that leave replicas alone). */
export function replicasTaken(entry: TimelineEntry): number {
  switch (entry.action) {
    case 'replica.kill':
    case 'replica.stop':
    case 'replica.pause':
      return entry.params.count;
    case 'replica.rolling-restart':
      return 1;
    default:
      return 0;
  }
}

/** One sentence fragment describing what the entry injects, e.g. "latency 500 ms ±50 ms on proxy `llm` (downstream)". */
export function describeFault(entry: TimelineEntry): string {
  const toxicTail = (p: { proxy: string; stream: string; toxicity: number }): string =>
    ` on proxy \`${p.proxy}\` (${p.stream}${p.toxicity < 1 ? `, ${Math.round(p.toxicity * 100)}% of connections` : ''})`;
  const replica = (p: { replica: string; count: number }): string =>
    p.replica === 'random'
      ? `${p.count} random replica${p.count === 1 ? '' : 's'}`
      : `replica \`${p.replica}\``;
  switch (entry.action) {
    case 'replica.kill':
      return `kill ${replica(entry.params)} (SIGKILL)`;
    case 'replica.stop':
      return `stop ${replica(entry.params)}`;
    case 'replica.pause':
      return `pause ${replica(entry.params)} (frozen, connections stay open)`;
    case 'replica.rolling-restart':
      return `restart every replica one at a time${entry.params.interval !== undefined ? `, ${fmt(entry.params.interval)} apart` : ''}`;
    case 'redis.failover':
      return `Sentinel failover of the Redis master${entry.params.timeout !== undefined ? ` (wait up to ${fmt(entry.params.timeout)} for the new master)` : ''}`;
    case 'redis.kill-master':
      return `kill the Redis master${entry.params.restartAfter !== undefined ? ` and restart it after ${fmt(entry.params.restartAfter)}` : ''}`;
    case 'toxic.latency':
      return `latency ${fmt(entry.params.latency)}${entry.params.jitter ? ` ±${fmt(entry.params.jitter)}` : ''}${toxicTail(entry.params)}`;
    case 'toxic.bandwidth':
      return `bandwidth limit ${entry.params.rate} KB/s${toxicTail(entry.params)}`;
    case 'toxic.slow_close':
      return `close delayed by ${fmt(entry.params.delay)}${toxicTail(entry.params)}`;
    case 'toxic.timeout':
      return `${entry.params.timeout === 0 ? 'stalled connections (no data, never closed)' : `connections closed after ${fmt(entry.params.timeout)} without data`}${toxicTail(entry.params)}`;
    case 'toxic.reset_peer':
      return `connections reset (TCP RST)${entry.params.timeout ? ` after ${fmt(entry.params.timeout)}` : ''}${toxicTail(entry.params)}`;
    case 'toxic.slicer':
      return `data sliced into ~${entry.params.average_size}-byte pieces${entry.params.delay ? ` ${entry.params.delay} µs apart` : ''}${toxicTail(entry.params)}`;
    case 'toxic.limit_data':
      return `connections closed after ${entry.params.bytes} bytes${toxicTail(entry.params)}`;
    case 'toxic.down':
      return `proxy \`${entry.params.proxy}\` disabled (connections refused)`;
    case 'nginx.buffering':
      return `nginx \`proxy_buffering ${entry.params.enabled ? 'on' : 'off'}\``;
  }
}

/** Timeline positions read best in one unit: `500 ms`, `40 s`, `120 s`. */
function fmt(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(1)} s`;
}

export { fmt as formatMs };
