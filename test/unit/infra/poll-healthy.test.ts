// pollHealthy: the one wait-until-healthy loop of the lab and the drivers (src/infra/http-probe.ts).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pollHealthy, type HealthProbe } from '../../../src/infra/http-probe.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const unhealthy = (): Promise<HealthProbe> => Promise.resolve({ ok: false, reason: '/ready answered 503' });

describe('pollHealthy', () => {
  it('returns the first passing probe', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const done = pollHealthy(
      async () => (++calls >= 3 ? { ok: true, reason: 'ok' } : { ok: false, reason: 'starting' }),
      10_000,
      { clock },
    );
    await clock.runAll();
    expect(await done).toEqual({ ok: true, reason: 'ok' });
    expect(calls).toBe(3);
  });

  it('gives up after the budget with the last reason; each probe gets at most what is left', async () => {
    const clock = new FakeClock();
    const timeouts: number[] = [];
    const done = pollHealthy(
      async (t) => {
        timeouts.push(t);
        return unhealthy();
      },
      1000,
      { clock, intervalMs: 300 },
    );
    await clock.runAll();
    expect(await done).toEqual({ ok: false, reason: '/ready answered 503' });
    expect(timeouts[0]).toBe(1000);
    expect(timeouts.every((t) => t >= 100 && t <= 1000)).toBe(true);
    expect(timeouts.length).toBeLessThanOrEqual(5);
  });

  it('stops at once when the watched process has exited (the driver used to wait out its budget)', async () => {
    // A real process that has exited (and been reaped): its pid is no longer alive.
    const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const pid = Number(child.stdout.trim());
    const clock = new FakeClock();
    let calls = 0;
    const done = pollHealthy(
      async () => {
        calls++;
        return unhealthy();
      },
      60_000,
      { clock, watch: { pid } },
    );
    await clock.runAll();
    expect(await done).toEqual({ ok: false, reason: `process ${pid} exited` });
    expect(calls).toBe(0);
    expect(clock.now()).toBe(new FakeClock().now()); // no time spent waiting
  });

  it('a container that is gone ends the wait with its reason', async () => {
    const clock = new FakeClock();
    const done = pollHealthy(unhealthy, 60_000, {
      clock,
      watch: { gone: async () => 'container exited (137)' },
    });
    await clock.runAll();
    expect(await done).toEqual({ ok: false, reason: 'container exited (137)' });
  });
});
