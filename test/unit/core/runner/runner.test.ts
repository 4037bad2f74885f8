import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoadEngine, LoadPlan, ProxyTraffic, RevertRecord } from '../../../../src/core/ports.js';
import { RevertStack } from '../../../../src/core/runner/revert-stack.js';
import {
  type FaultInjector,
  type RunnerDeps,
  type RunnerExperiment,
  type RunnerTimelineEntry,
  runExperiment,
} from '../../../../src/core/runner/runner.js';
import { TimelineEntrySchema, type TimelineEntry } from '../../../../src/core/faults/registry.js';
import { FakeClock } from '../../../helpers/fake-clock.js';

/** A typed timeline entry (parsed by the experiment schema) as the runner schedules it. */
function step(
  name: string,
  atMs: number,
  action: 'toxic.latency' | 'redis.failover',
  forMs?: number,
): RunnerTimelineEntry {
  const entry = TimelineEntrySchema.parse({
    name,
    at: atMs,
    action,
    ...(action === 'toxic.latency' ? { params: { proxy: 'llm', latency: 100 } } : {}),
  });
  return { entry, atMs, ...(forMs === undefined ? {} : { forMs }) };
}

const plan: LoadPlan = { durationMs: 60_000, baseUrl: 'http://127.0.0.1:1', model: 'm' };

/** A load engine that "runs" for the plan's duration on the fake clock, or until aborted. */
function fakeEngine(clock: FakeClock, opts: { failAtMs?: number } = {}): LoadEngine {
  return {
    name: 'fake',
    async run(p, _sink, { signal }) {
      try {
        if (opts.failAtMs !== undefined) {
          await clock.sleep(opts.failAtMs, signal);
          throw new Error('engine exploded');
        }
        await clock.sleep(p.durationMs, signal);
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
    },
  };
}

interface Calls {
  log: string[];
}

function fakeInjector(
  clock: FakeClock,
  calls: Calls,
  opts: {
    failInject?: string;
    failRevert?: string;
    stackFile?: string;
    /** The counter a fault's `traffic` reads (absent: the fault counts no traffic). */
    traffic?: () => Promise<ProxyTraffic | undefined>;
  } = {},
): FaultInjector {
  return {
    async prepare(entry: TimelineEntry) {
      const record: RevertRecord | null =
        entry.action === 'redis.failover'
          ? null
          : { driver: 'toxiproxy', op: 'removeToxic', args: { proxy: 'llm', toxic: entry.name } };
      return {
        description: `${entry.action} ${entry.name}`,
        record,
        apply: async () => {
          if (opts.stackFile) {
            // The inverse must already be on disk when the fault is applied.
            const onDisk = JSON.parse(readFileSync(opts.stackFile, 'utf8')) as {
              entries: Array<{ name: string }>;
            };
            calls.log.push(`persisted-before-apply:${onDisk.entries.some((e) => e.name === entry.name)}`);
          }
          if (opts.failInject === entry.name) throw new Error(`cannot inject ${entry.name}`);
          calls.log.push(`inject:${entry.name}@${clock.now() - 1_700_000_000_000}`);
          return { ok: true };
        },
        ...(opts.traffic ? { traffic: opts.traffic } : {}),
      };
    },
    async revert(record: RevertRecord) {
      const name = record.driver === 'toxiproxy' && record.op === 'removeToxic' ? record.args.toxic : '?';
      if (opts.failRevert === name) throw new Error(`cannot revert ${name}`);
      calls.log.push(`revert:${name}@${clock.now() - 1_700_000_000_000}`);
    },
  };
}

function setup(
  timeline: RunnerTimelineEntry[],
  overrides: Partial<RunnerDeps> = {},
  injectorOpts: Parameters<typeof fakeInjector>[2] = {},
  experiment: Partial<RunnerExperiment> = {},
) {
  const clock = new FakeClock();
  const dir = mkdtempSync(join(tmpdir(), 'runner-'));
  const stackFile = join(dir, 'reverts.json');
  const stack = RevertStack.create(stackFile, 'run-1');
  const calls: Calls = { log: [] };
  const deps: RunnerDeps = {
    engine: fakeEngine(clock),
    plan,
    sink: { write: () => undefined },
    faults: fakeInjector(clock, calls, { stackFile, ...injectorOpts }),
    stack,
    clock,
    runId: 'run-1',
    target: { name: 'lab', url: 'http://127.0.0.1:1' },
    ...overrides,
  };
  const exp: RunnerExperiment = { title: 't', timeline, abortOnBreach: false, ...experiment };
  return { clock, deps, calls, stackFile, exp };
}

describe('runExperiment', () => {
  it('injects at `at`, reverts at `at + for`, and persists each inverse before applying it', async () => {
    const { clock, deps, calls, exp, stackFile } = setup([
      step('slow', 10_000, 'toxic.latency', 5_000),
      step('flip', 20_000, 'redis.failover'),
    ]);
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(calls.log).toEqual([
      'persisted-before-apply:true',
      'inject:slow@10000',
      'revert:slow@15000',
      'persisted-before-apply:true',
      'inject:flip@20000',
    ]);
    expect(outcome.journal.status).toBe('completed');
    expect(outcome.journal.deviated).toBe(false);
    expect(outcome.stillInjected).toEqual([]);
    const kinds = outcome.journal.activities.map((a) => `${a.kind}:${a.name}:${a.status}`);
    expect(kinds).toEqual([
      'load:load:succeeded',
      'inject:slow:succeeded',
      'revert:slow:succeeded',
      'inject:flip:succeeded',
    ]);
    const stack = JSON.parse(readFileSync(stackFile, 'utf8')) as { entries: Array<{ status: string }> };
    expect(stack.entries.map((e) => e.status)).toEqual(['reverted', 'none']);
  });

  it('reverts a fault without `for` at the end of the run', async () => {
    const { clock, deps, calls, exp } = setup([step('slow', 10_000, 'toxic.latency')]);
    const run = runExperiment(exp, deps);
    await clock.runAll();
    await run;
    expect(calls.log.filter((l) => !l.startsWith('persisted'))).toEqual([
      'inject:slow@10000',
      'revert:slow@60000',
    ]);
  });

  it('injects nothing when the steady state is already broken', async () => {
    const { clock, deps, calls, exp } = setup([step('slow', 10_000, 'toxic.latency', 5_000)], {
      checkSteadyState: async () => ({ ok: false, breaches: ['ttft p95 = 2450 ms, objective ≤ 2000'] }),
    });
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(calls.log).toEqual([]);
    expect(outcome.steadyStateFailed).toBe(true);
    expect(outcome.journal.status).toBe('aborted');
    expect(outcome.journal.deviated).toBe(true);
    // The load stopped at the first fault's time instead of running its full duration.
    const load = outcome.journal.activities.find((a) => a.kind === 'load')!;
    expect(load.endedAt - load.startedAt).toBe(10_000);
  });

  it('stops the timeline after a failed injection and still reverts what was injected', async () => {
    const { clock, deps, calls, exp } = setup(
      [
        step('a', 5_000, 'toxic.latency'),
        step('b', 10_000, 'toxic.latency'),
        step('c', 15_000, 'toxic.latency'),
      ],
      {},
      { failInject: 'b' },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(calls.log.filter((l) => !l.startsWith('persisted'))).toEqual([
      'inject:a@5000',
      'revert:b@10000',
      'revert:a@10000',
    ]);
    expect(outcome.faultFailed).toBe(true);
    expect(outcome.journal.status).toBe('failed');
  });

  it('on interruption stops load and reverts everything; a second interrupt stops reverting', async () => {
    const interrupt = new AbortController();
    const stopReverting = new AbortController();
    const { clock, deps, exp } = setup([step('slow', 5_000, 'toxic.latency', 30_000)], {
      interrupt: interrupt.signal,
      stopReverting: stopReverting.signal,
    });
    const run = runExperiment(exp, deps);
    await clock.advance(8_000);
    interrupt.abort('SIGINT');
    stopReverting.abort('second SIGINT');
    await clock.runAll();
    const outcome = await run;
    expect(outcome.interrupted).toBe(true);
    expect(outcome.journal.status).toBe('interrupted');
    expect(outcome.stillInjected.map((e) => e.name)).toEqual(['slow']);
    expect(outcome.rollbackFailed).toBe(true);
  });

  it('on interruption (single) reverts the injected fault', async () => {
    const interrupt = new AbortController();
    const { clock, deps, calls, exp } = setup([step('slow', 5_000, 'toxic.latency', 30_000)], {
      interrupt: interrupt.signal,
    });
    const run = runExperiment(exp, deps);
    await clock.advance(8_000);
    interrupt.abort('SIGINT');
    await clock.runAll();
    const outcome = await run;
    expect(calls.log.filter((l) => l.startsWith('revert'))).toEqual(['revert:slow@8000']);
    expect(outcome.stillInjected).toEqual([]);
    expect(outcome.journal.status).toBe('interrupted');
  });

  it('a run that ends early reverts its faults while the load still runs, then stops the load', async () => {
    for (const end of ['interrupt', 'interrupt-while-waiting-for-load'] as const) {
      const interrupt = new AbortController();
      const { clock, deps, calls, exp } = setup(
        end === 'interrupt'
          ? [step('slow', 5_000, 'toxic.latency', 30_000)]
          : [step('slow', 5_000, 'toxic.latency')],
        { interrupt: interrupt.signal },
      );
      const engine = deps.engine;
      deps.engine = {
        name: 'fake',
        run: (p, sink, o) => {
          o.signal?.addEventListener('abort', () =>
            calls.log.push(`load-stopped@${clock.now() - 1_700_000_000_000}`),
          );
          return engine.run(p, sink, o);
        },
      };
      const run = runExperiment(exp, deps);
      await clock.advance(8_000);
      interrupt.abort('SIGINT');
      await clock.runAll();
      await run;
      expect(
        calls.log.filter((l) => !l.startsWith('persisted')),
        end,
      ).toEqual(['inject:slow@5000', 'revert:slow@8000', 'load-stopped@8000']);
    }
  });

  it('reports a failed revert as still injected', async () => {
    const { clock, deps, exp } = setup(
      [step('slow', 5_000, 'toxic.latency', 5_000)],
      {},
      { failRevert: 'slow' },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(outcome.rollbackFailed).toBe(true);
    expect(outcome.stillInjected[0]?.error).toContain('cannot revert slow');
    expect(outcome.journal.status).toBe('failed');
  });

  it('reverts in the explicit rollback order first', async () => {
    const { clock, deps, calls, exp } = setup(
      [
        step('a', 5_000, 'toxic.latency'),
        step('b', 6_000, 'toxic.latency'),
        step('c', 7_000, 'toxic.latency'),
      ],
      {},
      {},
      { rollbackOrder: ['a'] },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    await run;
    expect(calls.log.filter((l) => l.startsWith('revert')).map((l) => l.split('@')[0])).toEqual([
      'revert:a',
      'revert:c',
      'revert:b',
    ]);
  });

  it('aborts on an SLO breach when abortOnBreach is set', async () => {
    let checks = 0;
    const { clock, deps, calls, exp } = setup(
      [step('slow', 5_000, 'toxic.latency', 40_000), step('later', 50_000, 'toxic.latency')],
      {
        checkBreach: async () => ({ ok: ++checks < 2, breaches: ['e2e p95'] }),
        breachCheckIntervalMs: 5_000,
      },
      {},
      { abortOnBreach: true },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(outcome.aborted).toBe(true);
    expect(outcome.journal.status).toBe('aborted');
    expect(outcome.journal.deviated).toBe(true);
    expect(calls.log.filter((l) => !l.startsWith('persisted'))).toEqual([
      'inject:slow@5000',
      'revert:slow@15000',
    ]);
  });

  it('a load generator failure stops the run and reverts', async () => {
    const { deps, calls, exp } = setup([step('slow', 5_000, 'toxic.latency', 40_000)]);
    const clock = deps.clock as FakeClock;
    deps.engine = fakeEngine(clock, { failAtMs: 10_000 });
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(String(outcome.loadError)).toContain('engine exploded');
    expect(calls.log.filter((l) => l.startsWith('revert'))).toEqual(['revert:slow@10000']);
    expect(outcome.journal.status).toBe('failed');
  });
});

describe('fault windows', () => {
  it('a fault without an inverse but with `for` gets a window of that length', async () => {
    const { faultWindows } = await import('../../../../src/core/journal.js');
    const { clock, deps, exp } = setup([step('flip', 20_000, 'redis.failover', 15_000)]);
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    const [window] = faultWindows(outcome.journal);
    expect(window).toMatchObject({ name: 'flip', action: 'redis.failover' });
    expect(window!.end - window!.start).toBe(15_000);
  });
});

describe('rollbackStrategy and journal events', () => {
  it('`never` leaves faults without `for` pending for `owui-chaos rollback`, and journals the decision', async () => {
    const { clock, deps, calls, exp, stackFile } = setup(
      [step('windowed', 5_000, 'toxic.latency', 5_000), step('kept', 20_000, 'toxic.latency')],
      {},
      {},
      { rollbackStrategy: 'never' },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    // The declared window still ends; the end-of-run revert does not happen.
    expect(calls.log.filter((l) => l.startsWith('revert'))).toEqual(['revert:windowed@10000']);
    expect(outcome.leftInPlace.map((e) => e.name)).toEqual(['kept']);
    expect(outcome.stillInjected.map((e) => e.name)).toEqual(['kept']);
    expect(outcome.rollbackFailed).toBe(false);
    expect(outcome.journal.status).toBe('completed');
    expect(outcome.journal.events).toEqual([
      expect.objectContaining({ code: 'ROLLBACK_SKIPPED', message: expect.stringContaining('kept') }),
    ]);
    const onDisk = RevertStack.load(stackFile);
    expect(onDisk.outstanding().map((e) => [e.name, e.status])).toEqual([['kept', 'pending']]);
  });

  it('`always` (the control) reverts the same fault at the end and journals no event', async () => {
    const { clock, deps, calls, exp } = setup(
      [step('kept', 20_000, 'toxic.latency')],
      {},
      {},
      {
        rollbackStrategy: 'always',
      },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(calls.log.filter((l) => l.startsWith('revert'))).toEqual(['revert:kept@60000']);
    expect(outcome.leftInPlace).toEqual([]);
    expect(outcome.journal.events).toBeUndefined();
  });

  it('`never` does not outlive a Ctrl-C: an interrupted run reverts everything', async () => {
    const interrupt = new AbortController();
    const { clock, deps, calls, exp } = setup(
      [step('kept', 5_000, 'toxic.latency')],
      { interrupt: interrupt.signal },
      {},
      { rollbackStrategy: 'never' },
    );
    const run = runExperiment(exp, deps);
    await clock.advance(8_000);
    interrupt.abort('SIGINT');
    await clock.runAll();
    const outcome = await run;
    expect(calls.log.filter((l) => l.startsWith('revert'))).toEqual(['revert:kept@8000']);
    expect(outcome.leftInPlace).toEqual([]);
    expect(outcome.stillInjected).toEqual([]);
  });

  it('a breach check that throws is a journal event, not a silent "ok"', async () => {
    let checks = 0;
    const { clock, deps, exp } = setup(
      [step('slow', 5_000, 'toxic.latency', 20_000)],
      {
        checkBreach: async () => {
          checks++;
          throw new Error('samples.ndjson unreadable');
        },
        breachCheckIntervalMs: 5_000,
      },
      {},
      { abortOnBreach: true },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(checks).toBeGreaterThan(0);
    expect(outcome.aborted).toBe(false);
    const events = outcome.journal.events ?? [];
    expect(events.length).toBe(checks);
    expect(events[0]).toMatchObject({
      code: 'BREACH_CHECK_FAILED',
      message: expect.stringContaining('samples.ndjson unreadable'),
    });
  });

  it("journals what a preparer warned about, under the entry's name", async () => {
    const { clock, deps, exp } = setup([step('slow', 5_000, 'toxic.latency')]);
    const inner = deps.faults;
    deps.faults = {
      prepare: async (e) => ({
        ...(await inner.prepare(e)),
        warnings: [{ code: 'REDIS_ROLE_UNRESOLVED', message: 'Sentinel did not answer' }],
      }),
      revert: (r) => inner.revert(r),
    };
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(outcome.journal.events).toEqual([
      {
        at: expect.any(Number),
        code: 'REDIS_ROLE_UNRESOLVED',
        name: 'slow',
        message: 'Sentinel did not answer',
      },
    ]);
  });
});

describe('a fault that touched no traffic', () => {
  /** One open connection whose bytes grow by `perRead` each time it is read (0: nothing passes). */
  const counter = (perRead: number) => {
    let bytes = 1_000;
    return async (): Promise<ProxyTraffic> => ({
      closedBytes: 0,
      open: { '127.0.0.1:5000': (bytes += perRead) },
    });
  };

  it('is caught: no byte between inject and revert makes the run fail and names the fault', async () => {
    const { clock, deps, exp } = setup(
      [step('slow', 5_000, 'toxic.latency', 10_000)],
      {},
      { traffic: counter(0) },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(outcome.untouched).toEqual([
      { name: 'slow', action: 'toxic.latency', description: 'toxic.latency slow', injectedMs: 10_000 },
    ]);
    expect(outcome.journal.status).toBe('failed');
    expect(outcome.journal.activities.find((a) => a.kind === 'probe')).toMatchObject({
      name: 'slow',
      status: 'failed',
      output: { check: 'traffic', bytes: 0 },
      error: 'no traffic reached it in 10 s',
    });
  });

  it('is left alone when traffic passed (the control): the probe records the bytes', async () => {
    const { clock, deps, exp } = setup(
      [step('slow', 5_000, 'toxic.latency', 10_000)],
      {},
      { traffic: counter(4096) },
    );
    const run = runExperiment(exp, deps);
    await clock.runAll();
    const outcome = await run;
    expect(outcome.untouched).toEqual([]);
    expect(outcome.journal.status).toBe('completed');
    expect(outcome.journal.activities.find((a) => a.kind === 'probe')).toMatchObject({
      status: 'succeeded',
      output: { check: 'traffic', bytes: 4096 },
    });
  });

  it('a fault left for the end of the run is checked at its final revert', async () => {
    const { clock, deps, exp } = setup([step('slow', 5_000, 'toxic.latency')], {}, { traffic: counter(0) });
    const run = runExperiment(exp, deps);
    await clock.runAll();
    expect((await run).untouched.map((u) => u.name)).toEqual(['slow']);
  });

  it('an interrupted run reverts without reading the count again (its verdict is `interrupted`)', async () => {
    let reads = 0;
    const traffic = async (): Promise<ProxyTraffic> => {
      reads += 1;
      return { closedBytes: 0, open: {} };
    };
    const interrupt = new AbortController();
    const { clock, deps, calls, exp } = setup(
      [step('slow', 5_000, 'toxic.latency', 30_000)],
      { interrupt: interrupt.signal },
      { traffic },
    );
    const run = runExperiment(exp, deps);
    await clock.advance(8_000);
    interrupt.abort('SIGINT');
    await clock.runAll();
    const outcome = await run;
    expect(reads).toBe(1);
    expect(calls.log.filter((l) => l.startsWith('revert'))).toEqual(['revert:slow@8000']);
    expect(outcome.untouched).toEqual([]);
    expect(outcome.journal.status).toBe('interrupted');
  });

  it('a counter that cannot be read is a journal event, never a pass or a failure by itself', async () => {
    for (const traffic of [async () => undefined, async () => Promise.reject(new Error('ECONNREFUSED'))]) {
      const { clock, deps, exp } = setup([step('slow', 5_000, 'toxic.latency', 10_000)], {}, { traffic });
      const run = runExperiment(exp, deps);
      await clock.runAll();
      const outcome = await run;
      expect(outcome.untouched).toEqual([]);
      expect(outcome.journal.status).toBe('completed');
      expect(outcome.journal.events).toEqual([
        expect.objectContaining({ code: 'TRAFFIC_NOT_COUNTED', name: 'slow' }),
      ]);
      expect(outcome.journal.activities.some((a) => a.kind === 'probe')).toBe(false);
    }
  });
});
