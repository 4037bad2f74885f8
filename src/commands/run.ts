// `owui-chaos run <experiment>`: thin — parse flags, wire Ctrl-C, render progress and the verdict.
// The work is in src/app/run-experiment.ts.

import { Args, Flags } from '@oclif/core';
import { createInterface } from 'node:readline/promises';
import { BaseCommand, renderError } from '../cli/base-command.js';
import { progressPrinter } from '../cli/progress.js';
import { prometheusFlag, startPrometheus } from '../cli/prometheus-flag.js';
import { formatDuration } from '../core/clock.js';
import { OwuiChaosError, exitCodeHelp } from '../core/errors.js';
import { durationFlag } from '../cli/flags.js';
import { escapeTerminal } from '../core/terminal-text.js';
import type { LoadProgress } from '../core/ports.js';
import { renderTerminalSummary } from '../core/report/terminal.js';
import type { RunEvent } from '../core/runner/runner.js';
import { runExperimentFromFile, type RunSummary } from '../app/run-experiment.js';

export default class Run extends BaseCommand {
  static override summary = 'Run an experiment: load + faults + SLO verdict';
  static override description = `Runs chat streams and browser clients against the target while the experiment injects and reverts faults, then evaluates the SLOs per phase (baseline / fault / recovery) and writes results.json, report.html and junit.xml into the run directory. Without a target it runs on the local lab, starting it if it is not up. ${exitCodeHelp()}`;
  static override examples = [
    '<%= config.bin %> run failover',
    '<%= config.bin %> run replica-kill --out ./runs/rk-1',
    '<%= config.bin %> run ./my-experiment.yaml --target ./prod-target.yaml --yes',
    '<%= config.bin %> run gameday --dry-run',
  ];

  static override args = {
    experiment: Args.string({
      required: true,
      description: 'experiment file or built-in name (owui-chaos experiment list)',
    }),
  };

  static override flags = {
    target: Flags.string({ description: '`lab` or a target file; overrides the experiment’s `target`' }),
    engine: Flags.string({ description: 'load engine; overrides `load.engine`', options: ['node', 'k6'] }),
    duration: durationFlag({
      description: 'load duration such as `2m` (a bare number is seconds); overrides `load.duration`',
      positive: true,
    }),
    'dry-run': Flags.boolean({ description: 'print the plan and touch nothing' }),
    yes: Flags.boolean({
      char: 'y',
      description: 'do not ask before injecting faults into a non-lab target',
    }),
    'lab-name': Flags.string({ description: 'which lab `lab` means', default: 'default' }),
    'keep-lab': Flags.boolean({ description: 'keep a lab this run started running afterwards' }),
    'allow-long': Flags.boolean({ description: 'allow a load longer than a week' }),
    'break-lease': Flags.boolean({
      description: "take the target's lease from a holder that is gone (never from one that still runs)",
    }),
    workers: Flags.integer({ description: 'Node engine worker threads (default one per core)', min: 0 }),
    'k6-binary': Flags.string({ description: 'k6 executable for `--engine k6` (default: k6 on PATH)' }),
    prometheus: prometheusFlag,
  };

  async run(): Promise<RunSummary> {
    const { args, flags } = await this.parse(Run);
    const quiet = this.jsonEnabled();
    const tty = process.stderr.isTTY === true && !quiet;
    const note = (text: string): void => {
      if (!quiet) process.stderr.write(`${tty ? '\r\x1b[K' : ''}${escapeTerminal(text)}\n`);
    };

    // First Ctrl-C: stop load and timeline, revert everything. Second: stop reverting.
    const interrupt = new AbortController();
    const stopReverting = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => {
      if (!interrupt.signal.aborted) {
        note(
          `\n${signal}: stopping load and reverting every injected fault (press Ctrl-C again to stop reverting)`,
        );
        interrupt.abort(signal);
      } else if (!stopReverting.signal.aborted) {
        note(`${signal} again: not reverting any further; what is still injected is listed below`);
        stopReverting.abort(signal);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const started = Date.now();
    let lastProgress: LoadProgress | undefined;
    let phase = 'baseline';
    const progress = progressPrinter((p) => progressLine(p, phase), { live: !quiet });
    const prometheus = await startPrometheus(flags.prometheus);
    try {
      const summary = await runExperimentFromFile({
        experiment: args.experiment,
        ...(flags.target !== undefined ? { target: flags.target } : {}),
        ...(flags.engine !== undefined ? { engine: flags.engine as 'node' | 'k6' } : {}),
        ...(flags.duration !== undefined ? { duration: `${flags.duration}ms` } : {}),
        ...(flags.out !== undefined ? { outDir: flags.out } : {}),
        ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
        ...(flags['k6-binary'] !== undefined ? { k6Binary: flags['k6-binary'] } : {}),
        dryRun: flags['dry-run'],
        yes: flags.yes,
        labName: flags['lab-name'],
        keepLab: flags['keep-lab'],
        breakLease: flags['break-lease'],
        allowLong: flags['allow-long'],
        onNotice: note,
        confirm: (q) => askYesNo(q),
        interrupt: interrupt.signal,
        stopReverting: stopReverting.signal,
        ...(prometheus ? { sampleSink: prometheus.sampleSink } : {}),
        observer: {
          onEvent: (e) => {
            prometheus?.onRunEvent(e);
            phase = phaseAfter(phase, e);
            const line = describeEvent(e, started);
            if (line) note(line);
          },
          onProgress: (p) => {
            lastProgress = p;
            progress.update(p);
          },
        },
      });
      progress.stop();
      void lastProgress;
      if (!quiet) this.render(summary);
      process.exitCode = summary.exitCode;
      return summary;
    } finally {
      progress.stop();
      await prometheus?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  private render(summary: RunSummary): void {
    if (summary.dryRun) {
      this.log(escapeTerminal(`Plan for \`${summary.experiment.title}\` (${summary.experiment.file}):`));
      this.log(escapeTerminal(summary.plan.text));
      this.log('Dry run: nothing was started, injected or changed.');
      return;
    }
    if (summary.results && summary.reports) {
      this.log(
        renderTerminalSummary(summary.results, {
          color: process.stdout.isTTY === true,
          paths: summary.reports,
        }),
      );
    }
    // The verdict line is part of the summary above (the same outcome results.json and junit.xml
    // carry); without reports (nothing was evaluated) say it here.
    if (!summary.results) this.log(`\n${summary.verdict.toUpperCase()}: exit ${summary.exitCode}`);
    this.log(`\nRun directory: ${summary.runDir}`);
    if (summary.error) {
      // Rollback failures are printed last, always.
      process.stderr.write(
        renderError(
          new OwuiChaosError(summary.error.message, {
            code: summary.error.code,
            exitCode: summary.exitCode as 0,
            suggestions: summary.error.suggestions,
          }),
        ),
      );
    }
    if (summary.stillInjected.length > 0) {
      process.stderr.write(
        escapeTerminal(
          `Still injected:\n${summary.stillInjected.map((e) => `  - ${e.name}: ${e.description}${e.error ? ` (${e.error})` : ''}`).join('\n')}\n`,
        ),
      );
    }
  }
}

function phaseAfter(phase: string, e: RunEvent): string {
  if (e.type === 'inject-done') return `fault:${e.name}`;
  if (e.type === 'revert-done') return 'recovery';
  return phase;
}

function describeEvent(e: RunEvent, started: number): string | undefined {
  const t = `[${formatDuration(Date.now() - started).padStart(7)}]`;
  switch (e.type) {
    case 'load-started':
      return `${t} load started`;
    case 'steady-state':
      return `${t} steady state ${e.verdict.ok ? 'holds' : `BROKEN: ${e.verdict.breaches.join('; ')}`}`;
    case 'inject-start':
      return `${t} inject ${e.name}: ${e.description ?? e.action}`;
    case 'inject-done':
      return `${t} injected ${e.name}`;
    case 'inject-failed':
      return `${t} FAILED to inject ${e.name}: ${e.error}`;
    case 'revert-start':
      return `${t} revert ${e.name}`;
    case 'revert-done':
      return `${t} reverted ${e.name}`;
    case 'revert-failed':
      return `${t} FAILED to revert ${e.name}: ${e.error}`;
    case 'breach':
      return `${t} SLO breached, aborting: ${e.breaches.join('; ')}`;
    case 'interrupted':
      return `${t} interrupted (${e.reason})`;
    case 'load-finished':
      return `${t} load finished${e.error ? ` with an error: ${e.error}` : ''}`;
  }
}

function progressLine(p: LoadProgress, phase: string): string {
  return `  ${formatDuration(p.elapsedMs)} · ${phase} · streams ${p.activeStreams} · sockets ${p.activeSockets} · completed ${p.completed} · errors ${p.errors}${p.ttftP95Ms !== undefined ? ` · ttft p95 ${Math.round(p.ttftP95Ms)} ms` : ''}`;
}

async function askYesNo(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
