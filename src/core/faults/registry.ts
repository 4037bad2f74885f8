// The fault catalogue (DESIGN §6): every fault kind, one line each. A kind is one module in this
// folder (its entry schemas, facts, descriptions, window and preparer); adding one means a new
// file and a line in each list below. The tables are typed by action, so an action without its
// facts, description, window or preparer does not compile.

import { z } from 'zod';
import {
  type ActionSpec,
  type FaultFacts,
  type PrepareContext,
  type PreparedFault,
  type FaultWarning,
} from './kind.js';
import * as nginx from './nginx.js';
import * as redis from './redis.js';
import * as replica from './replica.js';
import * as toxic from './toxic.js';

export const TimelineEntrySchema = z.discriminatedUnion('action', [
  ...replica.entries,
  ...redis.entries,
  ...toxic.entries,
  ...nginx.entries,
]);

export type TimelineEntry = z.output<typeof TimelineEntrySchema>;
export type FaultAction = TimelineEntry['action'];
export type TimelineEntryOf<A extends FaultAction> = Extract<TimelineEntry, { action: A }>;

/** One ActionSpec per action of the catalogue. */
export type FaultActionTable = { [A in FaultAction]: ActionSpec<TimelineEntryOf<A>> };

export const FAULT_ACTION_TABLE: FaultActionTable = {
  ...replica.actions,
  ...redis.actions,
  ...toxic.actions,
  ...nginx.actions,
};

export const FAULT_ACTIONS = TimelineEntrySchema.options.map((o) => o.shape.action.value) as FaultAction[];

export const FAULT_FACTS = Object.fromEntries(
  FAULT_ACTIONS.map((a) => [a, FAULT_ACTION_TABLE[a].facts]),
) as Record<FaultAction, FaultFacts>;

function specOf<A extends FaultAction>(action: A): ActionSpec<TimelineEntryOf<A>> {
  return FAULT_ACTION_TABLE[action];
}

/** One sentence fragment describing what the entry injects, e.g. "latency 500 ms ±50 ms on proxy `llm` (downstream)". */
export function describeFault(entry: TimelineEntry): string {
  return specOf(entry.action).describe(entry as never);
}

/**
 * How long the fault lasts once injected (ms): its `for`, or what the kind takes for it (a master
 * kill's `restartAfter`); undefined when it lasts until the end of the run or is instantaneous.
 */
export function faultWindow(entry: TimelineEntry): number | undefined {
  return specOf(entry.action).window(entry as never);
}

/**
 * Resolves the entry to concrete targets and its inverse, touching nothing. What the preparer
 * noticed on the way (`ctx.warn`) comes back as the prepared fault's `warnings`.
 */
export async function prepareFault(
  entry: TimelineEntry,
  ctx: Omit<PrepareContext, 'warn'>,
): Promise<PreparedFault> {
  const warnings: FaultWarning[] = [];
  const prepared = await specOf(entry.action).prepare(entry as never, {
    ...ctx,
    warn: (w) => warnings.push(w),
  });
  return warnings.length > 0 ? { ...prepared, warnings } : prepared;
}

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
