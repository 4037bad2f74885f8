// The lab through the built CLI (`bin/run.js`, as CI and users run it): `lab up --json`, `lab
// status --json`, `lab down`, and `lab down --all` cleaning up after a `lab up` killed mid-start.
// State lives under OWUI_CHAOS_HOME (a temp dir), one replica per lab to stay light.

import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findLabProcesses, labDownAll, labPids, labPorts, RUN_JS } from '../../../src/lab/lab.js';
import { isAlive, sleep, tcpOpen } from '../../../src/infra/process/daemon.js';
import { readLabState, type LabState } from '../../../src/infra/lab-state.js';
import { pollUntil } from '../../helpers/poll-until.js';

const run = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'owui-lab-cli-'));
const env = { ...process.env, OWUI_CHAOS_HOME: home };

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [RUN_JS, ...args], { env, timeout: 90_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function assertGone(state: LabState): Promise<void> {
  expect(labPids(state).filter((p) => isAlive(p.pid))).toEqual([]);
  const open: number[] = [];
  for (const port of labPorts(state)) if (await tcpOpen(port)) open.push(port);
  expect(open).toEqual([]);
  expect(findLabProcesses(state.stateDir)).toEqual([]);
}

afterAll(async () => {
  // Whatever a failed test left behind.
  await labDownAll(home);
  rmSync(home, { recursive: true, force: true });
}, 60_000);

describe('owui-chaos lab (CLI)', () => {
  it('lab up --json returns the summary; status --json says healthy; down stops everything', async () => {
    const name = `cli-${process.pid}`;
    const up = await cli(['lab', 'up', '--name', name, '--replicas', '1', '--json']);
    expect(up.code, up.stderr + up.stdout).toBe(0);
    const summary = JSON.parse(up.stdout) as {
      name: string;
      stateDir: string;
      targetFile: string;
      url: string;
      endpoints: unknown[];
    };
    expect(summary.name).toBe(name);
    expect(summary.stateDir).toBe(join(home, 'labs', name));
    expect(existsSync(summary.targetFile)).toBe(true);
    expect(readFileSync(summary.targetFile, 'utf8')).toContain(summary.url);
    const state = readLabState(summary.stateDir)!;

    const status = await cli(['lab', 'status', '--name', name, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as {
      healthy: boolean;
      running: boolean;
      parts: Array<{ part: string; healthy: boolean }>;
    };
    expect(s.running).toBe(true);
    expect(s.healthy).toBe(true);

    const human = await cli(['lab', 'status', '--name', name]);
    expect(human.stdout).toMatch(/ok\s+replica\s+owui-1/);
    expect(human.stdout).toContain('lab is healthy');

    const down = await cli(['lab', 'down', '--name', name]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/stopped nginx/);
    await assertGone(state);
    expect(existsSync(summary.targetFile)).toBe(false);

    const after = await cli(['lab', 'status', '--name', name]);
    expect(after.code).toBe(4);
    expect(after.stdout).toContain('is not running');
  });

  it('lab down --all cleans up after `lab up` was killed in the middle of starting Redis', async () => {
    const name = `crash-${process.pid}`;
    const child = spawn(process.execPath, [RUN_JS, 'lab', 'up', '--name', name, '--replicas', '1'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const stateDir = join(home, 'labs', name);
    // Kill it once Redis is being started: its nodes are not in state.json yet.
    // The budget covers a slow mock LLM start on a loaded machine (15 s was too short at load 12).
    await pollUntil('lab up printing "starting Redis"', () => out.includes('starting Redis'), {
      budgetMs: 60_000,
      intervalMs: 50,
    });
    await sleep(300);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const state = readLabState(stateDir)!;
    expect(state.mockLlm && isAlive(state.mockLlm.pid)).toBe(true);
    expect(findLabProcesses(stateDir).length).toBeGreaterThan(0);

    const down = await cli(['lab', 'down', '--all']);
    expect(down.code, down.stderr + down.stdout).toBe(0);
    expect(down.stdout).toContain(`lab ${name}:`);
    await assertGone(state);
    expect(existsSync(join(stateDir, 'state.json'))).toBe(false);
  });
});
