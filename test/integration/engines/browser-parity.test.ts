// The same small browser load on the lab with the Node engine and with real k6: both engines run
// the one Socket.IO session (src/protocol/socket-session.ts), so they must give the same ws_*
// metrics — the same names, the same number of samples of each, the same values where a value is
// a count. One k6 case per binary in OWUI_K6_BINARIES (comma-separated), else OWUI_K6_BINARY, else
// `k6` on PATH; without k6 the k6 half is skipped with the reason printed (this project never
// installs k6, AGPL).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, sharedTestLab, type TestLab } from '../app/support.js';
import { k6Binaries, wsProfile, type Point, type WsProfile } from './browser-parity-support.js';

const binaries = k6Binaries('browser parity on the lab');

const SOCKETS = 2;

function loadArgs(lab: TestLab, dir: string, engine: string[]): string[] {
  return [
    'load',
    '--lab-name',
    lab.name,
    ...engine,
    '--socket-vus',
    String(SOCKETS),
    '--socket-chat-interval',
    '3s',
    '--tokens',
    '20',
    '--tps',
    '60',
    '--duration',
    '15s',
    '--out',
    dir,
  ];
}

function readPoints(dir: string): Point[] {
  return readFileSync(join(dir, 'samples.ndjson'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Point);
}

describe('wsProfile (the comparison itself)', () => {
  const p = (metric: string, value: number, tags: Record<string, string> = {}): Point => ({
    type: 'Point',
    metric,
    data: { value, tags: { client: 'browser', ...tags } },
  });
  it('counts catalogue ws_* samples of browser clients only, and tells two runs apart when a sample is missing', () => {
    const a = wsProfile([
      p('ws_connect_time', 12),
      p('ws_never_joined', 0),
      p('ws_connect_errors', 1, { reason: 'closed' }),
      p('ws_sessions', 1), // a k6 built-in, not ours
      { type: 'Point', metric: 'ws_connect_time', data: { value: 3, tags: { client: 'api' } } },
    ]);
    expect(a).toEqual({
      counts: { ws_connect_time: 1, ws_never_joined: 1, ws_connect_errors: 1 },
      sums: { ws_never_joined: 0, ws_connect_errors: 1 },
      reasons: ['closed'],
    });
    const b = wsProfile([p('ws_connect_time', 40), p('ws_never_joined', 0)]);
    expect(b).not.toEqual(a);
  });
});

describe.skipIf(binaries.length === 0)('the same browser load with the Node engine and with real k6', () => {
  const lab = sharedTestLab('parity');
  const out = mkdtempSync(join(tmpdir(), 'owui-parity-'));
  let node: { profile: WsProfile; output: string } | undefined;
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  beforeAll(async () => {
    const dir = join(out, 'node');
    const run = runCli(lab(), loadArgs(lab(), dir, ['--engine', 'node']), 120_000);
    const exit = await run.exit;
    node = { profile: wsProfile(readPoints(dir)), output: `exit ${exit.code}\n${run.output().slice(-3000)}` };
  }, 150_000);

  it.each(binaries)(
    'k6 $version gives the ws_* samples the Node engine gives',
    async ({ binary }) => {
      const dir = join(out, binary.replace(/\W+/g, '-'));
      const run = runCli(lab(), loadArgs(lab(), dir, ['--engine', 'k6', '--k6-binary', binary]), 180_000);
      const exit = await run.exit;
      const k6 = wsProfile(readPoints(dir));
      const context = `node: ${JSON.stringify(node?.profile)}\n${node?.output}\n---- k6: exit ${exit.code}\n${run.output().slice(-3000)}`;
      console.log(
        `[parity] node ${JSON.stringify(node?.profile)}\n[parity] k6 ${binary} ${JSON.stringify(k6)}`,
      );
      // A healthy lab: every client joins once, stays joined, and says it never failed to join.
      expect(node?.profile.counts['ws_connect_time'], context).toBe(SOCKETS);
      expect(node?.profile.sums['ws_never_joined'], context).toBe(0);
      expect(node?.profile.counts['ws_never_joined'], context).toBe(SOCKETS);
      expect(k6, context).toEqual(node?.profile);
    },
    240_000,
  );
});
