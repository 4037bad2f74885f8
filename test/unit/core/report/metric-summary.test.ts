import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeSampleFiles } from '../../../../src/core/report/metric-summary.js';
import { renderMetricSummary, renderTable } from '../../../../src/core/report/terminal.js';
import { ValidationError } from '../../../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'owui-metric-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const point = (metric: string, value: number, tags: Record<string, string> = {}): string =>
  JSON.stringify({ type: 'Point', metric, data: { time: '2026-11-21T13:00:00.000Z', value, tags } });

describe("load's per-metric summary", () => {
  it('percentiles for trends, sums by outcome for counters', async () => {
    const file = join(dir, 'ok.ndjson');
    writeFileSync(
      file,
      [
        ...[10, 20, 30, 40].map((v) => point('ttft', v)),
        point('stream_outcome', 1, { outcome: 'completed', client: 'api' }),
        point('stream_outcome', 1, { outcome: 'completed', client: 'api' }),
        point('stream_outcome', 1, { outcome: 'error', client: 'browser' }),
        point('not_a_catalogue_metric', 5),
      ].join('\n') + '\n',
    );
    const { metrics, malformed } = await summarizeSampleFiles([file]);
    expect(malformed).toEqual([]);
    const ttft = metrics.find((m) => m.metric === 'ttft');
    expect(ttft?.count).toBe(4);
    expect(ttft?.max).toBeCloseTo(40, 0);
    expect(metrics.find((m) => m.metric === 'stream_outcome')?.by).toEqual({
      'api:completed': 2,
      'browser:error': 1,
    });
    expect(metrics.some((m) => m.metric === 'not_a_catalogue_metric')).toBe(false);
  });

  it('a bad line (a killed writer) is skipped and counted, not a crash', async () => {
    const file = join(dir, 'truncated.ndjson');
    writeFileSync(file, `${point('ttft', 10)}\n${point('ttft', 20)}\n{"type":"Point","metr`);
    const { metrics, malformed } = await summarizeSampleFiles([file]);
    expect(metrics.find((m) => m.metric === 'ttft')?.count).toBe(2);
    expect(malformed).toEqual([`${file}:3`]);
  });

  it('a file with no valid line at all is a ValidationError naming it', async () => {
    const file = join(dir, 'garbage.ndjson');
    writeFileSync(file, 'not json\nnor this\n');
    await expect(summarizeSampleFiles([file])).rejects.toThrow(ValidationError);
    await expect(summarizeSampleFiles([file])).rejects.toThrow(file);
  });

  it('renders through the one table renderer: numbers right-aligned, header first', () => {
    const text = renderMetricSummary([
      { metric: 'ttft', count: 4, p50: 20, p95: 40, p99: 40, max: 40 },
      { metric: 'stream_outcome', count: 3, by: { 'api:completed': 2 } },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^metric\s+count\s+p50\s+p95\s+p99\s+max\s+by outcome\/status$/);
    expect(lines[1]).toMatch(/^─+/);
    expect(lines[2]).toMatch(/^ttft\s+4\s+20\s+40\s+40\s+40$/);
    expect(lines[3]).toContain('api:completed=2');
    expect(renderTable(['a', 'bb'], [['xyz', '1']], { indent: '', rule: false, right: [1] })).toEqual([
      'a    bb',
      'xyz   1',
    ]);
  });
});
