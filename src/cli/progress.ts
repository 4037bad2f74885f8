// One progress helper for the long commands (`run`, `load`, `gameday`): on a terminal the line is
// redrawn in place as progress arrives; elsewhere (CI logs, pipes) one plain line is printed every
// `everyMs` (10 s, as k6 does) instead of staying silent for minutes. Progress goes to stderr, so
// `--json` output on stdout stays clean; `isTTY` is that of the stream written to.

import type { LoadProgress } from '../core/ports.js';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressPrinterOptions {
  out?: ProgressOutput;
  /** Interval of the plain lines when `out` is not a terminal. */
  everyMs?: number;
  /** Redraw in place on a terminal (commands turn it off in `--json` mode). */
  live?: boolean;
  now?: () => number;
}

export interface ProgressPrinter {
  update(p: LoadProgress, extra?: string): void;
  /** Prints a message on its own line (clearing a live line first). */
  note(text: string): void;
  /** Clears the live line; the printer prints nothing afterwards. */
  stop(): void;
}

export function formatProgress(p: LoadProgress, extra?: string, durationMs?: number): string {
  const s = Math.round(p.elapsedMs / 1000);
  const ttft = p.ttftP95Ms === undefined ? '–' : `${Math.round(p.ttftP95Ms)} ms`;
  return [
    durationMs !== undefined ? `${s}/${Math.round(durationMs / 1000)} s` : `${s} s`,
    ...(extra ? [extra] : []),
    `streams ${p.activeStreams}`,
    `sockets ${p.activeSockets}`,
    `completed ${p.completed}`,
    `errors ${p.errors}`,
    `p95 ttft ${ttft}`,
  ].join(' · ');
}

export function progressPrinter(
  render: (p: LoadProgress, extra?: string) => string,
  opts: ProgressPrinterOptions = {},
): ProgressPrinter {
  const out = opts.out ?? process.stderr;
  const now = opts.now ?? Date.now;
  const everyMs = opts.everyMs ?? 10_000;
  const tty = out.isTTY === true;
  const live = tty && opts.live !== false;
  let lastPrinted: number | undefined;
  let stopped = false;
  let drawn = false;
  return {
    update(p, extra) {
      if (stopped) return;
      if (live) {
        out.write(`\r${render(p, extra)}\x1b[K`);
        drawn = true;
        return;
      }
      if (tty) return; // a terminal in --json mode: stay quiet
      const t = now();
      // The first line after one interval (a 5 s run prints none), then one per interval.
      if (lastPrinted === undefined) {
        lastPrinted = t - (p.elapsedMs % everyMs);
        return;
      }
      if (t - lastPrinted >= everyMs) {
        lastPrinted = t;
        out.write(`${render(p, extra)}\n`);
      }
    },
    note(text) {
      if (stopped) return;
      out.write(`${drawn ? '\r\x1b[K' : ''}${text}\n`);
      drawn = false;
    },
    stop() {
      if (drawn) out.write('\r\x1b[K');
      drawn = false;
      stopped = true;
    },
  };
}
