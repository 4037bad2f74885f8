// The safety guarantees of `owui-chaos run` / `rollback`, through the built CLI against one real
// lab: `--dry-run` touches nothing; a broken baseline exits 4 before any injection; one SIGINT
// exits 13 with every fault reverted; `kill -9` in the middle of four injected faults leaves them
// on the persisted revert stack, and `owui-chaos rollback --run DIR` puts the lab back as it was.
// Everything is checked from outside: Toxiproxy's API, nginx's config bytes, replica pids and
// `/health`, the files in the run directory.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labStatus } from '../../../src/lab/lab.js';
import { isAlive } from '../../../src/infra/process/daemon.js';
import {
  fixture,
  readJson,
  replicaHealth,
  runCli,
  runExperimentCli,
  sha256,
  sharedTestLab,
  toxiproxyClean,
  toxiproxyProxies,
  waitFor,
  type JournalActivityView,
  type TestLab,
} from './support.js';

const needLab = sharedTestLab('safety');

interface Snapshot {
  conf: string;
  toxiproxy: Awaited<ReturnType<typeof toxiproxyClean>>;
  replicas: Array<[string, boolean, string]>;
}

/** What an operator sees of the lab: nginx config bytes, proxies/toxics, replicas alive + /health. */
async function snapshot(l: TestLab): Promise<Snapshot> {
  const state = l.state();
  const health = await replicaHealth(state);
  return {
    conf: sha256(state.nginx!.configFile),
    toxiproxy: await toxiproxyClean(state),
    replicas: Object.entries(health).map(([name, h]) => [name, h.alive, h.health]),
  };
}

/** Waits until all four faults of four-faults-long.yaml are visible from outside. */
async function waitForFourFaults(l: TestLab, confBefore: string, pid2: number): Promise<void> {
  await waitFor(
    'all four faults injected',
    async () => {
      const proxies = await toxiproxyProxies(l.state());
      const llm = proxies.find((p) => p.name === 'llm')!;
      const redisReplica = proxies.find((p) => p.name === 'redis-replica')!;
      const conf = readFileSync(l.state().nginx!.configFile, 'utf8');
      const ok =
        llm.toxics.some((t) => t.type === 'latency' && t.attributes.latency === 300) &&
        !redisReplica.enabled &&
        /proxy_buffering\s+on;/.test(conf) &&
        sha256(l.state().nginx!.configFile) !== confBefore &&
        !isAlive(pid2);
      return ok ? true : undefined;
    },
    40_000,
    150,
  );
}

describe('owui-chaos run: safety', () => {
  it('--dry-run prints the plan, exits 0 and changes nothing (no run dir, no lab started, toxics unchanged)', async (ctx) => {
    const l = needLab(ctx);
    const before = await snapshot(l);
    const outDir = join(l.home, 'runs', 'dry');
    const absent = `absent-${process.pid}`;
    const run = runCli(l, [
      'run',
      fixture('four-faults-long'),
      '--lab-name',
      absent,
      '--out',
      outDir,
      '--dry-run',
    ]);
    const exit = await run.exit;
    expect(exit.code, exit.stdout + exit.stderr).toBe(0);
    expect(exit.stdout).toContain('slow-llm');
    expect(exit.stdout).toContain('Dry run: nothing was started, injected or changed.');
    expect(existsSync(outDir)).toBe(false);
    expect(existsSync(join(l.home, 'runs'))).toBe(false);
    // The lab it names is not started (its state dir never appears)…
    expect(existsSync(join(l.home, 'labs', absent))).toBe(false);
    // …and the lab that is up is exactly as it was.
    expect(await snapshot(l)).toEqual(before);

    // Against the running lab too: nothing touched.
    const onLab = await runCli(l, ['run', fixture('four-faults-long'), '--lab-name', l.name, '--dry-run'])
      .exit;
    expect(onLab.code, onLab.stderr).toBe(0);
    expect(await snapshot(l)).toEqual(before);
    expect(existsSync(join(l.home, 'runs'))).toBe(false);
  }, 60_000);

  it('a baseline that breaches its SLOs exits 4 and injects nothing', async (ctx) => {
    const l = needLab(ctx);
    const before = await snapshot(l);
    const outDir = join(l.home, 'runs', 'breach');
    const run = runExperimentCli(l, fixture('baseline-breach'), outDir);
    let sawToxic = false;
    // Watch Toxiproxy for the whole run: not even a transient toxic or disabled proxy.
    const watching = (async () => {
      for (let i = 0; i < 600 && run.child.exitCode === null; i++) {
        const t = await toxiproxyClean(l.state()).catch(() => undefined);
        if (t && (t.toxics.length > 0 || t.disabled.length > 0)) sawToxic = true;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const exit = await run.exit;
    await watching;
    expect(exit.code, exit.stdout + exit.stderr).toBe(4);
    expect(exit.stderr).toContain('STEADY_STATE_BROKEN');
    expect(sawToxic).toBe(false);
    expect(await snapshot(l)).toEqual(before);
    const journal = readJson<{ status: string; deviated: boolean; activities: JournalActivityView[] }>(
      join(outDir, 'journal.json'),
    );
    expect(journal.activities.filter((a) => a.kind === 'inject')).toEqual([]);
    expect(journal.activities.find((a) => a.name === 'steady-state')?.status).toBe('failed');
    expect(journal.deviated).toBe(true);
    expect(readJson<{ entries: unknown[] }>(join(outDir, 'reverts.json')).entries).toEqual([]);
    // One outcome everywhere: the files say what the exit code says, and why.
    expectOneOutcome(outDir, exit.stdout, 4, 'steady-state-failed', 'STEADY_STATE_BROKEN');
  }, 90_000);

  it('one SIGINT during a run exits 13 with every fault reverted', async (ctx) => {
    const l = needLab(ctx);
    const before = await snapshot(l);
    const pid2 = l.state().replicas.find((r) => r.name === 'owui-2')!.pid!;
    const outDir = join(l.home, 'runs', 'sigint');
    const run = runExperimentCli(l, fixture('four-faults-long'), outDir, ['--keep-lab']);
    try {
      await waitForFourFaults(l, before.conf, pid2);
      run.child.kill('SIGINT');
      const exit = await run.exit;
      expect(exit.code, exit.stdout + exit.stderr).toBe(13);
      expect(exit.stderr).toContain('SIGINT');
      // Reverted before the process exited: nothing to wait for.
      expect(await snapshot(l)).toEqual(before);
      expect(l.state().replicas.find((r) => r.name === 'owui-2')!.pid).not.toBe(pid2);
      const stack = readJson<{ entries: Array<{ name: string; status: string }> }>(
        join(outDir, 'reverts.json'),
      );
      expect(stack.entries.map((e) => [e.name, e.status])).toEqual([
        ['slow-llm', 'reverted'],
        ['replica-redis-down', 'reverted'],
        ['buffered', 'reverted'],
        ['stop-2', 'reverted'],
      ]);
      expect(readJson<{ status: string }>(join(outDir, 'journal.json')).status).toBe('interrupted');
      expectOneOutcome(outDir, exit.stdout, 13, 'interrupted', 'INTERRUPTED');
      const again = await runCli(l, ['rollback', '--run', outDir]).exit;
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('Nothing to roll back');
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 120_000);

  it('kill -9 in the middle of four injected faults, then `owui-chaos rollback --run DIR`, leaves the lab as it was', async (ctx) => {
    const l = needLab(ctx);
    const before = await snapshot(l);
    expect(before.toxiproxy).toEqual({ disabled: [], toxics: [] });
    const pid2 = l.state().replicas.find((r) => r.name === 'owui-2')!.pid!;
    const outDir = join(l.home, 'runs', 'crash');
    const run = runExperimentCli(l, fixture('four-faults-long'), outDir, ['--keep-lab']);
    try {
      await waitForFourFaults(l, before.conf, pid2);
    } finally {
      run.child.kill('SIGKILL');
    }
    const exit = await run.exit;
    expect(exit.signal).toBe('SIGKILL');

    // The crash left every fault in place, and on the revert stack.
    const during = await snapshot(l);
    // Named after the entry and the run that owns it (docs/safety.md).
    expect(during.toxiproxy.toxics).toHaveLength(1);
    expect(during.toxiproxy.toxics[0]).toMatch(/^llm\/owui-chaos-slow-llm--run-[0-9a-f]{8}$/);
    expect(during.toxiproxy.disabled).toEqual(['redis-replica']);
    expect(during.conf).not.toBe(before.conf);
    expect(during.replicas.find(([name]) => name === 'owui-2')?.[1]).toBe(false);
    const pending = readJson<{ entries: Array<{ name: string; status: string }> }>(
      join(outDir, 'reverts.json'),
    );
    expect(pending.entries.map((e) => [e.name, e.status])).toEqual([
      ['slow-llm', 'pending'],
      ['replica-redis-down', 'pending'],
      ['buffered', 'pending'],
      ['stop-2', 'pending'],
    ]);

    const rollback = await runCli(l, ['rollback', '--run', outDir]).exit;
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('Rolled back 4 fault(s)');
    // Most recent first.
    expect([...rollback.stdout.matchAll(/^reverting (\S+):/gm)].map((m) => m[1])).toEqual([
      'stop-2',
      'buffered',
      'replica-redis-down',
      'slow-llm',
    ]);

    expect(await snapshot(l)).toEqual(before);
    const status = await labStatus(l.stateDir, { nginxProbes: 4 });
    expect(status.healthy, JSON.stringify(status.parts.filter((p) => !p.healthy))).toBe(true);

    const second = await runCli(l, ['rollback', '--run', outDir]).exit;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('Nothing to roll back');
    expect(await snapshot(l)).toEqual(before);
  }, 120_000);
});

/** results.json, junit.xml, report.html and the terminal carry the exit code, verdict and stop code. */
function expectOneOutcome(outDir: string, stdout: string, code: number, verdict: string, stop: string): void {
  const results = readJson<{ verdict: string; exitCode: number; stops: Array<{ code: string }> }>(
    join(outDir, 'results.json'),
  );
  expect(results).toMatchObject({ verdict, exitCode: code });
  expect(results.stops[0]?.code).toBe(stop);
  const junit = readFileSync(join(outDir, 'junit.xml'), 'utf8');
  expect(junit).toMatch(/<testsuites [^>]*failures="[1-9]/);
  expect(junit).toContain(`<property name="exitCode" value="${code}"/>`);
  expect(junit).toContain(`type="RunStopped:${verdict}"`);
  expect(readFileSync(join(outDir, 'report.html'), 'utf8')).toContain(`→ exit ${code}`);
  expect(stdout).toContain(`→ exit ${code}`);
  expect(stdout).not.toMatch(/Verdict PASS/);
}
