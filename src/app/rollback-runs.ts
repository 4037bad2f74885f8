// The `owui-chaos rollback` use case (docs/safety.md): find every run with reverts still to do (the
// run index under OWUI_CHAOS_HOME, whatever `--out` said, plus run directories under
// `<home>/runs`), leave alone any run whose process still lives (it reverts its own faults; `--force`
// overrides), replay the reverts of the others under the target's lease, and finish only when
// the system is back (src/app/safety/system-back.ts) — or say what is not back (exit 14).
// A run whose lab is gone (stopped, or started again since) has nothing left injected: its entries
// are closed and the message says so. `forgetRun` closes the entries of a run whose target is gone.
// Nothing here prints: lines go to `say`.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LAB_TARGET, loadTarget } from '../core/config/target.js';
import { ExitCode, OwuiChaosError, UsageError, errorMessage } from '../core/errors.js';
import { RevertStack, type RevertEntry } from '../core/runner/revert-stack.js';
import { replayReverts } from '../core/runner/rollback.js';
import { describeRevert } from '../drivers/revert-records.js';
import { readLabState } from '../infra/lab-state.js';
import { driversForTarget } from './drivers.js';
import { DriverFaultInjector } from './fault-injector.js';
import { acquireLease, describeHolder, labLeaseStore, type Lease } from './safety/lease.js';
import { liveness } from './safety/process-identity.js';
import { leaseStoreFor } from './safety/run-guard.js';
import {
  chaosHome,
  listIndex,
  pendingReverts,
  readIndexEntry,
  updateIndexEntry,
  type RunIndexEntry,
} from './safety/run-index.js';
import { waitUntilBack } from './safety/system-back.js';

interface RunInfo {
  runId: string;
  target: string;
  labStateDir?: string;
  targetFile?: string;
  pid?: number;
}

export interface RollbackRequest {
  /** A run directory; default: every run with pending reverts. */
  runDir?: string;
  force?: boolean;
  breakLease?: boolean;
  /** How long to wait for the system to be back after the reverts. Default 60 s. */
  waitMs?: number;
  env?: NodeJS.ProcessEnv;
  say: (line: string) => void;
}

export interface RunRollback {
  runId: string;
  runDir: string;
  outcome: 'reverted' | 'already-clean' | 'refused-alive' | 'closed-target-gone' | 'failed' | 'not-back';
  reverted: string[];
  failed: string[];
  notBack: string[];
  unverified: string[];
}

export interface RollbackSummary {
  runs: RunRollback[];
  exitCode: number;
  /** For `--json` users of the old shape: totals over all runs. */
  reverted: number;
  alreadyClean: boolean;
}

export async function rollbackRuns(req: RollbackRequest): Promise<RollbackSummary> {
  const home = chaosHome(req.env);
  const dirs = req.runDir ? [resolve(req.runDir)] : candidates(home);
  if (req.runDir && !existsSync(join(dirs[0]!, 'reverts.json'))) {
    throw new UsageError(`${dirs[0]} has no reverts.json: it is not a run directory`, {
      code: 'NOT_A_RUN_DIR',
      suggestions: ['owui-chaos rollback   # finds every run with faults still injected'],
    });
  }
  const runs: RunRollback[] = [];
  if (dirs.length === 0) req.say('Nothing to roll back: no run has faults recorded as still injected.');
  for (const dir of dirs) runs.push(await rollbackOne(home, dir, req));
  if (!req.runDir) closeDeadRuns(home, req.say);
  const failed = runs.some((r) => r.outcome === 'failed' || r.outcome === 'not-back');
  const refused = runs.some((r) => r.outcome === 'refused-alive');
  return {
    runs,
    exitCode: failed ? ExitCode.rollbackFailed : refused ? ExitCode.preflightFailed : ExitCode.ok,
    reverted: runs.reduce((n, r) => n + r.reverted.length, 0),
    alreadyClean: runs.every((r) => r.outcome === 'already-clean'),
  };
}

/** Run dirs with pending reverts: the index first, then `<home>/runs/*` (runs of older versions). */
function candidates(home: string): string[] {
  const seen = new Set<string>();
  for (const e of listIndex(home))
    if (e.state !== 'forgotten' && pendingReverts(e.runDir) > 0) seen.add(resolve(e.runDir));
  const root = join(home, 'runs');
  if (existsSync(root)) {
    for (const d of readdirSync(root)) {
      const dir = resolve(root, d);
      if (pendingReverts(dir) > 0) seen.add(dir);
    }
  }
  return [...seen];
}

function indexEntryFor(home: string, runDir: string, runId: string): RunIndexEntry | undefined {
  return readIndexEntry(home, runId) ?? listIndex(home).find((e) => resolve(e.runDir) === runDir);
}

async function rollbackOne(home: string, runDir: string, req: RollbackRequest): Promise<RunRollback> {
  const say = req.say;
  const stack = RevertStack.load(join(runDir, 'reverts.json'));
  const result: RunRollback = {
    runId: stack.runId,
    runDir,
    outcome: 'already-clean',
    reverted: [],
    failed: [],
    notBack: [],
    unverified: [],
  };
  const outstanding = stack.outstanding();
  if (outstanding.length === 0) {
    say(`Nothing to roll back in ${runDir}: every fault was already reverted.`);
    return result;
  }
  const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
  const entry = indexEntryFor(home, runDir, stack.runId);
  const who = entry ?? (info.pid !== undefined ? { host: hostname(), pid: info.pid } : undefined);
  const state = who ? liveness(who) : 'gone';
  if (state !== 'gone' && !req.force) {
    say(
      `Not touching run ${stack.runId}: its process is ${state === 'alive' ? 'still running' : state} (pid ${who?.pid}${entry ? ` on ${entry.host}` : ''}); it reverts its own ${outstanding.length} fault(s) when it ends. \`--force\` reverts them anyway.`,
    );
    return { ...result, outcome: 'refused-alive' };
  }

  // A lab that is gone (stopped, or started anew since the run) took every fault with it.
  const labDir = info.labStateDir ?? entry?.labStateDir;
  if (labDir) {
    const lab = readLabState(labDir);
    const restarted = lab && entry?.labCreatedAt !== undefined && lab.createdAt !== entry.labCreatedAt;
    if (!lab || restarted) {
      const why = !lab
        ? `the lab ${labDir} is down (no state.json): its processes were stopped, so nothing this run injected can still be in place`
        : `the lab ${labDir} was started again since the run (${lab.createdAt}); the faults went with the old one`;
      result.unverified = outstanding.map((e) => describeEntry(e));
      for (const e of outstanding) stack.mark(e, 'forgotten', Date.now(), `closed by rollback: ${why}`);
      if (entry) updateIndexEntry(home, entry.runId, { state: 'ended', endedAt: new Date().toISOString() });
      say(
        `Closed run ${stack.runId}: ${why}. Not verified (nothing left to check): ${result.unverified.join('; ')}.`,
      );
      return { ...result, outcome: 'closed-target-gone' };
    }
  }

  const targetFile = labDir ? readLabState(labDir)?.targetFile : (info.targetFile ?? entry?.targetFile);
  let target;
  try {
    target = (
      await loadTarget(labDir ? LAB_TARGET : (targetFile ?? LAB_TARGET), {
        env: req.env ?? process.env,
        ...(labDir && targetFile ? { labTargetFile: targetFile } : {}),
      })
    ).target;
  } catch (err) {
    throw new OwuiChaosError(
      `Cannot load the target of run ${stack.runId} (${targetFile ?? info.target}): ${errorMessage(err)}`,
      {
        code: 'ROLLBACK_TARGET_GONE',
        exitCode: ExitCode.rollbackFailed,
        cause: err,
        suggestions: [`owui-chaos rollback --forget ${stack.runId}   # if the target is gone for good`],
      },
    );
  }

  // The lease: a dead run's lease is taken over; one held by a live run (only with --force) is not.
  let lease: Lease | undefined;
  try {
    lease = await acquireLease({
      store: leaseStoreFor({
        target,
        ...(labDir ? { labStateDir: labDir } : {}),
        env: req.env ?? process.env,
      }),
      runId: stack.runId,
      command: 'rollback',
      target: target.name === 'lab' && labDir ? `lab ${labDir}` : target.name,
      takeOverFrom: stack.runId,
      ...(req.breakLease ? { breakLease: true } : {}),
      onNotice: say,
    });
  } catch (err) {
    if (!(req.force && err instanceof OwuiChaosError && err.code === 'LEASE_HELD')) throw err;
    say(`--force: reverting without the lease (${err.message})`);
  }
  if (lease) say(`lease: ${describeHolder(lease.holder)} holds ${lease.store.where}`);
  const drivers = driversForTarget(target, labDir ? { labStateDir: labDir } : {});
  const injector = new DriverFaultInjector(drivers, { runId: stack.runId });
  try {
    const report = await replayReverts(stack, (record) => injector.revert(record), {
      onEntry: (e, phase, error) =>
        say(
          phase === 'start'
            ? `reverting ${e.name}: ${e.description}`
            : phase === 'done'
              ? `  reverted ${e.name}`
              : `  FAILED ${e.name}: ${error}`,
        ),
    });
    result.reverted = report.reverted.map((e) => e.name);
    result.failed = report.failed.map((e) => `${e.name}: ${e.error}`);
    if (report.failed.length > 0) {
      say(
        `${report.failed.length} revert(s) failed; run \`owui-chaos rollback --run ${runDir}\` again once fixed.`,
      );
      return { ...result, outcome: 'failed' };
    }
    const waitMs = req.waitMs ?? 60_000;
    say(`waiting (up to ${Math.round(waitMs / 1000)} s) until the system is back…`);
    const problems = await waitUntilBack(stack.entries, drivers, stack.runId, {
      budgetMs: waitMs,
      onWaiting: (p) => say(`  not back yet: ${p.join('; ')}`),
    });
    if (problems.length > 0) {
      result.notBack = problems;
      say(
        `Run ${stack.runId}: reverted ${report.reverted.length} fault(s), but the system is NOT back: ${problems.join('; ')}`,
      );
      return { ...result, outcome: 'not-back' };
    }
    if (entry) updateIndexEntry(home, entry.runId, { state: 'ended', endedAt: new Date().toISOString() });
    say(`Rolled back ${report.reverted.length} fault(s) of run ${report.runId}; the system is back.`);
    return { ...result, outcome: 'reverted' };
  } finally {
    await drivers.close();
    await lease?.release();
  }
}

function describeEntry(e: RevertEntry): string {
  return `${e.name} (${e.record ? describeRevert(e.record) : e.action})`;
}

/**
 * `rollback --forget ENTRY` (a run id or run dir): closes the run's pending entries without a
 * revert, for a target that is gone; says what it could not verify.
 */
export function forgetRun(
  ref: string,
  req: Pick<RollbackRequest, 'env' | 'say'>,
): { runId: string; runDir: string; unverified: string[] } {
  const home = chaosHome(req.env);
  const byId = readIndexEntry(home, ref);
  const runDir = byId ? resolve(byId.runDir) : resolve(ref);
  if (!existsSync(join(runDir, 'reverts.json'))) {
    throw new UsageError(`\`${ref}\` is neither a run id in the index (${home}) nor a run directory`, {
      code: 'RUN_NOT_FOUND',
      suggestions: ['owui-chaos rollback   # lists the runs with pending reverts'],
    });
  }
  const stack = RevertStack.load(join(runDir, 'reverts.json'));
  const outstanding = stack.outstanding();
  const unverified = outstanding.map((e) => describeEntry(e));
  for (const e of outstanding)
    stack.mark(e, 'forgotten', Date.now(), 'closed by `rollback --forget`: not verified');
  const entry = indexEntryFor(home, runDir, stack.runId);
  if (entry)
    updateIndexEntry(home, entry.runId, {
      state: 'forgotten',
      forgotten: { at: new Date().toISOString(), reason: 'rollback --forget', unverified },
    });
  req.say(
    unverified.length === 0
      ? `Run ${stack.runId} had nothing pending; its index entry is closed.`
      : `Forgot run ${stack.runId} without reverting. NOT verified — check by hand that these are undone:\n${unverified.map((u) => `  - ${u}`).join('\n')}`,
  );
  return { runId: stack.runId, runDir, unverified };
}

/**
 * Runs the index still lists as running whose process is gone and that left nothing to revert
 * (killed before their first fault, or after their last revert): their entry is closed and the lab
 * lease they left is released, so the next run is not refused by a holder that no longer exists.
 */
function closeDeadRuns(home: string, say: (line: string) => void): void {
  for (const e of listIndex(home)) {
    if (e.state !== 'running' || liveness(e) !== 'gone' || pendingReverts(e.runDir) > 0) continue;
    updateIndexEntry(home, e.runId, { state: 'ended', endedAt: new Date().toISOString() });
    if (!e.labStateDir) continue;
    const store = labLeaseStore(e.labStateDir);
    const holder = store.read();
    if (holder && holder.runId === e.runId && liveness(holder) === 'gone') {
      void store.breakLease(holder);
      say(
        `Released the lease run ${e.runId} left on ${e.labStateDir} (its process is gone; nothing was left to revert).`,
      );
    }
  }
}
