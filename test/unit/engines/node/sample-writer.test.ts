import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSampleLine, pointLine } from '../../../../src/core/samples.js';
import { NdjsonFileSink } from '../../../../src/engines/node/ndjson-file-sink.js';
import { SampleWriter, pointText, tagsJson } from '../../../../src/engines/node/sample-writer.js';

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
    const w = new SampleWriter((t) => out.push(t));
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

  it('flushes by itself past its buffer size', () => {
    const out: string[] = [];
    const w = new SampleWriter((t) => out.push(t), 200);
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
    ]);
    expect(() => sink.writeRaw('x\n')).toThrow(/closed/);
  });
});
