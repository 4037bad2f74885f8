// Started things in tests (labs, servers, daemons) as `await using` resources, the way
// testcontainers-node hands out containers: whatever a test starts is stopped when the block that
// holds it ends — normally, on a failed assertion, or on a throw — in reverse order of starting.
//
//   await using lab = await startTestLab('faults');        // stopped at the end of the block
//   await using llm = resource(await startStubLlm(), (s) => s.close());
//
// For one resource per test FILE (too slow to start per test), `fileResource` starts it in
// beforeAll and disposes it in afterAll; a start that fails makes every test that asks for it fail
// with the reason (never a skip). `await using` is lowered by vitest's transform; Node 20 has
// `Symbol.asyncDispose` (not yet AsyncDisposableStack, hence ResourceStack here).

import { afterAll, beforeAll } from 'vitest';

export type Resource<T> = T & AsyncDisposable;

/**
 * Makes `value` disposable: disposing runs `stop(value)` once (a second dispose does nothing).
 * The object itself is returned (not a copy), so its methods and getters keep working.
 */
export function resource<T extends object>(
  value: T,
  stop: (value: T) => Promise<unknown> | unknown,
): Resource<T> {
  let stopped: Promise<void> | undefined;
  return Object.defineProperty(value, Symbol.asyncDispose, {
    configurable: true,
    value: () => (stopped ??= Promise.resolve().then(async () => void (await stop(value)))),
  }) as Resource<T>;
}

/**
 * Several resources disposed together, last first. Every disposer runs even when an earlier one
 * throws; the errors are reported together (one error as itself, several as an AggregateError).
 */
export class ResourceStack implements AsyncDisposable {
  private readonly stack: Array<() => Promise<unknown> | unknown> = [];
  private disposed = false;

  use<T extends AsyncDisposable>(r: T): T {
    this.defer(() => r[Symbol.asyncDispose]());
    return r;
  }

  defer(fn: () => Promise<unknown> | unknown): void {
    if (this.disposed) throw new Error('ResourceStack: already disposed');
    this.stack.push(fn);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    while (this.stack.length > 0) {
      const fn = this.stack.pop()!;
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} resources failed to stop`);
  }
}

/**
 * A ResourceStack for the whole test file, disposed in afterAll: what beforeAll starts goes on it
 * as it starts, so a start that fails half-way still stops what came before it.
 */
export function fileStack(stopTimeoutMs = 60_000): ResourceStack {
  const stack = new ResourceStack();
  afterAll(() => stack[Symbol.asyncDispose](), stopTimeoutMs);
  return stack;
}

export interface FileResourceOptions {
  /** What the resource is, for the error when it did not start ("the lab"). */
  what: string;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
}

/**
 * One resource for the whole test file: `start` runs in beforeAll, the resource is disposed in
 * afterAll (a dispose that throws fails the file). The returned getter gives the resource, or
 * throws why it did not start.
 */
export function fileResource<T extends AsyncDisposable>(
  start: () => Promise<T>,
  opts: FileResourceOptions,
): () => T {
  let value: T | undefined;
  let startError = '';
  beforeAll(async () => {
    try {
      value = await start();
    } catch (err) {
      startError = `${opts.what} did not start here: ${err instanceof Error ? err.message : String(err)}`;
    }
  }, opts.startTimeoutMs ?? 120_000);
  afterAll(async () => {
    await value?.[Symbol.asyncDispose]();
  }, opts.stopTimeoutMs ?? 60_000);
  return () => {
    if (value === undefined)
      throw new Error(startError || `${opts.what} is not started yet (used outside a test?)`);
    return value;
  };
}
