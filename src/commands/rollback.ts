// `owui-chaos rollback [--run DIR] [--force] [--forget RUN]`: replays the reverts crashed or killed
// runs left behind and waits until the system is back. The work is in src/app/rollback-runs.ts.

import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { durationFlag } from '../cli/flags.js';
import { exitCodeHelp } from '../core/errors.js';
import { forgetRun, rollbackRuns, type RollbackSummary } from '../app/rollback-runs.js';

export default class Rollback extends BaseCommand {
  static override summary = 'Revert every fault a crashed or interrupted run left injected';
  static override description = `Finds every run with faults still recorded as injected (the run index under OWUI_CHAOS_HOME, whatever --out said), leaves alone runs whose process still runs (they revert their own faults; --force overrides), replays the rest most recent first under the target's lease, and finishes only when the system is back: replicas healthy, one master with a replica linked and all Sentinels agreeing, no toxics of the run, nginx config bytes identical. Exit 14 when a revert fails or the system is not back within --wait (it stays recorded, so the next rollback retries it); exit 4 when a run was left alone because it still runs. A run whose lab is gone is closed. \`--forget RUN\` closes a run whose target is gone for good, and lists what it could not verify. ${exitCodeHelp(['ok', 'usage', 'invalidInput', 'preflightFailed', 'rollbackFailed'])}`;
  static override examples = [
    '<%= config.bin %> rollback',
    '<%= config.bin %> rollback --run .owui-chaos/runs/2026-11-21T13-00-00-000Z-failover',
    '<%= config.bin %> rollback --forget 2026-11-21T13-00-00-000Z-failover',
  ];

  static override flags = {
    run: Flags.string({ description: 'one run directory (default: every run with faults still injected)' }),
    force: Flags.boolean({ description: 'revert a run even though its process still runs' }),
    'break-lease': Flags.boolean({ description: "take the target's lease from a holder that is gone" }),
    forget: Flags.string({
      description: 'close a run (id or directory) whose target is gone, without reverting',
      exclusive: ['run', 'force'],
    }),
    wait: durationFlag({
      description: 'how long to wait for the system to be back (a bare number is seconds)',
      default: '60s',
    }),
  };

  async run(): Promise<RollbackSummary | { runId: string; runDir: string; unverified: string[] }> {
    const { flags } = await this.parse(Rollback);
    const say = (line: string): void => this.say(line);
    if (flags.forget !== undefined) return forgetRun(flags.forget, { say });
    const summary = await rollbackRuns({
      ...(flags.run !== undefined ? { runDir: flags.run } : {}),
      force: flags.force,
      breakLease: flags['break-lease'],
      waitMs: flags.wait,
      say,
    });
    if (summary.exitCode !== 0) process.exitCode = summary.exitCode;
    return summary;
  }
}
