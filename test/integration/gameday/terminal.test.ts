// The game day's terminal view under tmux (a real TTY): keys in, screen out. `i` takes a one-line
// fault spec and injects it through the same gate as the console (an invalid one is refused with
// the file-style message), `+` / `-` change the load one step, `n` writes a note, `r` reverts everything, `q` ends the session and
// writes the reports. Observed from outside: Toxiproxy's view and the run directory.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_JS } from '../../../src/lab/lab.js';
import { startTestLab, stopTestLab, toxiproxyClean, waitFor, type TestLab } from '../app/support.js';
import { gamedayArgs } from './support.js';

let lab: TestLab | undefined;
let work: string;
const SESSION = `gd-term-${process.pid}`;

const tmux = (...args: string[]): string => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', SESSION);
const keys = (...k: string[]): void => void tmux('send-keys', '-t', SESSION, ...k);
const onScreen = (what: RegExp, budgetMs = 60_000): Promise<string> =>
  waitFor(`${what} on the tmux screen`, () => (what.test(screen()) ? screen() : undefined), budgetMs, 250);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'owui-gd-term-'));
  lab = await startTestLab('gd-term');
}, 180_000);

afterAll(async () => {
  try {
    tmux('kill-session', '-t', SESSION);
  } catch {
    // already gone
  }
  const alive = await stopTestLab(lab);
  rmSync(work, { recursive: true, force: true });
  expect(alive).toEqual([]);
}, 180_000);

describe('gameday in a terminal (tmux)', () => {
  it('injects with i, notes with n, reverts with r and ends with q', async () => {
    const runDir = join(work, 'run');
    const cmd = [
      `OWUI_CHAOS_HOME=${lab!.home}`,
      process.execPath,
      RUN_JS,
      ...gamedayArgs(lab!, runDir),
      `; echo "exit=$?"; sleep 600`,
    ].join(' ');
    tmux('new-session', '-d', '-s', SESSION, '-x', '220', '-y', '60', cmd);
    await onScreen(/console: http:\/\/127\.0\.0\.1:\d+\/\?token=/, 90_000);
    await onScreen(/keys i r n \+ - q/, 30_000);

    // + raises the API chat load one step (8 → 10 VUs), - lowers it a quarter of 10 (to 7); the browser clients stay.
    keys('+');
    await onScreen(/load changed \(terminal\): 8 API VUs, 8 browser clients → 10 API VUs, 8 browser clients/);
    keys('-');
    await onScreen(/load changed \(terminal\): 10 API VUs, 8 browser clients → 7 API VUs, 8 browser clients/);

    keys('i');
    await onScreen(/inject> /);
    keys('toxic.latency proxy=llm', 'Enter');
    await onScreen(
      /not injected: The toxic\.latency fault is not valid\s+- params\.latency: `params\.latency` is missing/,
    );
    expect((await toxiproxyClean(lab!.state())).toxics).toEqual([]);

    keys('i');
    await onScreen(/inject> $/m);
    keys('toxic.latency proxy=llm latency=700 name=term-slow', 'Enter');
    await onScreen(/injected term-slow: latency toxic owui-chaos-term-slow/);
    // The toxic carries the session's run tag (docs/safety.md), as `run`'s do.
    expect((await toxiproxyClean(lab!.state())).toxics).toEqual([
      expect.stringMatching(/^llm\/owui-chaos-term-slow--run-[0-9a-f]{8}$/),
    ]);
    await onScreen(/injected: term-slow · keys i r n \+ - q/);

    keys('n');
    keys('h: streams keep completing, ttft +0.7 s', 'Enter');
    await onScreen(/hypothesis: streams keep completing, ttft \+0\.7 s/);

    keys('r');
    await onScreen(/reverted term-slow/);
    await onScreen(/nothing is injected now/);
    expect(await toxiproxyClean(lab!.state())).toEqual({ disabled: [], toxics: [] });

    keys('q');
    const end = await onScreen(/exit=\d+/, 120_000);
    expect(end).toMatch(/session finished/);
    expect(existsSync(join(runDir, 'report.html'))).toBe(true);
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
    expect(results.journal.notes).toEqual([
      expect.objectContaining({
        kind: 'hypothesis',
        text: 'streams keep completing, ttft +0.7 s',
        faults: ['term-slow'],
      }),
    ]);
    expect(results.faults.map((f: { name: string }) => f.name)).toEqual(['term-slow']);
    expect(
      results.journal.loadChanges.map((c: { by: string; after: { chatVus: number } }) => [
        c.by,
        c.after.chatVus,
      ]),
    ).toEqual([
      ['terminal', 10],
      ['terminal', 7],
    ]);
  }, 360_000);
});
