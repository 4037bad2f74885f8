// `owui-chaos report show <run-dir|results.json>` re-renders a stored run; `report show --samples
// a.ndjson b.ndjson …` reports directly on sample files (e.g. from several k6 runners), as one
// `all` phase unless `--journal` gives the fault windows. Thin: parse, call core/report, print.
// Exit 10 when an SLO is breached, so CI can gate on either form.

import { existsSync } from 'node:fs';
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { defaultSlosFile } from '../../cli/paths.js';
import { durationFlag } from '../../cli/flags.js';
import { readJournalFile } from '../../core/journal-file.js';
import { loadSloDefaults } from '../../core/config/slo-defaults.js';
import { UsageError } from '../../core/errors.js';
import { evaluateRun } from '../../core/report/evaluate.js';
import type { RunResults } from '../../core/report/results.js';
import { renderTerminalSummary } from '../../core/report/terminal.js';
import { readResults, writeReports, type ReportPaths } from '../../core/report/write.js';
import { loadSloFile } from '../../core/slo/load.js';

export default class ReportShow extends BaseCommand {
  static override summary = 'Show a run’s SLO verdicts, or report directly on sample files';
  static override description =
    'Re-renders the terminal summary (and, with --out, results.json, report.html and junit.xml) from a run directory or results.json. With --samples, evaluates NDJSON sample files (k6 `--out json` shape, several files merge into one set of histograms) against the default SLOs or --slos. Exits 10 when an SLO is breached.';
  static override examples = [
    '<%= config.bin %> report show runs/2026-01-01T12-00-00-failover',
    '<%= config.bin %> report show runs/latest/results.json --json',
    '<%= config.bin %> report show --samples k6-runner-0.ndjson k6-runner-1.ndjson --slos my-slos.yaml --out report/',
  ];

  static override args = {
    run: Args.string({ required: false, description: 'run directory, or a results.json file' }),
  };

  static override flags = {
    samples: Flags.string({
      multiple: true,
      description: 'NDJSON sample files to report on (instead of a stored run)',
    }),
    slos: Flags.string({
      description: 'YAML file with SLOs (a list, or `slos:`); they override the defaults by id',
    }),
    journal: Flags.string({
      description: 'journal.json of the run, to phase the samples by its fault windows',
    }),
    'no-default-slos': Flags.boolean({
      description: 'do not apply experiments/slos/default.yaml',
      default: false,
    }),
    'recovery-window': durationFlag({
      description: 'window in which every SLO must hold for recovery_time',
      default: '10s',
    }),
    color: Flags.boolean({ description: 'colour the verdicts (ANSI)', default: false }),
  };

  async run(): Promise<RunResults> {
    const { args, flags } = await this.parse(ReportShow);
    const sampleFiles = flags.samples ?? [];
    if (sampleFiles.length > 0 && args.run) {
      throw new UsageError('give either a run (directory or results.json) or --samples, not both', {
        code: 'USAGE',
        suggestions: [
          'owui-chaos report show runs/<id>',
          'owui-chaos report show --samples a.ndjson b.ndjson',
        ],
      });
    }
    let results: RunResults;
    if (sampleFiles.length > 0) {
      const defaultSlos =
        flags['no-default-slos'] || !existsSync(defaultSlosFile())
          ? []
          : await loadSloDefaults(defaultSlosFile(), process.env);
      results = await evaluateRun({
        sampleFiles,
        journal: flags.journal ? await readJournalFile(flags.journal) : null,
        slos: flags.slos ? await loadSloFile(flags.slos) : [],
        defaultSlos,
        recoveryWindowMs: flags['recovery-window'],
      });
    } else if (args.run) {
      results = await readResults(args.run);
    } else {
      throw new UsageError('nothing to show: give a run directory / results.json, or --samples FILE…', {
        code: 'USAGE',
        suggestions: ['owui-chaos report show runs/<id>', 'owui-chaos report show --samples samples.ndjson'],
      });
    }
    let paths: ReportPaths | undefined;
    if (flags.out) paths = await writeReports(results, flags.out);
    this.say(renderTerminalSummary(results, { color: flags.color, ...(paths ? { paths } : {}) }).trimEnd());
    // The stored outcome (a run that stopped early keeps its exit code), the same one its files carry.
    process.exitCode = results.exitCode;
    return results;
  }
}
