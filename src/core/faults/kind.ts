// What every fault kind module (src/core/faults/<kind>.ts) is made of: timeline entry schemas,
// the facts checks and the plan need, a description, how long the fault lasts, and a preparer
// that resolves the fault to concrete targets and knows its inverse BEFORE anything is touched.
// Preparers reach the world only through the ports of src/core/ports.ts.

import { z } from 'zod';
import { DurationSchema, PositiveDurationSchema } from '../config/duration.js';
import type { NginxDriver, ProxyTraffic, ReplicaDriver, SentinelDriver, ToxiproxyDriver } from '../ports.js';
import type { RevertRecord } from './revert-record.js';

export const NameSchema = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: 'is not a valid name; use letters, digits, `.`, `_` or `-` (e.g. `slow-llm`)',
  })
  .describe('a name such as `slow-llm` (letters, digits, `.`, `_`, `-`)');

/** One timeline entry shape: `{ name, at, for?, action, params, description? }`. */
export function entrySchema<A extends string, P extends z.ZodType>(action: A, params: P) {
  return z.strictObject({
    name: NameSchema,
    at: DurationSchema,
    for: PositiveDurationSchema.optional(),
    action: z.literal(action),
    params,
    description: z.string().optional(),
  });
}

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

/** The ports a preparer may use; each is resolved only when a fault needs it. */
export interface FaultPorts {
  replicas(): ReplicaDriver;
  sentinel(): SentinelDriver;
  toxiproxy(): ToxiproxyDriver;
  nginx(): NginxDriver;
}

/** Something a preparer noticed that the run must record (a journal event), not swallow. */
export interface FaultWarning {
  code: string;
  message: string;
}

export interface PrepareContext {
  ports: FaultPorts;
  /** Budget for a restarted replica (or Redis node) to answer again during a revert. */
  healthBudgetMs: number;
  /** Picks the replica for `replica: random`. */
  random: () => number;
  sleep: (ms: number) => Promise<void>;
  /** The run that owns what is injected: its id goes into the nginx marker. */
  runId?: string;
  /** The short tag of `runId` that goes into toxic names. */
  runTag?: string;
  warn(warning: FaultWarning): void;
}

/** A fault resolved to concrete targets, with its inverse known BEFORE it is applied. */
export interface PreparedFault {
  description: string;
  /** null for instantaneous faults that need no inverse (e.g. `redis.failover`). */
  record: RevertRecord | null;
  apply(): Promise<unknown>;
  /**
   * The traffic the fault acts on (what passed through its proxy), read when it is applied and
   * again before its revert: a fault no traffic reached tested nothing (docs/faults.md, "A fault
   * that touched no traffic"). undefined result: cannot be read.
   */
  traffic?(): Promise<ProxyTraffic | undefined>;
  /** What preparing noticed (e.g. a Sentinel that did not answer); the runner journals them. */
  warnings?: FaultWarning[];
}

/** Everything the catalogue knows about one action, typed by its entry. */
export interface ActionSpec<E extends { action: string; for?: number | undefined }> {
  facts: FaultFacts;
  /** One sentence fragment describing what the entry injects. */
  describe(entry: E): string;
  /** How long the fault lasts once injected (ms), or undefined: until the end of the run / instantaneous. */
  window(entry: E): number | undefined;
  prepare(entry: E, ctx: PrepareContext): Promise<PreparedFault>;
}

/** One ActionSpec per action of a kind's entries: a missing action is a compile error. */
export type ActionTable<E extends { action: string; for?: number | undefined }> = {
  [A in E['action']]: ActionSpec<Extract<E, { action: A }>>;
};

/** The usual window: the entry's own `for`. */
export function forWindow(entry: { for?: number | undefined }): number | undefined {
  return entry.for;
}

/** Timeline positions read best in one unit: `500 ms`, `40 s`, `120 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${+(ms / 1000).toFixed(1)} s`;
}
