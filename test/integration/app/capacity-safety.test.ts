// `owui-chaos capacity` and the safety rules of docs/safety.md, observed from outside on a real lab:
// - it takes the target's lease like `run`: while one capacity run sweeps, a second capacity run
//   and a `run` with faults on the same lab are refused at once (LEASE_HELD, exit 4), naming it;
// - `--scale-cmd` (a real target: here the lab through its target file, scaled by a script that
//   calls the lab's live scaling, as `docker compose --scale` would) records the way back — the
//   same command with the count the target had — on the revert stack BEFORE it scales: Ctrl-C
//   mid-sweep restores 3 replicas;
// - after SIGKILL of a lab sweep scaled to 1, `owui-chaos rollback` restores nginx's upstreams
//   and the stopped replicas (records the rollback command knows);
// - after SIGKILL of a `--scale-cmd` sweep, the way back is on disk (a `scale/command` revert
//   record), and `rollback` replays it: the target has its 3 replicas again.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevertStack } from '../../../src/core/runner/revert-stack.js';
import { labDown, labUp } from '../../../src/lab/lab.js';
import { capacityEnv } from '../../../src/lab/owui-sim/capacity.js';
import { isAlive } from '../../../src/infra/process/daemon.js';
import { readLabState } from '../../../src/infra/lab-state.js';
import { fixture, runCli, runExperimentCli, waitFor, type TestLab } from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DIST_SCALE = resolve(HERE, '..', '..', '..', 'dist', 'lab', 'lab-scale.js');

const home = mkdtempSync(join(tmpdir(), 'owui-cap-safety-'));
const name = `cs-${process.pid}`;
const stateDir = join(home, 'labs', name);
const lab: TestLab = {
  home,
  name,
  stateDir,
  env: { ...process.env, OWUI_CHAOS_HOME: home },
  state: () => readLabState(stateDir)!,
};
const slos = join(home, 'slos.yaml');
const script = join(home, 'scale.mjs');
let configSha = '';

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const upstreams = (): number =>
  (readFileSync(lab.state().nginx!.configFile, 'utf8').match(/^\s*server 127\.0\.0\.1:\d+ /gm) ?? []).length;
const running = (): string[] =>
  lab
    .state()
    .replicas.filter((r) => r.pid !== undefined && isAlive(r.pid))
    .map((r) => r.name);

/** A sweep that stays in its first step for a minute (so it can be interrupted there). */
const longStep = ['--slos', slos, '--warmup', '1s', '--measure', '60s', '--start-rate', '2/s'];
const longStepArgs = [...longStep, '--tokens', '5', '--max-lag', '300ms'];

async function inFirstStep(run: { output(): string }, what: string): Promise<void> {
  await waitFor(what, () => (run.output().includes('step at') ? true : undefined), 60_000, 200);
}

/**
 * A `--scale-cmd` sweep of 1 replica (the lab through its target file and the scaling script, as a
 * real target with `docker compose --scale` would be), once it is in its first step.
 */
async function scaledSweepInFirstStep(out: string): Promise<ReturnType<typeof runCli>> {
  const sweep = runCli(
    lab,
    [
      'capacity',
      '--target',
      lab.state().targetFile!,
      '--replicas',
      '1',
      '--scale-cmd',
      `node ${script} ${stateDir} {n}`,
      ...longStepArgs,
      '--out',
      out,
    ],
    200_000,
  );
  await inFirstStep(sweep, 'the scaled sweep reaching its first step');
  return sweep;
}

/** The way back a `--scale-cmd` sweep records before it scales. */
const scaleBack = (): string => `scale back to 3 replicas: node ${script} ${stateDir} 3`;

async function expectLabWhole(): Promise<void> {
  expect(upstreams()).toBe(3);
  expect(running().sort()).toEqual(['owui-1', 'owui-2', 'owui-3']);
  for (const r of lab.state().replicas) {
    const res = await fetch(`${r.url}/ready`);
    await res.arrayBuffer();
    expect(res.status, r.name).toBe(200);
  }
  expect(sha(lab.state().nginx!.configFile)).toBe(configSha);
}

describe('capacity: lease, scale-back and rollback', () => {
  beforeAll(async () => {
    writeFileSync(
      slos,
      '- { metric: stream_outcome, stat: rate, tags: { outcome: completed }, gte: 0.98 }\n',
    );
    writeFileSync(
      script,
      [
        `import { scaleLab } from ${JSON.stringify(DIST_SCALE)};`,
        'const [stateDir, n] = process.argv.slice(2);',
        'await scaleLab(stateDir, Number(n));',
        '',
      ].join('\n'),
    );
    await labUp({
      name,
      stateDir,
      replicas: 3,
      replicaEnv: capacityEnv({
        maxStreams: 24,
        queueLimit: 0,
        tokenCostMs: 400,
        requestCostMs: 0,
        noQueue: true,
      }),
    });
    configSha = sha(lab.state().nginx!.configFile);
  }, 120_000);

  afterAll(async () => {
    await labDown(stateDir);
    rmSync(home, { recursive: true, force: true });
  }, 60_000);

  it('a second capacity run and a `run` with faults are refused while capacity holds the lease; Ctrl-C ends it with nothing changed', async () => {
    const first = runCli(
      lab,
      ['capacity', '--lab-name', name, '--replicas', '3', ...longStepArgs, '--out', join(home, 'cap-a')],
      150_000,
    );
    await inFirstStep(first, 'the first capacity run reaching its first step');
    expect(existsSync(join(stateDir, 'lease.json'))).toBe(true);

    const second = await runCli(lab, [
      'capacity',
      '--lab-name',
      name,
      '--replicas',
      '3',
      ...longStepArgs,
      '--out',
      join(home, 'cap-b'),
    ]).exit;
    expect(second.code, second.stderr).toBe(4);
    expect(second.stderr).toContain('LEASE_HELD');
    expect(second.stderr).toMatch(/leased by `capacity` of run \S+ \(host \S+, pid \d+/);
    const run = await runExperimentCli(lab, fixture('replica-kill-down-pause'), join(home, 'run-c')).exit;
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toContain('LEASE_HELD');
    expect(run.stderr).toContain('`capacity`');
    // Neither touched anything: no revert stack with entries.
    expect(
      existsSync(join(home, 'run-c', 'reverts.json'))
        ? RevertStack.load(join(home, 'run-c', 'reverts.json')).entries
        : [],
    ).toEqual([]);

    first.child.kill('SIGINT');
    const done = await first.exit;
    expect(done.code, done.stderr).toBe(13);
    expect(existsSync(join(stateDir, 'lease.json'))).toBe(false);
    await expectLabWhole();
  }, 200_000);

  it('--scale-cmd: Ctrl-C in the middle of the 1-replica sweep scales the target back to its 3 replicas', async () => {
    const out = join(home, 'scale-int');
    const sweep = await scaledSweepInFirstStep(out);
    expect(upstreams()).toBe(1);
    expect(running()).toEqual(['owui-1']);
    const stack = RevertStack.load(join(out, 'reverts.json'));
    expect(stack.outstanding().map((e) => e.description)).toEqual([scaleBack()]);
    sweep.child.kill('SIGINT');
    const done = await sweep.exit;
    expect(done.code, done.stderr).toBe(13);
    expect(done.stderr).toContain('scale to 3');
    expect(RevertStack.load(join(out, 'reverts.json')).outstanding()).toEqual([]);
    await expectLabWhole();
  }, 240_000);

  it('lab scaling: after SIGKILL mid-sweep, `owui-chaos rollback` restores the upstreams and starts the stopped replicas', async () => {
    const out = join(home, 'lab-kill');
    const sweep = runCli(
      lab,
      ['capacity', '--lab-name', name, '--replicas', '1', ...longStepArgs, '--out', out],
      200_000,
    );
    await inFirstStep(sweep, 'the lab sweep reaching its first step');
    expect(upstreams()).toBe(1);
    sweep.child.kill('SIGKILL');
    await sweep.exit;
    expect(upstreams()).toBe(1);
    const rb = await runCli(lab, ['rollback', '--run', out], 150_000).exit;
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    await expectLabWhole();
  }, 240_000);

  it('--scale-cmd: after SIGKILL the way back is on disk, and `rollback` replays it (3 replicas again)', async () => {
    const out = join(home, 'scale-kill');
    const sweep = await scaledSweepInFirstStep(out);
    sweep.child.kill('SIGKILL');
    await sweep.exit;
    expect(upstreams()).toBe(1);
    const pending = RevertStack.load(join(out, 'reverts.json')).outstanding();
    expect(pending.map((e) => e.description)).toEqual([scaleBack()]);
    const rb = await runCli(lab, ['rollback', '--run', out], 150_000).exit;
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(upstreams()).toBe(3);
    expect(RevertStack.load(join(out, 'reverts.json')).outstanding()).toEqual([]);
    await expectLabWhole();
  }, 240_000);
});
