import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../../../src/core/config/experiment.js';
import { planExperiment, revertOrder, toLoadPlan } from '../../../../src/core/config/plan.js';
import { experimentFixture } from './helpers.js';
import { loadExperiment } from '../../../../src/core/config/experiment.js';

describe('experiment plan', () => {
  it('describes load, each fault with its window and inverse, the revert order and the SLOs', async () => {
    const { experiment, targetRef } = await loadExperiment(experimentFixture('valid', 'full.yaml'), {
      env: {},
    });
    const plan = planExperiment(experiment, targetRef);
    expect(plan.load).toBe(
      '10 API chat users over SSE (closed model, 1 s think time, 120-token replies at 40 tokens/s) and 10 browser clients on Socket.IO (each a 120-token chat every 5 s) for 1 min 30 s with the node engine',
    );
    expect(plan.faults).toEqual([
      {
        name: 'failover',
        action: 'redis.failover',
        from: 30_000,
        to: undefined,
        description: 'Sentinel failover of the Redis master (wait up to 30 s for the new master)',
        inverse: undefined,
      },
      {
        name: 'slow-llm',
        action: 'toxic.latency',
        from: 40_000,
        to: 60_000,
        description: 'latency 500 ms ±50 ms on proxy `llm` (downstream)',
        inverse: 'remove the toxic',
      },
      {
        name: 'kill-one',
        action: 'replica.kill',
        from: 45_000,
        to: 55_000,
        description: 'kill 1 random replica (SIGKILL)',
        inverse: 'start the replica again',
      },
    ]);
    expect(plan.revertOrder).toEqual(['slow-llm', 'kill-one']);
    expect(plan.slos).toEqual(['ttft p95 ≤ 2000 ms in baseline, recovery', 'e2e p99 ≤ 8000 ms in slow-llm']);
    expect(plan.text).toContain(
      'At 30 s, `failover` (redis.failover): Sentinel failover of the Redis master (wait up to 30 s for the new master); nothing to revert.',
    );
    expect(plan.text).toContain(
      'From 40 s to 60 s, `slow-llm` (toxic.latency): latency 500 ms ±50 ms on proxy `llm` (downstream); then remove the toxic.',
    );
    expect(plan.text).toContain('against the lab');
  });

  it('reverts explicit rollbacks first, then every other fault with an inverse in reverse injection order', () => {
    const timeline = [
      { name: 'a', at: 10, action: 'toxic.down' },
      { name: 'b', at: 20, action: 'redis.failover' },
      { name: 'c', at: 30, action: 'replica.stop' },
      { name: 'd', at: 40, action: 'nginx.buffering' },
    ] as never;
    expect(revertOrder({ timeline, rollbacks: undefined })).toEqual(['d', 'c', 'a']);
    expect(revertOrder({ timeline, rollbacks: [{ revert: 'a' }] })).toEqual(['a', 'd', 'c']);
  });

  it('says when a lasting fault without `for` stays until the end, and describes the open model', async () => {
    const { experiment } = await parseExperiment(
      'title: t\nload: { duration: 60s, chat: { rate: 2/s, maxInFlight: 4 } }\ntimeline:\n  - { name: down, at: 20s, action: toxic.down, params: { proxy: llm } }\n',
      '/tmp/t.yaml',
      { env: {} },
    );
    const plan = planExperiment(experiment);
    expect(plan.load).toBe(
      'API chats over SSE arriving at 2/s (open model, at most 4 in flight, 120-token replies) for 1 min with the node engine',
    );
    expect(plan.text).toContain(
      'From 20 s until the end of the run, `down` (toxic.down): proxy `llm` disabled (connections refused); at the end, enable the proxy again.',
    );
    expect(plan.text).toContain('No SLOs');
  });

  it('turns the load section into the engines’ LoadPlan', async () => {
    const target = { openwebui: { url: 'http://127.0.0.1:9' }, model: 'm' };
    const closed = await loadExperiment(experimentFixture('valid', 'full.yaml'), { env: {} });
    expect(toLoadPlan(closed.experiment.load, target)).toEqual({
      durationMs: 90_000,
      baseUrl: 'http://127.0.0.1:9',
      model: 'm',
      chat: { vus: 10, thinkTimeMs: 1000, tokens: 120 },
      sockets: {
        vus: 10,
        chatIntervalMs: 5000,
        tokens: 120,
        eventGraceMs: 10_000,
        origin: 'http://127.0.0.1:9',
      },
    });
    const open = await loadExperiment(experimentFixture('valid', 'open-model.yaml'), { env: {} });
    expect(toLoadPlan(open.experiment.load, target)).toEqual({
      durationMs: 120_000,
      baseUrl: 'http://127.0.0.1:9',
      model: 'm',
      chat: { ratePerSecond: 5, maxInFlight: 20, tokens: 50 },
    });
  });
});
