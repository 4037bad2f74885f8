// `owui-chaos rollback`: replays, in a new process, the reverts a crashed or killed run left on its
// persisted revert stack. Idempotent: entries already reverted are skipped, so running it twice
// is harmless.

import { errorMessage } from '../errors.js';
import type { RevertRecord } from '../ports.js';
import type { RevertEntry, RevertStack } from './revert-stack.js';

export interface RollbackReport {
  runId: string;
  reverted: Array<Pick<RevertEntry, 'name' | 'action' | 'description'>>;
  failed: Array<Pick<RevertEntry, 'name' | 'action' | 'description'> & { error: string }>;
  alreadyClean: boolean;
}

export async function replayReverts(
  stack: RevertStack,
  revert: (record: RevertRecord) => Promise<void>,
  opts: {
    now?: () => number;
    onEntry?: (entry: RevertEntry, phase: 'start' | 'done' | 'failed', error?: string) => void;
  } = {},
): Promise<RollbackReport> {
  const now = opts.now ?? Date.now;
  const outstanding = stack.outstanding();
  const report: RollbackReport = {
    runId: stack.runId,
    reverted: [],
    failed: [],
    alreadyClean: outstanding.length === 0,
  };
  for (const entry of outstanding) {
    if (!entry.record) continue;
    opts.onEntry?.(entry, 'start');
    try {
      await revert(entry.record);
      stack.mark(entry, 'reverted', now());
      report.reverted.push({ name: entry.name, action: entry.action, description: entry.description });
      opts.onEntry?.(entry, 'done');
    } catch (err) {
      stack.mark(entry, 'failed', now(), errorMessage(err));
      report.failed.push({
        name: entry.name,
        action: entry.action,
        description: entry.description,
        error: errorMessage(err),
      });
      opts.onEntry?.(entry, 'failed', errorMessage(err));
    }
  }
  return report;
}
