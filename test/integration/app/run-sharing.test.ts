// Several runs on one target (docs/safety.md), through the built CLI against a real lab: each row
// of issue 17's table is one test. Two runs 3 s apart must not share the lab (the second is refused
// at once, naming the holder); `rollback` leaves a live run alone, finds a crashed run whatever
// `--out` said, waits until Redis replication is really back after a master kill, and closes the
// entry of a run whose lab was stopped under it. Everything is observed from outside (Toxiproxy's
// API, nginx's config bytes, Sentinel and ROLE replies).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { labDown } from '../../../src/lab/lab.js';
import {
  readJson,
  redisRole,
  runCli,
  sentinelMasters,
  sha256,
  sharedTestLab,
  startTestLab,
  toxiproxyClean,
  toxiproxyProxies,
  waitFor,
  type CliRun,
  type TestLab,
} from './support.js';

const FIX = resolve(import.meta.dirname, '..', '..', 'fixtures', 'experiments', 'sharing');
const fx = (name: string): string => join(FIX, `${name}.yaml`);

const needLab = sharedTestLab('sf');

const outside: string[] = [];
afterAll(() => {
  for (const d of outside) rmSync(d, { recursive: true, force: true });
});

const started: CliRun[] = [];
/** `run` of a fixture with a generous harness timeout (a loaded 2-core machine), tracked for cleanup. */
function startRun(l: TestLab, experiment: string, outDir: string, extra: string[] = []): CliRun {
  const r = runCli(
    l,
    ['run', experiment, '--lab-name', l.name, '--workers', '0', '--out', outDir, '--keep-lab', ...extra],
    300_000,
  );
  started.push(r);
  return r;
}

/**
 * A failed test must not leave its runs' faults or lease to the next one: kill what it started and
 * roll back (rollback also releases a dead run's lease).
 */
afterEach(async (ctx) => {
  const alive = started.splice(0).filter((r) => r.child.exitCode === null && r.child.signalCode === null);
  for (const r of alive) r.child.kill('SIGKILL');
  await Promise.all(alive.map((r) => r.exit));
  if (alive.length > 0 || ctx.task.result?.state === 'fail') {
    try {
      await runCli(needLab(), ['rollback', '--force'], 180_000).exit;
    } catch {
      // the lab did not start: nothing to clean
    }
  }
}, 200_000);

/** Starts `second` 3 s after `first`, as the operators did. */
async function twoRuns(l: TestLab, experiment: string, tag: string): Promise<[CliRun, CliRun]> {
  const a = startRun(l, experiment, join(l.home, 'runs', `${tag}-a`));
  await new Promise((r) => setTimeout(r, 3000));
  const b = startRun(l, experiment, join(l.home, 'runs', `${tag}-b`));
  return [a, b];
}

/** One master every Sentinel names, and a replica linked to it (from the nodes' own ROLE). */
async function replicationBack(l: TestLab): Promise<string | undefined> {
  const state = l.state();
  const masters = await sentinelMasters(state).catch((e: unknown) => [`error ${String(e)}`]);
  if (masters.length !== 1) return `sentinels name ${masters.join(', ')}`;
  const port = Number(masters[0]!.split(':')[1]);
  const nodes = [state.redis!.master.port, state.redis!.replica.port];
  const roles = await Promise.all(nodes.map((p) => redisRole(p).catch(() => ({ role: 'down' }))));
  const linked = roles.filter(
    (r) => r.role === 'slave' && 'masterPort' in r && r.masterPort === port && r.link === 'connected',
  );
  if (linked.length === 0) return `master ${masters[0]} has no linked replica (${JSON.stringify(roles)})`;
  return undefined;
}

describe('several runs on one lab', () => {
  it('row 1: two runs with nginx.buffering 3 s apart — the second is refused at once naming the holder; nginx ends on its original bytes', async (ctx) => {
    const l = needLab(ctx);
    const conf = l.state().nginx!.configFile;
    const before = sha256(conf);
    const [a, b] = await twoRuns(l, fx('buffering-20s'), 'buf');
    const [ea, eb] = await Promise.all([a.exit, b.exit]);
    const codes = [ea.code, eb.code].sort();
    expect(codes, ea.stderr + eb.stderr).toEqual([0, 4]);
    const refused = ea.code === 4 ? ea : eb;
    const holderRun = ea.code === 4 ? 'buf-b' : 'buf-a';
    expect(refused.stderr).toContain('LEASE_HELD');
    expect(refused.stderr).toMatch(/leased by `run` of run \S+ \(host \S+, pid \d+, since \d{4}-/);
    expect(refused.stderr).toMatch(/kill -0 \d+/);
    expect(refused.stderr).toContain('--break-lease');
    expect(
      readJson<{ entries: unknown[] }>(join(l.home, 'runs', holderRun, 'reverts.json')).entries,
    ).toHaveLength(1);
    expect(sha256(conf)).toBe(before);
    expect(readFileSync(conf, 'utf8')).not.toContain('# owui-chaos: changed by run');
    const rb = await runCli(l, ['rollback']).exit;
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toContain('Nothing to roll back');
  }, 150_000);

  it('row 2: two runs with the same latency toxic 3 s apart — the second is refused before touching anything; the first keeps its toxic for its whole window', async (ctx) => {
    const l = needLab(ctx);
    const [a, b] = await twoRuns(l, fx('latency-20s'), 'lat');
    // Sample Toxiproxy while both live: once the toxic is there, it stays until the first run reverts it.
    const seen: boolean[] = [];
    const at: number[] = [];
    const watch = (async () => {
      for (let i = 0; i < 600 && (a.child.exitCode === null || b.child.exitCode === null); i++) {
        const t = await toxiproxyClean(l.state()).catch(() => undefined);
        if (t) {
          seen.push(t.toxics.length > 0);
          at.push(Date.now());
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const [ea, eb] = await Promise.all([a.exit, b.exit]);
    await watch;
    expect([ea.code, eb.code].sort(), ea.stderr + eb.stderr).toEqual([0, 4]);
    const refused = ea.code === 4 ? ea : eb;
    expect(refused.stderr).toContain('LEASE_HELD');
    // One contiguous stretch with the toxic: it was never removed in the middle by the other run.
    const first = seen.indexOf(true);
    const last = seen.lastIndexOf(true);
    expect(first, 'the toxic was seen').toBeGreaterThanOrEqual(0);
    expect(seen.slice(first, last + 1).every(Boolean), 'toxic removed mid-window').toBe(true);
    expect(at[last]! - at[first]!).toBeGreaterThan(15_000);
    expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
  }, 150_000);

  it('row 3: `rollback` (no --run) while a run is active leaves the live run alone (exit 4); the run reverts its own fault', async (ctx) => {
    const l = needLab(ctx);
    const run = startRun(l, fx('latency-60s'), join(l.home, 'runs', 'live'));
    try {
      await waitFor(
        'the toxic injected',
        async () => ((await toxiproxyClean(l.state())).toxics.length > 0 ? true : undefined),
        60_000,
        150,
      );
      const rb = await runCli(l, ['rollback']).exit;
      expect(rb.code, `${rb.stdout}${rb.stderr}\n${run.output()}`).toBe(4);
      expect(rb.stdout).toMatch(/Not touching run \S+: its process is still running \(pid \d+/);
      expect(rb.stdout).not.toContain('reverting');
      const toxics = (await toxiproxyClean(l.state())).toxics;
      expect(toxics).toHaveLength(1);
      expect(toxics[0]).toMatch(/^llm\/owui-chaos-slow-llm--run-[0-9a-f]{8}$/);
      const exit = await run.exit;
      expect(exit.code, exit.stderr).toBe(0);
      expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 300_000);

  it('row 4: `rollback` with no --run after a crashed run that used --out outside OWUI_CHAOS_HOME finds it and removes its toxic', async (ctx) => {
    const l = needLab(ctx);
    const ci = mkdtempSync(join(tmpdir(), 'owui-ci-out-'));
    outside.push(ci);
    const outDir = join(ci, 'runs', 'failover');
    const run = startRun(l, fx('latency-20s'), outDir);
    try {
      await waitFor(
        'the toxic injected',
        async () => ((await toxiproxyClean(l.state())).toxics.length > 0 ? true : undefined),
        60_000,
        150,
      );
    } finally {
      run.child.kill('SIGKILL');
    }
    expect((await run.exit).signal).toBe('SIGKILL');
    expect((await toxiproxyClean(l.state())).toxics).toHaveLength(1);
    const rb = await runCli(l, ['rollback']).exit;
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toContain('reverting slow-llm');
    expect(rb.stdout).toContain('the system is back');
    expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
    // The lease the crashed run left was taken over and released: a new run may start.
    const again = await runCli(l, ['rollback']).exit;
    expect(again.stdout).toContain('Nothing to roll back');
  }, 150_000);

  it('row 5: `rollback` after a kill during redis.kill-master exits only once one master has a linked replica and all Sentinels agree, and it stays so', async (ctx) => {
    const l = needLab(ctx);
    expect(await replicationBack(l)).toBeUndefined();
    const masterPort = Number((await sentinelMasters(l.state()))[0]!.split(':')[1]);
    const outDir = join(l.home, 'runs', 'km');
    const run = startRun(l, fx('kill-master-long'), outDir);
    try {
      // Killed the moment the master's process is gone: before (or while) Sentinel promotes the
      // replica — the moment that leaves the most in flux.
      await waitFor(
        'the master killed',
        async () =>
          (await redisRole(masterPort).catch(() => ({ role: 'down' }))).role === 'down' ? true : undefined,
        60_000,
        50,
      );
    } finally {
      run.child.kill('SIGKILL');
    }
    await run.exit;
    const rb = await runCli(l, ['rollback'], 120_000).exit;
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toContain('reverting kill-master');
    // Right when rollback returns, and for the next 8 s: one master (the same one), a linked
    // replica, every Sentinel agreeing.
    const masters = new Set<string>();
    for (let i = 0; i < 32; i++) {
      expect(await replicationBack(l)).toBeUndefined();
      for (const m of await sentinelMasters(l.state())) masters.add(m);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect([...masters], 'the master switched after rollback returned').toHaveLength(1);
  }, 200_000);

  it('foreign faults: a run refuses a target on which a crashed run left faults, naming it, and touches nothing', async () => {
    // Its own lab: on the shared one the row before (a killed Redis master) left parts unhealthy
    // for over 90 s in two CI runs, and this run then stopped at its preflight and never injected.
    await using l = await startTestLab('sf-3');
    const first = startRun(l, fx('latency-20s'), join(l.home, 'runs', 'crashed'));
    try {
      await waitFor(
        'the toxic injected',
        async () => {
          if (first.child.exitCode !== null)
            throw new Error(
              `the run ended first (exit ${first.child.exitCode}): ${first.output().slice(-1500)}`,
            );
          return (await toxiproxyClean(l.state())).toxics.length > 0 ? true : undefined;
        },
        60_000,
        150,
      );
    } finally {
      first.child.kill('SIGKILL');
    }
    await first.exit;
    const toxicBefore = (await toxiproxyProxies(l.state())).find((p) => p.name === 'llm')!.toxics;
    // The crashed run's lease is stale: without --break-lease the next run is refused naming it…
    const second = await startRun(l, fx('latency-20s'), join(l.home, 'runs', 'second')).exit;
    expect(second.code, second.stderr).toBe(4);
    expect(second.stderr).toContain('LEASE_HELD');
    expect(second.stderr).toContain('holder gone');
    // …and with it, it still refuses: the crashed run's toxic is in the way.
    const third = await startRun(l, fx('latency-20s'), join(l.home, 'runs', 'third'), ['--break-lease']).exit;
    expect(third.code, third.stderr).toBe(4);
    expect(third.stderr).toContain('FOREIGN_FAULTS');
    expect(third.stderr).toContain('crashed');
    expect((await toxiproxyProxies(l.state())).find((p) => p.name === 'llm')!.toxics).toEqual(toxicBefore);
    const rb = await runCli(l, ['rollback']).exit;
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
  }, 200_000);
});

describe('a lab stopped under a run', () => {
  it('row 6: `lab down` during a run does not leave the entry pending for ever: rollback closes it, saying what it could not verify', async () => {
    // Its own lab (this test takes it down), stopped and checked at the end of the test whatever happens.
    await using l = await startTestLab('sf-2');
    const outDir = join(l.home, 'runs', 'downed');
    const run = startRun(l, fx('latency-20s'), outDir);
    try {
      await waitFor(
        'the toxic injected',
        async () => ((await toxiproxyClean(l.state())).toxics.length > 0 ? true : undefined),
        60_000,
        150,
      );
      const down = await labDown(l.stateDir);
      expect(down.errors).toEqual([]);
      await run.exit;
    } finally {
      run.child.kill('SIGKILL');
    }
    const rb = await runCli(l, ['rollback']).exit;
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.stdout).toMatch(/Closed run \S+: the lab .* is down/);
    expect(rb.stdout).toContain('Not verified');
    const again = await runCli(l, ['rollback']).exit;
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('Nothing to roll back');
  }, 200_000);
});
