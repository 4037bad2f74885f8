// The report commands as a user runs them (a real child process per call): exit codes 0 / 10 / 2,
// files written with --out, --json output. Commands run from src through tsx, so no build is needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSamples } from '../../../src/core/report/evaluate.js';
import { writeReports } from '../../../src/core/report/write.js';
import { T0, journalWith, ttftSeries } from '../../unit/core/report/synthetic.js';

const root = join(import.meta.dirname, '../../..');
const golden = join(root, 'test/fixtures/reports/golden');

function cli(
  command: 'show' | 'compare',
  args: string[],
): { status: number | null; stdout: string; stderr: string } {
  const script = `const m = await import(${JSON.stringify(join(root, `src/commands/report/${command}.ts`))}); await m.default.run(${JSON.stringify(args)}, ${JSON.stringify(root)});`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'owui-report-cmd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('owui-chaos report show', () => {
  it('reports on sample files of two runners with a journal, writes the reports and exits 10 on a breach', () => {
    const out = join(dir, 'golden');
    const r = cli('show', [
      '--samples',
      join(golden, 'samples-runner-0.ndjson'),
      join(golden, 'samples-runner-1.ndjson'),
      '--journal',
      join(golden, 'journal.json'),
      '--slos',
      join(golden, 'slos.yaml'),
      '--no-default-slos',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(10);
    expect(r.stdout).toMatch(/Phase kill-replica-1/);
    expect(r.stdout).toMatch(/ttft\s+p95\s+≤ 1 s\s+1.56 s\s+BREACH/);
    expect(r.stdout).toContain(join(out, 'report.html'));
    for (const f of ['results.json', 'report.html', 'junit.xml']) expect(existsSync(join(out, f))).toBe(true);
  });

  it('re-renders a stored run, and --json prints the results document', () => {
    const r = cli('show', [join(dir, 'golden'), '--json']);
    expect(r.status).toBe(10);
    const doc = JSON.parse(r.stdout) as { schemaVersion: number; verdict: string };
    expect(doc).toMatchObject({ schemaVersion: 1, verdict: 'breach' });
  });

  it('exits 2 with a suggestion when given nothing to show', () => {
    const r = cli('show', []);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nothing to show/);
    expect(r.stderr).toMatch(/Try this:/);
  });

  it('exits 3 on an invalid SLO file, naming the entry', () => {
    const r = cli('show', [
      '--samples',
      join(golden, 'samples-runner-0.ndjson'),
      '--slos',
      join(golden, 'journal.json'),
    ]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/SLO file .* holds no SLO list/);
  });
});

describe('owui-chaos report compare', () => {
  it('exits 0 for the same run and 10 for a planted regression', async () => {
    const journal = journalWith([{ name: 'kill', start: T0 + 20_000, end: T0 + 30_000 }]);
    const run = (extra: number) =>
      evaluateSamples(
        ttftSeries(
          T0,
          T0 + 60_000,
          (t) => 200 + (t % 700) / 7 + (t >= T0 + 20_000 && t < T0 + 30_000 ? extra : 0),
        ),
        { journal, slos: [] },
      );
    await writeReports(run(0), join(dir, 'a'));
    await writeReports(run(400), join(dir, 'b'));
    const same = cli('compare', [join(dir, 'a'), join(dir, 'a')]);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/no regression/);
    const worse = cli('compare', [join(dir, 'a'), join(dir, 'b'), '--tolerance', '10%']);
    expect(worse.status).toBe(10);
    expect(worse.stdout).toMatch(/ttft\s+kill\s+p95\s+.*REGRESSION/);
    // A bare tolerance is percent (as every percent flag): 1000 % lets the +400 ms through.
    expect(cli('compare', [join(dir, 'a'), join(dir, 'b'), '--tolerance', '1000']).status).toBe(0);
    // A bad flag value is a usage error (exit 2) naming the flag, never exit 1.
    for (const bad of [
      ['--tolerance', 'ten'],
      ['--tolerance', '2000%'],
      ['--floor-ms', '5ms'],
    ]) {
      const r = cli('compare', [join(dir, 'a'), join(dir, 'b'), ...bad]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(bad[0]!);
    }
    const json = cli('compare', [join(dir, 'a'), join(dir, 'b'), '--json']);
    expect((JSON.parse(json.stdout) as { regressions: number }).regressions).toBeGreaterThan(0);
  });
});
