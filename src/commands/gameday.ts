// `owui-chaos gameday`: a session of steady load with a live web console to inject faults by hand,
// write notes and watch the SLOs (DESIGN §9). Thin: parse flags, start the session and the
// console (src/app/gameday.ts, src/app/gameday-console.ts), wire Ctrl-C, render events.

import { parseDurationFlag } from '../cli/flags.js';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { attachKeys } from '../cli/gameday-keys.js';
import { formatProgress, progressPrinter } from '../cli/progress.js';
import { prometheusFlag, startPrometheus } from '../cli/prometheus-flag.js';
import { ExitCode, UsageError, ValidationError, errorMessage } from '../core/errors.js';
import { renderTerminalSummary } from '../core/report/terminal.js';
import { escapeTerminal } from '../core/terminal-text.js';
import { startGameday, type GamedayEvent, type GamedaySummary } from '../app/gameday.js';
import { startConsole } from '../app/gameday-console.js';
import { describeLoad, stepLoad } from '../core/gameday/live-load.js';
import { GrafanaAnnotator } from '../app/gameday-annotate.js';

export default class Gameday extends BaseCommand {
  static override summary =
    'A game day: steady load, a live web console to inject faults by hand, notes, reports';
  static override description =
    'Runs steady load (the plan’s `load`) for up to --duration and serves a live console on http://127.0.0.1:PORT with a session token in the URL: charts every second (ttft/itl/e2e percentiles, streams, sockets, completions, errors, reconnects, garbled tokens) with fault windows as bands and notes as markers, the fault catalogue as forms (same validation and safety rules as experiment files), inject/revert and "revert everything", hypothesis/observation notes, the SLO table per phase, and the load changed live (a form, POST /api/load, keys + and - in the terminal; Node engine only). Every injected fault is on the persisted revert stack: Ctrl-C, a crash and `owui-chaos rollback` restore it as for `run`. At the end results.json, report.html and junit.xml are written. With --plan the plan’s timeline also runs inside the session. --json prints events as NDJSON.';
  static override examples = [
    '<%= config.bin %> gameday --duration 1h',
    '<%= config.bin %> gameday --plan gameday --port 8088',
    '<%= config.bin %> gameday --target ./staging.yaml --yes --prometheus 127.0.0.1:9464',
  ];

  static override flags = {
    target: Flags.string({ description: '`lab` or a target file; overrides the plan’s `target`' }),
    'lab-name': Flags.string({ description: 'which lab `lab` means', default: 'default' }),
    plan: Flags.string({
      description:
        'experiment file or built-in name whose load, SLOs and timeline the session runs (default: the built-in `gameday`’s load and SLOs, no timeline)',
    }),
    port: Flags.integer({
      description: 'console port on 127.0.0.1 (0 = a free port)',
      default: 0,
      min: 0,
      max: 65535,
    }),
    duration: Flags.string({ description: 'longest the session lasts (bounds the load)', default: '2h' }),
    yes: Flags.boolean({ char: 'y', description: 'allow injecting faults into a non-lab target' }),
    'keep-lab': Flags.boolean({ description: 'keep a lab this session started running afterwards' }),
    'break-lease': Flags.boolean({
      description: "take the target's lease from a holder that is gone (never from one that still runs)",
    }),
    workers: Flags.integer({ description: 'Node engine worker threads (default one per core)', min: 0 }),
    prometheus: prometheusFlag,
    annotate: Flags.string({
      description:
        'post fault windows and notes as annotations: `grafana` (POST /api/annotations at --grafana-url, token from GRAFANA_TOKEN) or `prometheus` (series on --prometheus /metrics: owui_chaos_fault_active, owui_chaos_notes_total)',
      options: ['grafana', 'prometheus'],
    }),
    'grafana-url': Flags.string({
      description: 'Grafana base URL for --annotate grafana (default: $GRAFANA_URL)',
      env: 'GRAFANA_URL',
    }),
    'grafana-dashboard': Flags.string({
      description:
        'dashboard UID the annotations belong to (default: organization annotations, shown by tag)',
    }),
  };

  /** --json: one event per line (NDJSON); the summary is the last line. */
  protected override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json)}\n`);
  }

  async run(): Promise<Omit<GamedaySummary, 'results'> & { type: 'summary' }> {
    const { flags } = await this.parse(Gameday);
    const json = this.jsonEnabled();
    const progress = progressPrinter((p, extra) => formatProgress(p, extra), { live: !json });
    let prompting = false;
    const note = (text: string): void => progress.note(text);
    const emit = (e: GamedayEvent | Record<string, unknown>): void => {
      if (json) process.stdout.write(`${JSON.stringify(e)}\n`);
    };
    let annotator: GrafanaAnnotator | undefined;
    if (flags.annotate === 'grafana') {
      if (!flags['grafana-url'])
        throw new UsageError('--annotate grafana needs --grafana-url URL (or GRAFANA_URL)', {
          code: 'GRAFANA_URL_MISSING',
          suggestions: [
            'GRAFANA_TOKEN=… owui-chaos gameday --annotate grafana --grafana-url http://127.0.0.1:3000',
          ],
        });
      const token = process.env.GRAFANA_TOKEN;
      annotator = new GrafanaAnnotator({
        url: flags['grafana-url'],
        ...(token ? { token } : {}),
        ...(flags['grafana-dashboard'] ? { dashboardUID: flags['grafana-dashboard'] } : {}),
      });
      note(
        `annotations: fault windows and notes go to ${annotator.where} (${token ? 'token from GRAFANA_TOKEN' : 'no GRAFANA_TOKEN set: unauthenticated'})`,
      );
    }
    if (flags.annotate === 'prometheus' && !flags.prometheus)
      throw new UsageError(
        '--annotate prometheus needs --prometheus 127.0.0.1:PORT (the series are on its /metrics)',
        {
          code: 'ANNOTATE_NEEDS_PROMETHEUS',
          suggestions: ['owui-chaos gameday --prometheus 127.0.0.1:9464 --annotate prometheus'],
        },
      );
    const prometheus = await startPrometheus(flags.prometheus);
    const promAnnotate = flags.annotate === 'prometheus' ? prometheus?.metrics : undefined;
    const session = await startGameday({
      ...(flags.plan !== undefined ? { plan: flags.plan, scripted: true } : {}),
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      labName: flags['lab-name'],
      // A bare number is seconds, as in every command (src/cli/flags.ts).
      duration: `${parseDurationFlag('--duration', flags.duration, { positive: true })}ms`,
      ...(flags.out !== undefined ? { outDir: flags.out } : {}),
      yes: flags.yes,
      keepLab: flags['keep-lab'],
      breakLease: flags['break-lease'],
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      ...(prometheus ? { observers: [(s) => prometheus.metrics.observe(s)] } : {}),
      ...(annotator ? { annotator } : {}),
      onNotice: note,
      onEvent: (e) => {
        if (promAnnotate) {
          if (e.type === 'inject-done') promAnnotate.faultInjected(e.name, e.action);
          if (e.type === 'revert-done') promAnnotate.faultReverted(e.name, e.action);
          if (e.type === 'note') promAnnotate.noted(e.note.kind);
        }
        if (prometheus) {
          if (e.type === 'inject-done' || e.type === 'revert-done' || e.type === 'revert-failed')
            prometheus.onRunEvent({
              type: e.type,
              name: e.name,
              action: e.action,
              ...('error' in e ? { error: e.error } : {}),
            } as never);
        }
        if (e.type === 'progress') {
          if (!json && !prompting)
            progress.update(
              e.progress,
              `${e.injected.length ? `injected: ${e.injected.join(', ')}` : 'nothing injected'}${process.stdin.isTTY ? ' · keys i r n + - q' : ''}`,
            );
          else if (Math.round(e.progress.elapsedMs / 1000) % 10 === 0) emit(e);
          return;
        }
        emit(e);
        const line = describe(e);
        if (line && !json) note(line);
      },
    });
    if (prometheus) prometheus.metrics.testid = session.runId;
    const ui = await startConsole(session, {
      port: flags.port,
      onFinishRequested: () => void session.finish(),
    });
    emit({ type: 'console', at: Date.now(), url: ui.url });
    process.stderr.write(`console: ${ui.url}\n`);
    note(`run directory: ${session.runDir} (owui-chaos rollback --run ${session.runDir} after a crash)`);

    const detachKeys = json
      ? () => undefined
      : attachKeys({
          inject: async (spec) => {
            try {
              const f = await session.inject(spec);
              return `injected ${f.name}: ${f.description}`;
            } catch (err) {
              const issues =
                err instanceof ValidationError
                  ? err.issues.map((i) => `\n  - ${i.path ? `${i.path}: ` : ''}${i.message}`)
                  : [];
              throw new Error(`${errorMessage(err)}${issues.join('')}`, { cause: err });
            }
          },
          revertAll: async () => {
            const failed = await session.revertAll();
            return failed.length > 0 ? `still injected: ${failed.join(', ')}` : 'nothing is injected now';
          },
          note: (kind, text) => {
            session.note(kind, text);
            return '';
          },
          stepLoad: (direction) => {
            const c = session.changeLoad(stepLoad(session.state().load, direction), 'terminal');
            return `load: ${describeLoad(c.before)} → ${describeLoad(c.after)}`;
          },
          finish: () => void session.finish(),
          say: (text) => {
            if (text) note(text);
          },
          prompting: (on) => {
            prompting = on;
          },
        });
    let interrupted = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (!interrupted) {
        interrupted = true;
        note(
          `\n${signal}: ending the session and reverting every injected fault (Ctrl-C again to stop reverting)`,
        );
        void session.finish();
      } else {
        const left = session.state().active.map((a) => `  - ${a.name}: ${a.description}`);
        process.stderr.write(
          `${signal} again: not reverting any further.${left.length ? `\nStill injected:\n${left.join('\n')}` : ''}\nRun: owui-chaos rollback --run ${session.runDir}\n`,
        );
        process.exit(ExitCode.interrupted);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const summary = await session.done;
      progress.stop();
      if (!json) {
        this.log(
          renderTerminalSummary(summary.results, {
            color: process.stdout.isTTY === true,
            paths: summary.reports,
          }),
        );
        if (summary.hypotheses.length > 0)
          this.log(
            `Hypotheses:\n${summary.hypotheses
              .map(
                (h) =>
                  `  ${h.verdict === 'no-data' ? 'NO DATA' : h.verdict.toUpperCase()}  ${escapeTerminal(h.text)} — ${escapeTerminal(h.reason)}`,
              )
              .join('\n')}`,
          );
        if (summary.stillInjected.length > 0)
          process.stderr.write(
            `Still injected:\n${summary.stillInjected.map((e) => `  - ${e.name}: ${e.description}${e.error ? ` (${e.error})` : ''}`).join('\n')}\nRun: owui-chaos rollback --run ${summary.runDir}\n`,
          );
      }
      process.exitCode = interrupted && summary.exitCode === 0 ? ExitCode.interrupted : summary.exitCode;
      const { results: _results, ...rest } = summary;
      void _results;
      return { type: 'summary', ...rest };
    } finally {
      detachKeys();
      progress.stop();
      await ui.close();
      await prometheus?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

function describe(e: GamedayEvent): string | undefined {
  const t = new Date(e.at).toISOString().slice(11, 19);
  switch (e.type) {
    case 'session-started':
      return `${t} session started; load until ${new Date(e.endsAt).toISOString().slice(11, 19)} UTC at the latest`;
    case 'inject-start':
      return `${t} inject ${e.name} (${e.by}): ${e.description}`;
    case 'inject-done':
      return `${t} injected ${e.name}`;
    case 'inject-failed':
      return `${t} FAILED to inject ${e.name}: ${e.error}`;
    case 'revert-start':
      return `${t} revert ${e.name} (${e.by})`;
    case 'revert-done':
      return `${t} reverted ${e.name}`;
    case 'revert-failed':
      return `${t} FAILED to revert ${e.name}: ${e.error}`;
    case 'note':
      return `${t} ${e.note.kind}: ${e.note.text}`;
    case 'warning':
      return `${t} warning: ${e.text}`;
    case 'load-changed':
      return `${t} load changed (${e.by}): ${describeLoad(e.before)} → ${describeLoad(e.after)}`;
    case 'load-finished':
      return `${t} load finished${e.error ? ` with an error: ${e.error}` : ''}`;
    case 'session-finished':
      return `${t} session finished: ${e.verdict} (exit ${e.exitCode}); report ${e.reports.html}`;
    default:
      return undefined;
  }
}
