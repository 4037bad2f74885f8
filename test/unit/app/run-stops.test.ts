import { describe, expect, it } from 'vitest';
import { stopsOf } from '../../../src/app/run-stops.js';
import { ExitCode } from '../../../src/core/errors.js';
import type { Journal } from '../../../src/core/journal.js';
import { decideOutcome } from '../../../src/core/report/outcome.js';
import type { SloResult } from '../../../src/core/report/results.js';

const journal: Journal = {
  schemaVersion: 1,
  runId: 'r',
  experiment: { title: 't' },
  target: { name: 'lab', url: 'http://127.0.0.1:1' },
  engine: 'node',
  startedAt: 0,
  endedAt: 1,
  status: 'failed',
  deviated: false,
  activities: [
    {
      name: 'steady-state',
      kind: 'probe',
      startedAt: 0,
      endedAt: 0,
      status: 'failed',
      output: { ok: false, breaches: ['ttft: 9 s'] },
    },
    {
      name: 'kill',
      kind: 'inject',
      action: 'replica.kill',
      startedAt: 0,
      endedAt: 0,
      status: 'failed',
      error: 'no such replica',
    },
  ],
};
const none = {
  journal,
  rollbackFailed: false,
  interrupted: false,
  steadyStateFailed: false,
  faultFailed: false,
  untouched: [],
};

describe('stopsOf: why a run stopped, most important first', () => {
  it('a clean run has no stop', () => {
    expect(stopsOf(none, [], '/runs/r')).toEqual([]);
  });

  it('lists every stop in precedence order, with its code and a fix', () => {
    const stops = stopsOf(
      {
        ...none,
        rollbackFailed: true,
        interrupted: true,
        steadyStateFailed: true,
        faultFailed: true,
        loadError: new Error('k6 died'),
      },
      [{ description: 'latency 500 ms on redis' }],
      '/runs/r',
    );
    expect(stops.map((s) => s.reason)).toEqual([
      'rollback-failed',
      'interrupted',
      'steady-state-failed',
      'fault-failed',
      'load-failed',
    ]);
    expect(stops[0]).toMatchObject({
      code: 'ROLLBACK_FAILED',
      suggestions: ['owui-chaos rollback --run /runs/r'],
    });
    expect(stops[0]?.message).toContain('latency 500 ms on redis');
    expect(stops[1]?.message).toMatch(/not every injected fault/);
    expect(stops[2]?.message).toContain('ttft: 9 s');
    expect(stops[3]?.message).toContain('`kill` (replica.kill) could not be injected: no such replica');
    expect(stops[4]).toMatchObject({ code: 'LOAD_FAILED' });
  });

  it('a fault that touched no traffic is a failed fault (exit 11) that names its proxy and why', () => {
    const stops = stopsOf(
      {
        ...none,
        untouched: [
          {
            name: 'slow-redis',
            action: 'toxic.latency',
            description: 'latency toxic on proxy redis-master',
            injectedMs: 20_400,
          },
        ],
      },
      [],
      '/r',
    );
    expect(stops).toHaveLength(1);
    expect(stops[0]).toMatchObject({ reason: 'fault-failed', code: 'FAULT_TOUCHED_NO_TRAFFIC' });
    expect(stops[0]?.message).toContain(
      '`slow-redis` (latency toxic on proxy redis-master) touched no traffic',
    );
    expect(stops[0]?.message).toContain('in the 20 s it was injected');
    const pass = [{ verdict: 'pass' as const, slo: {} as SloResult['slo'] }];
    expect(decideOutcome(pass, stops).exitCode).toBe(ExitCode.faultFailed);
  });

  it('the exit code follows the first stop', () => {
    const only = (o: Partial<typeof none> & { loadError?: unknown }) => stopsOf({ ...none, ...o }, [], '/r');
    expect(only({ interrupted: true })[0]?.message).toMatch(/every injected fault was reverted/);
    expect(only({ faultFailed: true, loadError: new Error('x') }).map((s) => s.reason)).toEqual([
      'fault-failed',
      'load-failed',
    ]);
    const pass = [{ verdict: 'pass' as const, slo: {} as SloResult['slo'] }];
    expect(decideOutcome(pass, only({ faultFailed: true, loadError: new Error('x') })).exitCode).toBe(
      ExitCode.faultFailed,
    );
    expect(decideOutcome(pass, only({ interrupted: true, rollbackFailed: true })).exitCode).toBe(
      ExitCode.rollbackFailed,
    );
    expect(decideOutcome(pass, only({})).exitCode).toBe(ExitCode.ok);
  });
});
