import { describe, expect, it } from 'vitest';
import { formatProgress, progressPrinter } from '../../../src/cli/progress.js';

const p = (elapsedMs: number) => ({ elapsedMs, activeStreams: 2, activeSockets: 3, completed: 4, errors: 0 });

describe('progressPrinter', () => {
  it('prints one plain line every 10 s when the stream is not a terminal', () => {
    let now = 0;
    const out: string[] = [];
    const pr = progressPrinter((x) => formatProgress(x), {
      out: { write: (t: string) => out.push(t), isTTY: false },
      now: () => now,
    });
    for (let t = 1000; t <= 35_000; t += 1000) {
      now = t;
      pr.update(p(t));
    }
    expect(out).toEqual([
      '10 s · streams 2 · sockets 3 · completed 4 · errors 0 · p95 ttft –\n',
      expect.stringMatching(/^20 s/),
      expect.stringMatching(/^30 s/),
    ]);
    pr.stop();
    pr.update(p(50_000));
    expect(out).toHaveLength(3);
  });

  it('redraws in place on a terminal, and is silent there in --json mode', () => {
    const out: string[] = [];
    const pr = progressPrinter((x) => formatProgress(x), {
      out: { write: (t: string) => out.push(t), isTTY: true },
    });
    pr.update(p(1000));
    pr.note('hello');
    // eslint-disable-next-line no-control-regex
    expect(out).toEqual([expect.stringMatching(/^\r1 s .*\x1b\[K$/), '\r\x1b[Khello\n']);
    const quiet: string[] = [];
    const q = progressPrinter((x) => formatProgress(x), {
      out: { write: (t: string) => quiet.push(t), isTTY: true },
      live: false,
    });
    q.update(p(20_000));
    expect(quiet).toEqual([]);
  });
});
