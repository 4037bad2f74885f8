import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSampleLine, pointLine } from '../../../../src/core/samples.js';
import { NdjsonFileSink } from '../../../../src/engines/node/ndjson-file-sink.js';
import { SampleWriter, pointText, tagsJson } from '../../../../src/engines/node/sample-writer.js';

const utf8 = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('sample NDJSON shape', () => {
  it('is byte-identical to core pointLine (k6 Point shape)', () => {
    const cases = [
      { tags: { client: 'api' as const, replica: 'owui-1' }, value: 12.345, t: 1_767_225_600_123 },
      { tags: {}, value: 0, t: 1_767_225_600_000.75 },
      {
        tags: {
          client: 'browser' as const,
          outcome: 'completed',
          status: '200',
          endpoint: '/api/chat/completions',
        },
        value: 1,
        t: 5,
      },
      { tags: { replica: 'we"ird\\name' }, value: -3.5e-7, t: 1 },
    ];
    for (const c of cases) {
      expect(pointText('ttft', c.t, c.value, tagsJson(c.tags))).toBe(pointLine('ttft', c.t, c.value, c.tags));
    }
  });

  it('writes lines parseSampleLine reads back, with values rounded to 1 µs and non-finite values dropped', () => {
    const out: string[] = [];
    const w = new SampleWriter((b) => out.push(utf8(b)));
    w.emit('client_lag', 1_767_225_600_000, 1.23456789, '{"client":"api"}');
    w.emit('itl', 1_767_225_600_000, Number.NaN, '{}');
    w.emit('e2e', 1_767_225_600_001, 42, '{"client":"api","replica":"r1"}');
    w.flush();
    const lines = out.join('').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toEqual({
      type: 'Point',
      metric: 'client_lag',
      data: { time: '2026-01-01T00:00:00.000Z', value: 1.235, tags: { client: 'api' } },
    });
    expect(parseSampleLine(lines[1]!)).toEqual({
      metric: 'e2e',
      timeMs: 1_767_225_600_001,
      value: 42,
      tags: { client: 'api', replica: 'r1' },
    });
  });

  it('writes exactly the bytes of pointText, for awkward values, non-ASCII and oversized tags', () => {
    const batches: Uint8Array[] = [];
    const w = new SampleWriter((b) => batches.push(b), 300);
    const expected: string[] = [];
    const tagSets = [
      '{}',
      '{"client":"api"}',
      tagsJson({ client: 'api', replica: 'réplica-数据-😀' }),
      tagsJson({ client: 'browser', replica: 'x'.repeat(1000) }),
    ];
    const values = [0, -0, 1e21, 123456789.0125, -3.5e-7, 0.0005, 2 ** 53, 1 / 3, 42];
    let t = 1_767_225_600_000;
    for (let i = 0; i < 200; i++) {
      const tags = tagSets[i % tagSets.length]!;
      const v = values[i % values.length]!;
      t += (i % 3) * 0.4;
      w.emit('itl', t, v, tags);
      expected.push(pointText('itl', t, Math.round(v * 1000) / 1000, tags));
    }
    w.flush();
    expect(batches.length).toBeGreaterThan(10);
    // Every batch owns its buffer (transferable) and holds whole lines.
    for (const b of batches) {
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBe(b.length);
      expect(b[b.length - 1]).toBe(0x0a);
    }
    expect(batches.map(utf8).join('')).toBe(expected.join(''));
  });

  it('formats values exactly as JSON.stringify of the rounded value, over a wide random sample', () => {
    let seed = 12345;
    const rand = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const values = [
      0.0005,
      -0.0005,
      0.0004999,
      999_999_999_999.9995,
      1e12,
      -1e12,
      2.675,
      1.005,
      0.1 + 0.2,
      4.35,
    ];
    for (let i = 0; i < 20_000; i++) {
      const r = rand();
      values.push(
        r < 0.3
          ? rand() * 10
          : r < 0.6
            ? (rand() - 0.5) * 1e6
            : r < 0.8
              ? Math.round(rand() * 1e6) / 1000
              : (rand() - 0.5) * 10 ** (rand() * 16),
      );
    }
    const batches: Uint8Array[] = [];
    const w = new SampleWriter((b) => batches.push(b));
    for (const v of values) w.emit('itl', 7, v, '{}');
    w.flush();
    const got = batches.map(utf8).join('').split('\n');
    values.forEach((v, i) => {
      expect(got[i], String(v)).toBe(pointText('itl', 7, Math.round(v * 1000) / 1000, '{}').slice(0, -1));
    });
  });

  it('flushes by itself past its buffer size', () => {
    const out: string[] = [];
    const w = new SampleWriter((b) => out.push(utf8(b)), 200);
    for (let i = 0; i < 10; i++) w.emit('itl', 0, i, '{}');
    expect(out.length).toBeGreaterThan(0);
    w.flush();
    expect(out.join('').split('\n').filter(Boolean)).toHaveLength(10);
  });
});

describe('NdjsonFileSink', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('appends structured and raw samples in order, flushed on close', () => {
    dir = mkdtempSync(join(tmpdir(), 'sink-'));
    const file = join(dir, 'sub', 'samples.ndjson');
    const sink = new NdjsonFileSink(file, 64);
    sink.write('active_streams', 1000, 3, {});
    sink.writeRaw(
      pointLine('ttft', 2000, 5, { client: 'api' }) + pointLine('ttft', 3000, 6, { client: 'api' }),
    );
    sink.write('active_sockets', 4000, 7, {});
    sink.writeRaw(new TextEncoder().encode(pointLine('e2e', 5000, 8, { client: 'api' })));
    sink.close();
    const samples = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => parseSampleLine(l));
    expect(samples.map((s) => [s?.metric, s?.timeMs, s?.value])).toEqual([
      ['active_streams', 1000, 3],
      ['ttft', 2000, 5],
      ['ttft', 3000, 6],
      ['active_sockets', 4000, 7],
      ['e2e', 5000, 8],
    ]);
    expect(() => sink.writeRaw('x\n')).toThrow(/closed/);
  });
});
