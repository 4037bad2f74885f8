// `owui-chaos capacity`: thin — parse flags, wire Ctrl-C, render the plan, progress and the table.
// The work is in src/app/capacity.ts; the sweep itself in src/core/capacity (docs/capacity.md).

import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { parseDurationFlag } from '../cli/flags.js';
import { formatDuration } from '../core/clock.js';
import { parseHeadroom, parseRate, parseReplicaList } from '../core/capacity/plan.js';
import { formatLoad, type LoadUnit } from '../core/capacity/result.js';
import { runCapacity, type CapacitySummary, type LiveStep } from '../app/capacity.js';

/** A bare number is seconds, as in every command (src/cli/flags.ts). */
function duration(text: string, flag: string): number {
  return parseDurationFlag(flag, text, { positive: true });
}

export default class Capacity extends BaseCommand {
  static override summary =
    'Find the load at which the SLOs break, per replica count and with one replica down';
  static override description =
    'Sweeps offered load in the open model (chats per second; latency from the intended start) step by step — warm-up, measurement window, tail — and finds the knee, the highest load at which every SLO holds, by bracketing and bisection; the knee is re-measured before it is accepted. On the lab the replica count is scaled live (replicas started or stopped, nginx upstreams reloaded); on a real target with --scale-cmd. --minus-one repeats each sweep with one replica killed for the whole sweep. Writes capacity.json and capacity.html; every change to the target is reverted on exit, Ctrl-C or (with `owui-chaos rollback`) after a crash.';
  static override examples = [
    '<%= config.bin %> capacity --replicas 1,2,3 --minus-one --for 200-users --headroom 20%',
    '<%= config.bin %> capacity --target prod.yaml --replicas 2,4 --scale-cmd "docker compose up -d --scale open-webui={n}"',
    '<%= config.bin %> capacity --slos my-slos.yaml --max-rate 50/s --max-duration 10m --json',
  ];

  static override flags = {
    target: Flags.string({ description: '`lab` or a target file', default: 'lab' }),
    'lab-name': Flags.string({ description: 'which lab `lab` means', default: 'default' }),
    replicas: Flags.string({ description: 'replica counts to sweep, e.g. 1,2,3 or 1-4', default: '1,2,3' }),
    slos: Flags.string({
      description: 'SLO file (a list, or a mapping with `slos:`); default: the load-related default SLOs',
    }),
    client: Flags.string({
      description:
        'api: chats per second over SSE; browser: connected Socket.IO users, each chatting every --chat-every on its own schedule (the sweep counts users); mixed: users of both kinds (--mix)',
      options: ['api', 'browser', 'mixed'],
      default: 'api',
    }),
    for: Flags.string({ description: 'demand to size for: `200-users` (see --chat-every) or `5/s`' }),
    'chat-every': Flags.string({
      description:
        'how often one user starts a chat: the users a browser/mixed sweep connects, and --for N-users',
      default: '30s',
      aliases: ['chat-interval'],
    }),
    mix: Flags.string({
      description:
        'with --client mixed: the share of the users that are browser users (the rest use the API)',
      default: '50%',
    }),
    headroom: Flags.string({ description: 'headroom on top of --for', default: '20%' }),
    'minus-one': Flags.boolean({
      description: 'also sweep each count ≥ 2 with one replica killed for the whole sweep',
    }),
    'max-duration': Flags.string({ description: 'bound on the whole run', default: '15m' }),
    'max-rate': Flags.string({
      description: 'never offer more than this (chats per second)',
      default: '200/s',
    }),
    'max-users': Flags.integer({
      description: 'browser/mixed sweeps: never connect more users than this',
      default: 200,
      min: 1,
    }),
    'start-users': Flags.integer({
      description: 'browser/mixed sweeps: users of the first step (default: --start-rate × --chat-every)',
      min: 1,
    }),
    'start-rate': Flags.string({
      description: 'first step of the first sweep (later sweeps start from the previous knee)',
    }),
    tokens: Flags.integer({ description: 'tokens per chat', default: 50, min: 1 }),
    warmup: Flags.string({ description: 'warm-up of each step', default: '10s' }),
    measure: Flags.string({ description: 'measurement window of each step', default: '30s' }),
    'min-samples': Flags.integer({
      description: 'arrivals each measurement window holds at least (longer windows at low loads)',
      default: 30,
      min: 1,
    }),
    resolution: Flags.string({
      description: 'stop bisecting when the bracket is this narrow (relative)',
      default: '10%',
    }),
    'max-lag': Flags.string({
      description: 'generator event-loop delay (p99) above which a step is invalid',
      default: '100ms',
    }),
    'scale-cmd': Flags.string({
      description:
        "real target: command that sets the replica count, `{n}` filled in, e.g. 'kubectl scale deploy/open-webui --replicas={n}'",
    }),
    'scale-back': Flags.integer({
      description:
        'with --scale-cmd: the replica count to restore at the end, after Ctrl-C or a failure (default: how many replicas the target file lists)',
      min: 1,
    }),
    'break-lease': Flags.boolean({
      description: "take over the target's lease when its holder is gone (never while it runs)",
    }),
    'keep-lab': Flags.boolean({ description: 'keep a lab this run started running afterwards' }),
    'max-streams': Flags.integer({
      description: 'when this run starts the lab: concurrent streams per replica',
      min: 1,
      helpGroup: 'LAB CAPACITY MODEL',
    }),
    'token-cost': Flags.integer({
      description: 'when this run starts the lab: ms of slot time per token',
      min: 0,
      helpGroup: 'LAB CAPACITY MODEL',
    }),
    'no-queue': Flags.boolean({
      description:
        'when this run starts the lab: a chat finding every slot taken gets 503 at once instead of waiting (a sharp knee)',
      helpGroup: 'LAB CAPACITY MODEL',
    }),
  };

  async run(): Promise<CapacitySummary> {
    const { flags } = await this.parse(Capacity);
    const quiet = this.jsonEnabled();
    const tty = process.stderr.isTTY === true && !quiet;
    const note = (text: string): void => {
      if (!quiet) process.stderr.write(`${tty ? '\r\x1b[K' : ''}${text}\n`);
    };
    const interrupt = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => {
      if (interrupt.signal.aborted) return;
      note(`\n${signal}: stopping the sweep and reverting every change to the target`);
      interrupt.abort(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let lastLine = 0;
    const live = (l: LiveStep): void => {
      const text = `  ${l.sweep} · step ${l.stepsDone + 1} · ${load(l.load)} (${l.reason}) · ${formatDuration(l.elapsedMs)} / ${formatDuration(l.stepMs)} · in flight ${l.activeStreams}${l.ttftP95Ms !== undefined ? ` · live ttft p95 ${Math.round(l.ttftP95Ms)} ms` : ''}`;
      if (tty) process.stderr.write(`\r${text}\x1b[K`);
      else if (!quiet && Date.now() - lastLine >= 10_000) {
        lastLine = Date.now();
        process.stderr.write(`${text}\n`);
      }
    };
    const resolution = parseHeadroom(flags.resolution);
    const unit: LoadUnit = flags.client === 'api' ? 'chats/s' : 'users';
    const load = (v: number): string => formatLoad(v, unit);
    try {
      const summary = await runCapacity({
        target: flags.target,
        labName: flags['lab-name'],
        replicas: parseReplicaList(flags.replicas),
        ...(flags.slos ? { slosFile: flags.slos } : {}),
        client: flags.client as 'api' | 'browser' | 'mixed',
        ...(flags.for ? { for: flags.for } : {}),
        chatEveryMs: duration(flags['chat-every'], '--chat-every'),
        maxUsers: flags['max-users'],
        ...(flags['start-users'] !== undefined ? { startUsers: flags['start-users'] } : {}),
        ...(flags.client === 'mixed' ? { browserShare: parseHeadroom(flags.mix) } : {}),
        headroom: parseHeadroom(flags.headroom),
        minusOne: flags['minus-one'],
        maxDurationMs: duration(flags['max-duration'], '--max-duration'),
        maxRate: parseRate(flags['max-rate'], '--max-rate'),
        ...(flags['start-rate'] ? { startRate: parseRate(flags['start-rate'], '--start-rate') } : {}),
        tokens: flags.tokens,
        timing: {
          warmupMs: duration(flags.warmup, '--warmup'),
          measureMs: duration(flags.measure, '--measure'),
        },
        resolution,
        minSamples: flags['min-samples'],
        maxLagMs: duration(flags['max-lag'], '--max-lag'),
        ...(flags['scale-cmd'] ? { scaleCmd: flags['scale-cmd'] } : {}),
        ...(flags['scale-back'] !== undefined ? { scaleBack: flags['scale-back'] } : {}),
        ...(flags['break-lease'] ? { breakLease: true } : {}),
        ...(flags.out ? { outDir: flags.out } : {}),
        ...(flags['max-streams'] !== undefined
          ? {
              labCapacity: {
                maxStreams: flags['max-streams'],
                tokenCostMs: flags['token-cost'] ?? 40,
                requestCostMs: 0,
                queueLimit: 0,
                ...(flags['no-queue'] ? { noQueue: true } : {}),
              },
            }
          : {}),
        keepLab: flags['keep-lab'],
        interrupt: interrupt.signal,
        observer: {
          onNotice: note,
          onPlan: (p) => note(p),
          onStepStart: (sweep, l, reason) => {
            lastLine = 0;
            if (!tty) note(`  ${sweep}: step at ${load(l)} (${reason})`);
          },
          onLive: live,
          onStep: (sweep, s) => {
            const p = s.measurement.slos[0];
            note(
              `  ${sweep}: ${load(s.load)} → ${s.verdict.toUpperCase()}${p?.measured != null ? ` (${p.id} ${p.censored ? '≥ ' : ''}${Number(p.measured.toPrecision(3))}, ${s.measurement.confidence.samples}/${s.measurement.confidence.expected} samples)` : ''} · generator lag p99 ${s.lag.p99Ms.toFixed(1)} ms${s.note ? ` · ${s.note}` : ''}`,
            );
          },
          onSweep: (s) =>
            note(
              `${s.label}: knee ${s.result.knee === null ? '—' : load(s.result.knee)} (${s.result.status}) after ${s.steps.length} steps in ${formatDuration(s.durationMs)}`,
            ),
        },
      });
      if (tty) process.stderr.write('\r\x1b[K');
      if (!quiet) this.render(summary);
      if (summary.stillChanged.length > 0) process.exitCode = 14;
      else if (summary.document.status === 'interrupted') process.exitCode = 13;
      return summary;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  private render(s: CapacitySummary): void {
    const unit = s.document.unit ?? 'chats/s';
    const head = [
      'replicas',
      'knee',
      ...(s.document.expectedKnees ? ['computed'] : []),
      'throughput',
      'first SLO to break',
      'status',
      'steps',
      'time',
    ];
    const body = s.rows.map((r) => [
      r.label,
      r.knee === null ? '—' : formatLoad(r.knee, unit),
      ...(s.document.expectedKnees ? [r.expected === undefined ? '—' : formatLoad(r.expected, unit)] : []),
      r.throughput === null ? '—' : `${r.throughput.toFixed(2)}/s`,
      r.firstBreach,
      r.status,
      String(r.steps),
      formatDuration(r.durationMs),
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    this.log('');
    this.log(line(head));
    for (const row of body) this.log(line(row));
    if (s.document.recommendation) this.log(`\n${s.document.recommendation.text}`);
    this.log(`\ncapacity.json: ${s.files.json}\ncapacity.html: ${s.files.html}`);
    if (s.stillChanged.length > 0) {
      process.stderr.write(
        `Still changed on the target:\n${s.stillChanged.map((e) => `  - ${e.name}: ${e.description}${e.error ? ` (${e.error})` : ''}`).join('\n')}\nTry this:\n  owui-chaos rollback --run ${s.outDir}\n`,
      );
    }
  }
}
