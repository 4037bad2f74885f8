// Every fault type through the built CLI (`owui-chaos run <fixture> --lab-name …`) against one real
// lab (nginx + 2 replica processes + Redis/Sentinel + Toxiproxy + mock LLM), its effect observed from
// OUTSIDE while the run is in flight (Sentinel's view of the master, pids and `/health`, Toxiproxy's
// API and listen ports, nginx's config bytes and a real streamed chat), then observed reverted.
// The three fixtures chain their faults so the whole file costs three ~32 s runs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, tcpOpen } from '../../../src/infra/process/daemon.js';
import { httpGet } from '../drivers/http-probe.js';
import { signin, sseChat } from '../lab/lab-clients.js';
import {
  fixture,
  processStateLetter,
  readJson,
  redisRole,
  replicaHealth,
  runExperimentCli,
  sentinelMasters,
  sha256,
  sharedTestLab,
  summaryRow,
  toxiproxyClean,
  toxiproxyProxies,
  waitFor,
  type JournalActivityView,
} from './support.js';

const needLab = sharedTestLab('faults');

function port(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

describe('owui-chaos run: each fault injected, observed from outside, reverted', () => {
  it('redis.failover moves the master (and a later `redis-master` toxic follows it); toxic.latency raises ttft by ≈ the latency; nginx.buffering delays the first byte and restores the config bytes', async (ctx) => {
    const l = needLab(ctx);
    const state = l.state();
    const confFile = state.nginx!.configFile;
    const confBefore = sha256(confFile);
    const [masterBefore, ...others] = await sentinelMasters(state);
    expect(others, 'sentinels disagree before the run').toEqual([]);
    const token = await signin(state.nginx!.url, state.admin!.email, state.admin!.password);
    const outDir = join(l.home, 'runs', 'failover-latency-buffering');
    const run = runExperimentCli(l, fixture('failover-latency-buffering'), outDir);
    try {
      // redis.failover: every Sentinel names another master.
      const masterAfter = await waitFor(
        'every Sentinel reporting a new master',
        async () => {
          const m = await sentinelMasters(state);
          return m.length === 1 && m[0] !== masterBefore ? m[0] : undefined;
        },
        45_000,
        200,
      );

      // A toxic on `redis-master` after the failover lands on the proxy in front of the NEW master.
      const redisToxic = await waitFor(
        'a latency toxic on a Redis proxy',
        async () =>
          (await toxiproxyProxies(state)).find((p) => p.name.startsWith('redis-') && p.toxics.length > 0),
        20_000,
        100,
      );
      expect(redisToxic.upstream).toBe(masterAfter);
      expect(redisToxic.name).toBe('redis-replica'); // created in front of the node that was the replica

      // toxic.latency: Toxiproxy holds an 800 ms latency toxic on `llm`, then none.
      const toxic = await waitFor(
        'a latency toxic on proxy llm',
        async () =>
          (await toxiproxyProxies(state))
            .find((p) => p.name === 'llm')
            ?.toxics.find((t) => t.type === 'latency'),
        20_000,
        200,
      );
      expect(toxic.attributes.latency).toBe(800);
      await waitFor(
        'the latency toxic removed',
        async () => ((await toxiproxyClean(state)).toxics.length === 0 ? true : undefined),
        20_000,
        200,
      );

      // nginx.buffering: the config says `proxy_buffering on` and a short stream arrives all at once.
      await waitFor(
        'proxy_buffering on in the nginx config',
        () => (/proxy_buffering\s+on;/.test(readFileSync(confFile, 'utf8')) ? true : undefined),
        20_000,
        100,
      );
      const buffered = await waitFor(
        'a chat whose first token arrives with its end (buffered)',
        async () => {
          const r = await sseChat(
            state.nginx!.url,
            token,
            { seed: 11, tokens: 10, tokensPerSecond: 10 },
            { timeoutMs: 5000 },
          );
          return r.done && r.ttftMs !== undefined && r.ttftMs > 0.8 * r.e2eMs ? r : undefined;
        },
        5000,
        50,
      );
      expect(buffered.e2eMs).toBeGreaterThan(800); // 10 tokens at 10/s: the stream itself lasted ~1 s
      await waitFor(
        'the nginx config restored byte for byte',
        () => (sha256(confFile) === confBefore ? true : undefined),
        20_000,
        100,
      );
      const streaming = await waitFor(
        'a chat streamed token by token again',
        async () => {
          const r = await sseChat(
            state.nginx!.url,
            token,
            { seed: 12, tokens: 10, tokensPerSecond: 10 },
            { timeoutMs: 5000 },
          );
          return r.done && r.ttftMs !== undefined && r.ttftMs < 0.5 * r.e2eMs ? r : undefined;
        },
        5000,
        50,
      );
      expect(streaming.e2eMs).toBeGreaterThan(800);

      const exit = await run.exit;
      expect(exit.code, exit.stdout + exit.stderr).toBe(0);
      expect(await sentinelMasters(state)).toEqual([masterAfter]);
      expect(await toxiproxyClean(state)).toEqual({ disabled: [], toxics: [] });
      expect(sha256(confFile)).toBe(confBefore);

      // ttft during the latency window rose by ≈ the toxic's 800 ms (measured by the run itself).
      const baseline = summaryRow(outDir, 'ttft', 'baseline');
      const slow = summaryRow(outDir, 'ttft', 'slow-llm');
      expect(slow.count).toBeGreaterThan(0);
      const rise = slow.p50! - baseline.p50!;
      expect(rise, `ttft p50 baseline ${baseline.p50} ms, slow-llm ${slow.p50} ms`).toBeGreaterThan(650);
      expect(rise).toBeLessThan(1200);
      // …and buffering showed in the run's own numbers too: several tokens per read.
      expect(summaryRow(outDir, 'burst_size', 'buffered').p95!).toBeGreaterThan(3);
      expect(summaryRow(outDir, 'burst_size', 'baseline').p95!).toBeLessThanOrEqual(2);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 120_000);

  it('replica.kill takes a replica away and back; toxic.down disables the proxy and enables it; replica.pause freezes a replica and resumes it', async (ctx) => {
    const l = needLab(ctx);
    const before = l.state();
    const pid1 = before.replicas.find((r) => r.name === 'owui-1')!.pid!;
    const pid2 = before.replicas.find((r) => r.name === 'owui-2')!.pid!;
    const url1 = before.replicas.find((r) => r.name === 'owui-1')!.url;
    const url2 = before.replicas.find((r) => r.name === 'owui-2')!.url;
    const llm = (await toxiproxyProxies(before)).find((p) => p.name === 'llm')!;
    expect(llm.enabled).toBe(true);
    const outDir = join(l.home, 'runs', 'replica-kill-down-pause');
    const run = runExperimentCli(l, fixture('replica-kill-down-pause'), outDir);
    try {
      // replica.kill: the pid is gone and /health is refused…
      await waitFor(
        'owui-1 killed',
        async () =>
          !isAlive(pid1) && (await httpGet(`${url1}/health`, 500)).kind === 'refused' ? true : undefined,
        30_000,
        100,
      );
      // …then a new process answers /health again.
      const restarted = await waitFor(
        'owui-1 started again',
        async () => {
          const h = (await replicaHealth(l.state()))['owui-1']!;
          return h.pid !== pid1 && h.alive && h.health === '200' ? h : undefined;
        },
        30_000,
        200,
      );
      expect(restarted.pid).not.toBe(pid1);

      // toxic.down: Toxiproxy says disabled and the listen port refuses connections…
      await waitFor(
        'proxy llm disabled',
        async () => {
          const p = (await toxiproxyProxies(l.state())).find((x) => x.name === 'llm')!;
          return !p.enabled && !(await tcpOpen(port(p.listen))) ? true : undefined;
        },
        20_000,
        100,
      );
      // …then enabled and listening again.
      await waitFor(
        'proxy llm enabled again',
        async () => {
          const p = (await toxiproxyProxies(l.state())).find((x) => x.name === 'llm')!;
          return p.enabled && (await tcpOpen(port(p.listen))) ? true : undefined;
        },
        20_000,
        100,
      );

      // replica.pause: the process is stopped (state T) and /health hangs…
      await waitFor(
        'owui-2 paused',
        async () =>
          processStateLetter(pid2) === 'T' && (await httpGet(`${url2}/health`, 300)).kind === 'timeout'
            ? true
            : undefined,
        20_000,
        100,
      );
      // …then the SAME process answers again.
      await waitFor(
        'owui-2 resumed',
        async () =>
          processStateLetter(pid2) !== 'T' && (await httpGet(`${url2}/health`, 1000)).kind === 'answered'
            ? true
            : undefined,
        20_000,
        100,
      );
      expect(l.state().replicas.find((r) => r.name === 'owui-2')!.pid).toBe(pid2);

      const exit = await run.exit;
      expect(exit.code, exit.stdout + exit.stderr).toBe(0);
      expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
      const health = await replicaHealth(l.state());
      expect(Object.values(health).map((h) => [h.alive, h.health])).toEqual([
        [true, '200'],
        [true, '200'],
      ]);
      const journal = readJson<{ activities: JournalActivityView[] }>(join(outDir, 'journal.json'));
      expect(journal.activities.filter((a) => a.kind === 'revert').map((a) => [a.name, a.status])).toEqual([
        ['kill-1', 'succeeded'],
        ['llm-down', 'succeeded'],
        ['pause-2', 'succeeded'],
      ]);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 120_000);

  it('redis.kill-master kills the master, Sentinel promotes the replica, the old master rejoins as its replica; replica.rolling-restart restarts replicas one at a time', async (ctx) => {
    const l = needLab(ctx);
    const state = l.state();
    const [master] = await sentinelMasters(state);
    const masterPort = Number(master!.split(':')[1]);
    const nodes = [state.redis!.master, state.redis!.replica];
    const oldMaster = nodes.find((n) => n.port === masterPort)!;
    const other = nodes.find((n) => n.port !== masterPort)!;
    expect(oldMaster, `no lab Redis node on the master's port ${masterPort}`).toBeDefined();
    const replicaPids = Object.fromEntries(state.replicas.map((r) => [r.name, r.pid!]));
    const outDir = join(l.home, 'runs', 'kill-master-rolling-restart');
    const run = runExperimentCli(l, fixture('kill-master-rolling-restart'), outDir);
    try {
      // The master's process dies; every Sentinel then names the other node.
      await waitFor(
        'the Redis master killed',
        () => (!isAlive(oldMaster.pid) ? true : undefined),
        30_000,
        100,
      );
      await waitFor(
        'Sentinel promoting the replica',
        async () => {
          const m = await sentinelMasters(l.state());
          return m.length === 1 && m[0] === `127.0.0.1:${other.port}` ? true : undefined;
        },
        30_000,
        200,
      );
      // After the revert the old master runs again, as a replica of the new one.
      const rejoined = await waitFor(
        'the old master rejoining as a replica',
        async () => {
          const role = await redisRole(oldMaster.port);
          return role.role === 'slave' && role.masterPort === other.port ? role : undefined;
        },
        30_000,
        200,
      );
      expect(rejoined.role).toBe('slave');
      expect((await redisRole(other.port)).role).toBe('master');

      // Rolling restart: watch both replicas; each gets a new pid, never both down at once.
      const changedAt: Record<string, number> = {};
      let bothDown = 0;
      await waitFor(
        'every replica restarted',
        async () => {
          const health = await replicaHealth(l.state());
          const down = Object.values(health).filter((h) => h.health !== '200').length;
          if (down === 2) bothDown++;
          for (const [name, h] of Object.entries(health)) {
            if (h.pid !== replicaPids[name] && changedAt[name] === undefined) changedAt[name] = Date.now();
          }
          return Object.keys(changedAt).length === 2 && down === 0 ? true : undefined;
        },
        40_000,
        100,
      );
      expect(bothDown, 'polls that saw both replicas down').toBe(0);
      const [t1, t2] = Object.values(changedAt).sort((a, b) => a - b);
      expect(t2! - t1!, 'the second replica restarted ≥ the 2 s interval after the first').toBeGreaterThan(
        1500,
      );

      const exit = await run.exit;
      expect(exit.code, exit.stdout + exit.stderr).toBe(0);
      const journal = readJson<{ activities: JournalActivityView[] }>(join(outDir, 'journal.json'));
      const rolling = journal.activities.find((a) => a.name === 'rolling' && a.kind === 'inject')!;
      expect(rolling.status).toBe('succeeded');
      expect((rolling.output as { result: { restarted: string[] } }).result.restarted).toEqual([
        'owui-1',
        'owui-2',
      ]);
      const killed = journal.activities.find((a) => a.name === 'kill-master' && a.kind === 'inject')!;
      expect((killed.output as { result: { newMaster: { port: number } } }).result.newMaster.port).toBe(
        other.port,
      );
      // The lab still answers through nginx with both replicas healthy.
      const health = await replicaHealth(l.state());
      expect(Object.values(health).every((h) => h.alive && h.health === '200')).toBe(true);
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 120_000);
});
