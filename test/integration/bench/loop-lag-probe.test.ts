// The k6-vs-Node bench's timer-drift probe for the Node engine's worker threads
// (bench/k6/loop-lag-probe.mjs, docs/k6.md "Side by side"), preloaded with `node --require` into a
// real process: a worker whose loop is blocked 60 ms every 300 ms must show it, a worker left alone
// must not, and threads that run no clients (the main thread, a worker without workerData, as
// module-loader threads have) get no probe at all.

import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROBE = resolve('bench/k6/loop-lag-probe.mjs');

// Two workers for 3.2 s each: `stalled` (workerData {blockMs: 60}) and `free` ({blockMs: 0}),
// plus one without workerData that must stay unprobed.
const MAIN = `
const { Worker } = require('node:worker_threads');
const body = \`
const { workerData } = require('node:worker_threads');
const end = Date.now() + 3200;
const block = workerData ? workerData.blockMs : 0;
const stall = () => {
  const s = Date.now();
  while (Date.now() - s < block) {}
  if (Date.now() + 300 < end) setTimeout(stall, 300);
};
setTimeout(stall, 100);
\`;
new Worker(body, { eval: true, workerData: { blockMs: 60 } });
new Worker(body, { eval: true, workerData: { blockMs: 0 } });
new Worker(body, { eval: true });
`;

let dir: string;
let byThread: Map<number, number[]>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'owui-chaos-loop-lag-'));
  const r = spawnSync(process.execPath, ['--require', PROBE, '-e', MAIN], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, OWUI_BENCH_LOOP_LAG: `${join(dir, 'lag')}:20` },
  });
  expect(r.status, r.stderr).toBe(0);
  byThread = new Map();
  for (const f of await readdir(dir)) {
    const thread = Number(/-(\d+)\.txt$/.exec(f)?.[1]);
    const values = (await readFile(join(dir, f), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l.split(' ')[1]))
      .sort((a, b) => a - b);
    byThread.set(thread, values);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the Node worker loop-lag probe', () => {
  it('probes only the workers that run a share (workerData), one file each', () => {
    // Worker thread ids 1 and 2 carry workerData; 3 does not; the main thread (0) is never probed.
    expect([...byThread.keys()].sort()).toEqual([1, 2]);
  });

  it('a blocked worker loop shows its stalls; a worker left alone shows none', () => {
    const stalled = byThread.get(1) ?? [];
    const free = byThread.get(2) ?? [];
    // Flushed once a second: at least the first 2 s of 20 ms ticks.
    expect(stalled.length).toBeGreaterThan(40);
    expect(free.length).toBeGreaterThan(80);
    const stalls = stalled.filter((v) => v >= 40).length;
    expect(stalls).toBeGreaterThanOrEqual(4);
    expect(free[Math.floor(free.length * 0.9)]).toBeLessThan(5);
    expect(free.filter((v) => v >= 40).length).toBeLessThan(stalls / 3);
  });
});
