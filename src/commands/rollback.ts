// `owui-chaos rollback [--run DIR]`: replays the reverts a crashed or killed run left behind.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { LAB_TARGET, loadTarget } from '../core/config/target.js';
import { ExitCode, UsageError } from '../core/errors.js';
import { RevertStack } from '../core/runner/revert-stack.js';
import { replayReverts, type RollbackReport } from '../core/runner/rollback.js';
import { driversForTarget } from '../app/drivers.js';
import { DriverFaultInjector } from '../app/fault-injector.js';

interface RunInfo {
  runId: string;
  target: string;
  labStateDir?: string;
  targetFile?: string;
}

export default class Rollback extends BaseCommand {
  static override summary = 'Revert every fault a crashed or interrupted run left injected';
  static override description =
    'Reads the revert stack a run persisted before each injection (reverts.json in the run directory) and undoes every fault still recorded as injected, most recent first. Idempotent: a second rollback finds nothing to do. Exit 14 when a revert fails (it stays recorded, so the next rollback retries it).';
  static override examples = [
    '<%= config.bin %> rollback',
    '<%= config.bin %> rollback --run .owui-chaos/runs/2026-11-21T13-00-00-000Z-failover',
  ];

  static override flags = {
    run: Flags.string({ description: 'run directory (default: the newest run with faults still injected)' }),
  };

  async run(): Promise<RollbackReport & { runDir: string }> {
    const { flags } = await this.parse(Rollback);
    const runDir = flags.run
      ? resolve(flags.run)
      : newestRunWithReverts(join(process.env.OWUI_CHAOS_HOME ?? '.owui-chaos', 'runs'));
    if (!runDir) {
      this.say('Nothing to roll back: no run directory with a revert stack was found.');
      return { runDir: '', runId: '', reverted: [], failed: [], alreadyClean: true };
    }
    const stackFile = join(runDir, 'reverts.json');
    if (!existsSync(stackFile)) {
      throw new UsageError(`${runDir} has no reverts.json: it is not a run directory`, {
        code: 'NOT_A_RUN_DIR',
        suggestions: ['owui-chaos rollback --run <run dir printed by owui-chaos run>'],
      });
    }
    const stack = RevertStack.load(stackFile);
    if (stack.outstanding().length === 0) {
      this.say(`Nothing to roll back in ${runDir}: every fault was already reverted.`);
      return { runDir, runId: stack.runId, reverted: [], failed: [], alreadyClean: true };
    }
    const info = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as RunInfo;
    const { target } = await loadTarget(info.targetFile ?? LAB_TARGET, info.targetFile ? {} : {});
    const drivers = driversForTarget(target, info.labStateDir ? { labStateDir: info.labStateDir } : {});
    const injector = new DriverFaultInjector(drivers);
    try {
      const report = await replayReverts(stack, (record) => injector.revert(record), {
        onEntry: (entry, phase, error) =>
          this.say(
            phase === 'start'
              ? `reverting ${entry.name}: ${entry.description}`
              : phase === 'done'
                ? `  reverted ${entry.name}`
                : `  FAILED ${entry.name}: ${error}`,
          ),
      });
      if (report.failed.length > 0) process.exitCode = ExitCode.rollbackFailed;
      this.say(
        report.failed.length > 0
          ? `${report.failed.length} revert(s) failed; run \`owui-chaos rollback --run ${runDir}\` again once fixed.`
          : `Rolled back ${report.reverted.length} fault(s) of run ${report.runId}.`,
      );
      return { ...report, runDir };
    } finally {
      await drivers.close();
    }
  }
}

function newestRunWithReverts(root: string): string | undefined {
  if (!existsSync(root)) return undefined;
  const dirs = readdirSync(root)
    .map((d) => join(root, d))
    .filter((d) => existsSync(join(d, 'reverts.json')))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return dirs.find((d) => RevertStack.load(join(d, 'reverts.json')).outstanding().length > 0) ?? dirs[0];
}
