// Files the tool itself wrote are read through their schemas: a damaged `run.json` stops
// `owui-chaos rollback` with exit 3 naming the file (it used to crash as a bug, exit 1), and a
// damaged journal given to `report show --journal` names the file and the wrong field. The healthy
// controls: an intact run.json of a run whose lab is gone is closed (exit 0).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevertStack } from '../../../src/core/runner/revert-stack.js';
import { removeToxicRecord } from '../../../src/drivers/revert-records.js';
import { cliBuilt, runCli } from '../../helpers/run-cli.js';

const built = cliBuilt('rollback');
const home = mkdtempSync(join(tmpdir(), 'owui-rollback-files-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function runDirWithPendingFault(name: string, runJson: string): string {
  const dir = join(home, 'runs', name);
  mkdirSync(dir, { recursive: true });
  const stack = RevertStack.create(join(dir, 'reverts.json'), name);
  stack.record(
    {
      name: 'latency',
      action: 'toxic.latency',
      description: 'latency on redis',
      record: removeToxicRecord('redis', 'owui-chaos-latency'),
    },
    Date.now(),
  );
  writeFileSync(join(dir, 'run.json'), runJson);
  return dir;
}

beforeAll(() => {
  if (!built) console.warn('SKIPPED: dist/ is not built (npm run build)');
});

describe.skipIf(!built)('files the tool wrote are read through zod', () => {
  const env = { OWUI_CHAOS_HOME: home };

  it('a truncated run.json: rollback exits 3 naming the file', async () => {
    const dir = runDirWithPendingFault('truncated', '{"runId": "truncated", "targ');
    const r = await runCli(['rollback', '--run', dir], { env, cleanEnv: true, ensureExitCode: 3 });
    expect(r.stderr).toContain('RUN_INFO_INVALID');
    expect(r.stderr).toContain(join(dir, 'run.json'));
  });

  it('a run.json with a wrong field: exit 3 with the field', async () => {
    const dir = runDirWithPendingFault('wrong', JSON.stringify({ runId: 'wrong', target: 42 }));
    const r = await runCli(['rollback', '--run', dir], { env, cleanEnv: true, ensureExitCode: 3 });
    expect(r.stderr).toMatch(/`target`/);
  });

  it('healthy control: an intact run.json of a run whose lab is gone is closed, exit 0', async () => {
    const dir = runDirWithPendingFault(
      'lab-gone',
      JSON.stringify({ runId: 'lab-gone', target: 'lab', labStateDir: join(home, 'labs', 'nope') }),
    );
    const r = await runCli(['rollback', '--run', dir], { env, cleanEnv: true, ensureExitCode: 0 });
    expect(r.stdout).toContain('Closed run lab-gone');
  });

  it('report show --journal: a journal with a wrong field is exit 3 naming file and field', async () => {
    const file = join(home, 'journal.json');
    writeFileSync(
      file,
      JSON.stringify({
        schemaVersion: 1,
        runId: 'r',
        experiment: { title: 't' },
        target: { name: 'lab', url: 'http://127.0.0.1:1' },
        engine: 'node',
        startedAt: 0,
        endedAt: 1,
        status: 'completed',
        deviated: false,
        activities: [{ name: 'x', kind: 'explode', startedAt: 0, endedAt: 1, status: 'succeeded' }],
      }),
    );
    const samples = join(home, 's.ndjson');
    writeFileSync(
      samples,
      JSON.stringify({
        type: 'Point',
        metric: 'ttft',
        data: { time: new Date().toISOString(), value: 5, tags: {} },
      }) + '\n',
    );
    const r = await runCli(['report', 'show', '--samples', samples, '--journal', file, '--no-default-slos'], {
      env,
      cleanEnv: true,
      ensureExitCode: 3,
    });
    expect(r.stderr).toContain('JOURNAL_INVALID');
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('activities.0.kind');
  });
});
