// Golden results.json: a fixed input (two runner files, a journal, an SLO file) must produce
// exactly the stored document. Regenerate deliberately with UPDATE_GOLDEN=1 and review the diff.
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Journal } from '../../../../src/core/journal.js';
import { evaluateRun } from '../../../../src/core/report/evaluate.js';
import type { RunResults } from '../../../../src/core/report/results.js';
import { loadSloFile } from '../../../../src/core/slo/load.js';

const dir = join(import.meta.dirname, '../../../fixtures/reports/golden');
const goldenFile = join(dir, 'results.golden.json');

/** Machine-specific bits (absolute paths, wall clock) are normalised; every number stays. */
function normalise(results: RunResults): RunResults {
  return {
    ...results,
    generatedAt: 0,
    input: {
      ...results.input,
      sampleFiles: results.input.sampleFiles.map((f) => basename(f)),
      warnings: results.input.warnings.map((w) => w.replace(dir, '<golden>')),
    },
  };
}

async function evaluateGolden(): Promise<RunResults> {
  const journal = JSON.parse(await readFile(join(dir, 'journal.json'), 'utf8')) as Journal;
  return normalise(
    await evaluateRun({
      sampleFiles: [join(dir, 'samples-runner-0.ndjson'), join(dir, 'samples-runner-1.ndjson')],
      journal,
      slos: await loadSloFile(join(dir, 'slos.yaml')),
      now: () => 0,
    }),
  );
}

describe('golden results.json', () => {
  it('matches the stored document', async () => {
    const results = await evaluateGolden();
    const text = JSON.stringify(results, null, 1) + '\n';
    if (process.env['UPDATE_GOLDEN'] === '1') await writeFile(goldenFile, text);
    const golden = await readFile(goldenFile, 'utf8');
    expect(JSON.parse(text)).toEqual(JSON.parse(golden));
  });

  it('states what the golden input was built to show', async () => {
    const r = await evaluateGolden();
    expect(r.schemaVersion).toBe(1);
    expect(r.input).toMatchObject({
      samples: 305,
      malformedLines: 0,
      sampleFiles: ['samples-runner-0.ndjson', 'samples-runner-1.ndjson'],
    });
    expect(r.phases.map((p) => p.name)).toEqual(['baseline', 'kill-replica-1', 'fault', 'recovery', 'all']);
    expect(r.slos.find((s) => s.id === 'ttft:p95' && s.phase === 'kill-replica-1')?.verdict).toBe('breach');
    expect(r.slos.find((s) => s.id === 'garbled_token_rate:max')?.verdict).toBe('no-data');
    expect(r.recovery[0]).toMatchObject({ fault: 'kill-replica-1', recovered: true, recoveryTimeMs: 15_000 });
    expect(r.verdict).toBe('breach');
    expect(r.journal?.runId).toBe('run-test');
    expect(r.metrics.map((m) => m.name)).toContain('ttft');
    expect(r.series['ttft']).toHaveLength(60);
    expect(r.histograms.length).toBeGreaterThan(0);
  });
});
