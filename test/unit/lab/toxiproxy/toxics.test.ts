import { describe, expect, it } from 'vitest';
import {
  createRuntime,
  mergeAttributes,
  parseDirection,
  sliceOffsets,
  type Chunk,
  type LinkControl,
  type ToxicRecord,
} from '../../../../src/lab/toxiproxy/toxics.js';
import { splitHostPort } from '../../../../src/lab/toxiproxy/proxy.js';

function control(): LinkControl & { closes: number; resets: number } {
  const c = {
    closes: 0,
    resets: 0,
    close: () => void c.closes++,
    reset: () => void c.resets++,
    now: () => 0,
  };
  return c;
}

function toxic(type: ToxicRecord['type'], attributes: Record<string, number>, toxicity = 1): ToxicRecord {
  return { name: `${type}_downstream`, type, stream: 'downstream', toxicity, attributes };
}

async function run(t: ToxicRecord, inputs: string[], ctl = control(), random = () => 0.5): Promise<string[]> {
  const rt = createRuntime(t, ctl, { bytesTransmitted: 0 }, random);
  const out: string[] = [];
  for (const s of inputs) {
    const chunk: Chunk = { data: Buffer.from(s), ts: 0 };
    await rt.data(chunk, async (c) => void out.push(c.data.toString()));
  }
  rt.dispose();
  return out;
}

describe('toxicity', () => {
  it('0 never applies (the toxic passes data through)', async () => {
    expect(await run(toxic('limit_data', { bytes: 1 }, 0), ['hello'], control(), () => 0)).toEqual(['hello']);
  });

  it('1 always applies', async () => {
    expect(await run(toxic('limit_data', { bytes: 1 }, 1), ['hello'], control(), () => 0.999)).toEqual(['h']);
  });
});

describe('limit_data', () => {
  it('passes exactly `bytes` bytes across chunks, then closes', async () => {
    const ctl = control();
    expect(await run(toxic('limit_data', { bytes: 7 }), ['abcd', 'efgh', 'ijkl'], ctl)).toEqual([
      'abcd',
      'efg',
    ]);
    expect(ctl.closes).toBeGreaterThanOrEqual(1);
  });

  it('keeps its count when the toxic is updated (state survives runtimes)', async () => {
    const state = { bytesTransmitted: 0 };
    const ctl = control();
    const first = createRuntime(toxic('limit_data', { bytes: 5 }), ctl, state, () => 0);
    await first.data({ data: Buffer.from('abc'), ts: 0 }, async () => undefined);
    const second = createRuntime(toxic('limit_data', { bytes: 5 }), ctl, state, () => 0);
    const out: string[] = [];
    await second.data({ data: Buffer.from('defg'), ts: 0 }, async (c) => void out.push(c.data.toString()));
    expect(out).toEqual(['de']);
  });
});

describe('timeout', () => {
  it('drops data and closes the connection when removed', async () => {
    const ctl = control();
    const rt = createRuntime(toxic('timeout', { timeout: 0 }), ctl, { bytesTransmitted: 0 }, () => 0);
    const out: string[] = [];
    await rt.data({ data: Buffer.from('x'), ts: 0 }, async (c) => void out.push(c.data.toString()));
    expect(out).toEqual([]);
    rt.removed();
    rt.dispose();
    expect(ctl.closes).toBe(1);
  });
});

describe('latency', () => {
  it('does not wait for a chunk that is already older than the latency', async () => {
    const ctl = { ...control(), now: () => 1000 };
    const rt = createRuntime(
      toxic('latency', { latency: 100, jitter: 0 }),
      ctl,
      { bytesTransmitted: 0 },
      () => 0,
    );
    const out: number[] = [];
    await rt.data({ data: Buffer.from('x'), ts: 0 }, async (c) => void out.push(c.ts));
    expect(out).toEqual([0]);
  });

  it('passes a delayed chunk on at once when disposed (no data dropped)', async () => {
    const rt = createRuntime(
      toxic('latency', { latency: 60_000 }),
      control(),
      { bytesTransmitted: 0 },
      () => 0,
    );
    const out: string[] = [];
    const pending = rt.data(
      { data: Buffer.from('late'), ts: 0 },
      async (c) => void out.push(c.data.toString()),
    );
    rt.dispose();
    await pending;
    expect(out).toEqual(['late']);
  });
});

describe('sliceOffsets', () => {
  it('covers the whole buffer with contiguous pieces near the average size', () => {
    let i = 0;
    const offsets = sliceOffsets(1000, 50, 10, () => (i++ % 10) / 10);
    expect(offsets[0]).toBe(0);
    expect(offsets.at(-1)).toBe(1000);
    for (let k = 1; k < offsets.length - 1; k += 2) expect(offsets[k]).toBe(offsets[k + 1]);
    for (let k = 0; k < offsets.length; k += 2) {
      const size = (offsets[k + 1] as number) - (offsets[k] as number);
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(60);
    }
  });

  it('returns one piece when the data is already small, nothing for empty data', () => {
    expect(sliceOffsets(30, 50, 10)).toEqual([0, 30]);
    expect(sliceOffsets(0, 50, 10)).toEqual([]);
  });

  it('survives a zero average size without endless recursion', () => {
    expect(sliceOffsets(8, 0, 0).at(-1)).toBe(8);
  });
});

describe('mergeAttributes', () => {
  it('fills defaults, merges over the base and ignores unknown keys', () => {
    expect(mergeAttributes('latency', {}, { latency: 5, nope: 1 })).toEqual({
      attributes: { latency: 5, jitter: 0 },
    });
    expect(mergeAttributes('latency', { latency: 5, jitter: 1 }, { jitter: 2 })).toEqual({
      attributes: { latency: 5, jitter: 2 },
    });
  });

  it('rejects non-integers like Go decoding into int64', () => {
    const r = mergeAttributes('bandwidth', {}, { rate: 1.5 });
    expect('error' in r && r.error).toMatch(/cannot unmarshal number 1.5 .*rate of type int64/);
    expect('error' in mergeAttributes('bandwidth', {}, { rate: 'fast' })).toBe(true);
  });
});

describe('parseDirection / splitHostPort', () => {
  it('parses streams case-insensitively', () => {
    expect(parseDirection('UPSTREAM')).toBe('upstream');
    expect(parseDirection('down')).toBeUndefined();
  });

  it('splits host:port including IPv6 and empty hosts', () => {
    expect(splitHostPort('127.0.0.1:80')).toEqual({ host: '127.0.0.1', port: 80 });
    expect(splitHostPort('[::1]:6379')).toEqual({ host: '::1', port: 6379 });
    expect(splitHostPort(':8080')).toEqual({ host: '', port: 8080 });
    expect(splitHostPort('localhost')).toBeUndefined();
    expect(splitHostPort('h:99999')).toBeUndefined();
  });
});
