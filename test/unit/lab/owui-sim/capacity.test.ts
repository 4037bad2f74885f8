import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CapacityFullError,
  CapacityGate,
  capacityEnv,
  capacityFromEnv,
  labKneePerSecond,
  serviceTimeMs,
  type CapacityModel,
} from '../../../../src/lab/owui-sim/capacity.js';
import { configFromEnv } from '../../../../src/lab/owui-sim/config.js';

const MODEL: CapacityModel = { maxStreams: 2, queueLimit: 0, tokenCostMs: 50, requestCostMs: 0 };
const event = (text: string): string =>
  `data: {"id":"x","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]}\n\n`;

describe('capacity model from env', () => {
  it('is absent without OWUI_SIM_MAX_STREAMS, and round-trips through capacityEnv', () => {
    expect(capacityFromEnv({})).toBeUndefined();
    expect(configFromEnv({}).capacity).toBeUndefined();
    expect(capacityFromEnv(capacityEnv(MODEL))).toEqual(MODEL);
    expect(configFromEnv(capacityEnv(MODEL)).capacity).toEqual(MODEL);
  });

  it('carries the no-queue switch through env (only when set), and rejects a bad value', () => {
    const loss = { ...MODEL, noQueue: true };
    expect(capacityEnv(loss)).toMatchObject({ OWUI_SIM_NO_QUEUE: '1' });
    expect(capacityEnv(MODEL)).not.toHaveProperty('OWUI_SIM_NO_QUEUE');
    expect(capacityFromEnv(capacityEnv(loss))).toEqual(loss);
    expect(capacityFromEnv({ ...capacityEnv(MODEL), OWUI_SIM_NO_QUEUE: '0' })).toEqual(MODEL);
    expect(() => capacityFromEnv({ ...capacityEnv(MODEL), OWUI_SIM_NO_QUEUE: 'yes' })).toThrow(
      /OWUI_SIM_NO_QUEUE="yes"/,
    );
  });

  it('rejects bad values and costs without a stream limit, naming the variable', () => {
    expect(() => capacityFromEnv({ OWUI_SIM_MAX_STREAMS: 'two' })).toThrow(/OWUI_SIM_MAX_STREAMS="two"/);
    expect(() => capacityFromEnv({ OWUI_SIM_MAX_STREAMS: '-1' })).toThrow(/≥ 0/);
    expect(() => capacityFromEnv({ OWUI_SIM_TOKEN_COST_MS: '20' })).toThrow(/need OWUI_SIM_MAX_STREAMS/);
  });

  it('computes the knee as replicas × slots / service time', () => {
    expect(serviceTimeMs(MODEL, 10)).toBe(500);
    expect(labKneePerSecond(MODEL, 10, 1)).toBe(4);
    expect(labKneePerSecond(MODEL, 10, 3)).toBe(12);
    expect(labKneePerSecond({ ...MODEL, requestCostMs: 500 }, 10, 2)).toBe(4);
  });
});

describe('CapacityGate', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('serves at most maxStreams at once and hands freed slots out in FIFO order', async () => {
    const gate = new CapacityGate(MODEL, () => Date.now());
    const a = await gate.acquire();
    const b = await gate.acquire();
    const order: string[] = [];
    const c = gate.acquire().then((s) => (order.push('c'), s));
    const d = gate.acquire().then((s) => (order.push('d'), s));
    await vi.advanceTimersByTimeAsync(1);
    expect(gate.inService).toBe(2);
    expect(gate.queued).toBe(2);
    expect(order).toEqual([]);
    a.release();
    a.release(); // idempotent: must not free a second slot
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual(['c']);
    b.release();
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual(['c', 'd']);
    (await c).release();
    (await d).release();
    expect(gate.inService).toBe(0);
  });

  it('without a queue, answers full at once when every slot is taken, and serves again once one is freed', async () => {
    const gate = new CapacityGate({ ...MODEL, noQueue: true }, () => Date.now());
    const a = await gate.acquire();
    await gate.acquire();
    await expect(gate.acquire()).rejects.toBeInstanceOf(CapacityFullError);
    expect(gate.queued).toBe(0);
    a.release();
    await expect(gate.acquire()).resolves.toBeDefined();
    expect(gate.inService).toBe(2);
  });

  it('takes no slot for a client that already left (a slot taken then would never be released)', async () => {
    const gate = new CapacityGate(MODEL, () => Date.now());
    const gone = new AbortController();
    gone.abort();
    await expect(gate.acquire(gone.signal)).rejects.toThrow(/aborted/);
    expect(gate.inService).toBe(0);
  });

  it('drops a waiter whose client left, and answers full beyond the queue limit', async () => {
    const gate = new CapacityGate({ ...MODEL, maxStreams: 1, queueLimit: 1 }, () => Date.now());
    const a = await gate.acquire();
    const leave = new AbortController();
    const left = gate.acquire(leave.signal);
    await expect(gate.acquire()).rejects.toBeInstanceOf(CapacityFullError);
    leave.abort();
    await expect(left).rejects.toThrow(/aborted/);
    expect(gate.queued).toBe(0);
    a.release();
    expect(gate.inService).toBe(0);
  });

  it('holds the k-th content event until slot start + request cost + k × token cost', async () => {
    const gate = new CapacityGate({ ...MODEL, requestCostMs: 100 }, () => Date.now());
    const t0 = Date.now();
    const slot = await gate.acquire();
    const written: Array<{ at: number; text: string }> = [];
    let paused = 0;
    const flow = { pause: () => paused++, resume: () => undefined };
    const write = (c: Buffer): void => void written.push({ at: Date.now() - t0, text: c.toString() });
    // A role event (no content marker) passes at once; then three content events, the marker of
    // the third split across two chunks.
    slot.forward(Buffer.from('data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n'), write, flow);
    slot.forward(Buffer.from(event('a') + event('b')), write, flow);
    const third = event('c');
    const cut = third.indexOf('"content"') + 4;
    slot.forward(Buffer.from(third.slice(0, cut)), write, flow);
    slot.forward(Buffer.from(third.slice(cut)), write, flow);
    // The upstream ends while chunks still wait: the end must come after them, not before.
    let endedAt: number | undefined;
    slot.after(() => (endedAt = Date.now() - t0));
    await vi.advanceTimersByTimeAsync(1000);
    expect(written.map((w) => w.at)).toEqual([0, 200, 200, 250]);
    expect(written.map((w) => w.text).join('')).toBe(
      'data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n' + event('a') + event('b') + event('c'),
    );
    expect(endedAt).toBe(250);
    expect(paused).toBe(3);
    // Without a model the gate changes nothing.
    const free = await new CapacityGate(undefined).acquire();
    const out: string[] = [];
    free.forward(Buffer.from(event('x')), (c) => out.push(c.toString()), flow);
    expect(out).toHaveLength(1);
  });
});
