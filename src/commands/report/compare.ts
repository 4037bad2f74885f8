// `owui-chaos report compare <runA> <runB>`: a release gate. Lines up the same metrics and
// phases from both runs' stored HDR histograms and flags regressions of B against A beyond the
// tolerance (relative AND an absolute floor, so noise is not flagged). Exit 10 when one is flagged.

import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { numberFlag, percentFlag } from '../../cli/flags.js';
import { compareResults, type Comparison } from '../../core/report/compare.js';
import { renderComparison } from '../../core/report/terminal.js';
import { readResults } from '../../core/report/write.js';

/** A run may be allowed to be up to 10× slower (a noisy metric); beyond that is a typo. */
const TOLERANCE_MAX_PERCENT = 1000;

export default class ReportCompare extends BaseCommand {
  static override summary = 'Compare two runs and flag regressions (exit 10 when one is flagged)';
  static override description =
    'Recomputes p50/p95/p99 of every latency metric per phase from both runs’ stored histograms, plus the failed-stream share and integrity rates, and flags where the second run (B) is worse than the first (A) by more than the tolerance and the absolute floor.';
  static override examples = [
    '<%= config.bin %> report compare runs/v0.6.0-failover runs/v0.6.1-failover',
    '<%= config.bin %> report compare a/results.json b/results.json --tolerance 5% --json',
  ];

  static override args = {
    runA: Args.string({
      required: true,
      description: 'baseline run (directory or results.json), e.g. the previous release',
    }),
    runB: Args.string({ required: true, description: 'candidate run (directory or results.json)' }),
  };

  static override flags = {
    tolerance: percentFlag({
      description: 'relative change allowed before a regression is flagged (a bare number is percent)',
      default: '10%',
      maxPercent: TOLERANCE_MAX_PERCENT,
    }),
    'floor-ms': numberFlag({
      description: 'absolute change in ms a latency must also exceed',
      default: '5',
      unit: 'ms',
    }),
    color: Flags.boolean({ description: 'colour the regressions (ANSI)', default: false }),
  };

  async run(): Promise<Comparison> {
    const { args, flags } = await this.parse(ReportCompare);
    const [a, b] = await Promise.all([readResults(args.runA), readResults(args.runB)]);
    const comparison = compareResults(
      a,
      b,
      { tolerance: flags.tolerance, floors: { ms: flags['floor-ms'] } },
      { a: args.runA, b: args.runB },
    );
    this.say(renderComparison(comparison, { color: flags.color }).trimEnd());
    process.exitCode = comparison.exitCode;
    return comparison;
  }
}
