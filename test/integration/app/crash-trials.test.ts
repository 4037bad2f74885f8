// Crash trials (docs/safety.md): `run` is killed with SIGKILL at a random moment — before, during or
// after its injections — across fault kinds (toxics, a disabled proxy, nginx buffering, a stopped
// replica, a killed Redis master), then `owui-chaos rollback` (no argument) runs, and the lab must be
// as it was: no toxic, every proxy enabled, nginx's config bytes identical, every replica alive
// and answering /health, one master every Sentinel names with a replica linked to it.
// Three trials in the default suite; `npm run test:crash-trials` runs OWUI_CHAOS_CRASH_TRIALS
// (default there 20). The seed is printed so a failing trial can be replayed (OWUI_CHAOS_CRASH_SEED).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prng } from '../../../src/protocol/ground-truth.js';
import {
  fixture,
  redisRole,
  replicaHealth,
  runCli,
  runExperimentCli,
  sentinelMasters,
  sha256,
  sharedTestLab,
  toxiproxyClean,
  type TestLab,
} from './support.js';

const TRIALS = Number(process.env.OWUI_CHAOS_CRASH_TRIALS ?? 3);
const SEED = Number(process.env.OWUI_CHAOS_CRASH_SEED ?? Date.now() % 100_000);
const SHARING = join(import.meta.dirname, '..', '..', 'fixtures', 'experiments', 'sharing');

const KINDS = [
  { name: 'toxic latency + proxy down + nginx buffering + replica stop', file: fixture('four-faults-long') },
  { name: 'redis kill-master', file: join(SHARING, 'kill-master-long.yaml') },
  { name: 'nginx buffering', file: join(SHARING, 'buffering-20s.yaml') },
];

const needLab = sharedTestLab('sf-ct');

async function labBack(l: TestLab, confBefore: string): Promise<string[]> {
  const problems: string[] = [];
  const state = l.state();
  const t = await toxiproxyClean(state);
  if (t.toxics.length) problems.push(`toxics ${t.toxics.join(', ')}`);
  if (t.disabled.length) problems.push(`disabled ${t.disabled.join(', ')}`);
  if (sha256(state.nginx!.configFile) !== confBefore) problems.push('nginx config differs');
  if (existsSync(join(l.stateDir, 'lease.json'))) problems.push('a lease is left on the lab');
  for (const [name, h] of Object.entries(await replicaHealth(state)))
    if (!h.alive || h.health !== '200')
      problems.push(`replica ${name}: alive ${h.alive}, /health ${h.health}`);
  const masters = await sentinelMasters(state).catch(() => ['?', '?']);
  if (masters.length !== 1) problems.push(`sentinels name ${masters.join(', ')}`);
  else {
    const port = Number(masters[0]!.split(':')[1]);
    const roles = await Promise.all(
      [state.redis!.master.port, state.redis!.replica.port].map((p) =>
        redisRole(p).catch(() => ({ role: 'down' })),
      ),
    );
    if (
      !roles.some(
        (r) => r.role === 'slave' && 'masterPort' in r && r.masterPort === port && r.link === 'connected',
      )
    )
      problems.push(`no replica linked to ${masters[0]} (${JSON.stringify(roles)})`);
  }
  return problems;
}

describe(`crash trials (${TRIALS}, seed ${SEED})`, () => {
  it(
    'SIGKILL at random moments across fault kinds, then `rollback`, restores the lab every time',
    async (ctx) => {
      const l = needLab(ctx);
      const random = prng(SEED);
      const confBefore = sha256(l.state().nginx!.configFile);
      expect(await labBack(l, confBefore)).toEqual([]);
      const log: string[] = [];
      let injectedTrials = 0;
      for (let i = 0; i < TRIALS; i++) {
        const kind = KINDS[Math.floor(random() * KINDS.length)]!;
        // Counted from the moment the run has its revert stack (the load starts right after), so
        // preflight time on a loaded machine does not eat the window; stratified over 1–12 s so
        // the trials cover steady state, the injections (3–6 s) and the held faults.
        const killAfterMs = 1000 + Math.floor(((i + random()) / TRIALS) * 11_000);
        const dir = join(l.home, 'runs', `trial-${i}`);
        const run = runExperimentCli(l, kind.file, dir, ['--keep-lab']);
        for (
          let k = 0;
          k < 1200 && !existsSync(join(dir, 'reverts.json')) && run.child.exitCode === null;
          k++
        )
          await new Promise((r) => setTimeout(r, 100));
        await new Promise((r) => setTimeout(r, killAfterMs));
        run.child.kill('SIGKILL');
        await run.exit;
        const outDir = join(l.home, 'runs', `trial-${i}`);
        const recorded = existsSync(join(outDir, 'reverts.json'))
          ? (
              JSON.parse(readFileSync(join(outDir, 'reverts.json'), 'utf8')) as {
                entries: Array<{ name: string; status: string }>;
              }
            ).entries
          : [];
        const rb = await runCli(l, ['rollback'], 150_000).exit;
        const back = await labBack(l, confBefore);
        log.push(
          `trial ${i}: ${kind.name}, killed after ${killAfterMs} ms with [${recorded.map((e) => `${e.name}:${e.status}`).join(', ')}] → rollback exit ${rb.code}; ${back.length ? back.join('; ') : 'lab back'}`,
        );
        console.log(log[log.length - 1]);
        expect(rb.code, rb.stdout + rb.stderr).toBe(0);
        expect(back, `${log.join('\n')}\n${rb.stdout}`).toEqual([]);
        if (recorded.length > 0) injectedTrials++;
      }
      // Not vacuous: at least one trial was killed with faults recorded (only 1 trial may miss).
      if (TRIALS >= 2) expect(injectedTrials, log.join('\n')).toBeGreaterThan(0);
    },
    TRIALS * 150_000 + 60_000,
  );
});
