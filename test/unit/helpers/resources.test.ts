import { describe, expect, it } from 'vitest';
import { resource, ResourceStack } from '../../helpers/resources.js';

function tracked(log: string[], name: string, failStop = false) {
  return resource({ name }, async (v) => {
    log.push(`stop ${v.name}`);
    if (failStop) throw new Error(`${v.name} would not stop`);
  });
}

describe('await using resources', () => {
  it('stops what a test started when the test throws, last started first', async () => {
    const log: string[] = [];
    await expect(
      (async () => {
        await using a = tracked(log, 'lab');
        await using b = tracked(log, 'server');
        log.push(`using ${a.name} and ${b.name}`);
        throw new Error('assertion failed');
      })(),
    ).rejects.toThrow('assertion failed');
    expect(log).toEqual(['using lab and server', 'stop server', 'stop lab']);
  });

  it('stops on a normal end too, once even when disposed twice; the object keeps its identity', async () => {
    const log: string[] = [];
    const original = { name: 'db', port: 1 };
    const r = resource(original, () => void log.push('stop'));
    expect(r).toBe(original);
    {
      await using held = r;
      expect(held.port).toBe(1);
    }
    await r[Symbol.asyncDispose]();
    expect(log).toEqual(['stop']);
  });

  it('a stack runs every stop even when one fails, and reports the failures', async () => {
    const log: string[] = [];
    const stack = new ResourceStack();
    stack.use(tracked(log, 'a'));
    stack.use(tracked(log, 'b', true));
    stack.use(tracked(log, 'c', true));
    const err = await stack[Symbol.asyncDispose]().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors.map((e: Error) => e.message)).toEqual([
      'c would not stop',
      'b would not stop',
    ]);
    expect(log).toEqual(['stop c', 'stop b', 'stop a']);
    await stack[Symbol.asyncDispose](); // idempotent
    expect(log).toHaveLength(3);
  });

  it('a resource that fails to stop fails the block, after the body', async () => {
    const log: string[] = [];
    await expect(
      (async () => {
        await using _x = tracked(log, 'x', true);
        log.push('body');
      })(),
    ).rejects.toThrow('x would not stop');
    expect(log).toEqual(['body', 'stop x']);
  });
});
