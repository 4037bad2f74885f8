import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newRunId, readRunInfo, runDirFor, writeRunInfo } from '../../../src/app/run-dir.js';
import { ValidationError } from '../../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'owui-run-dir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run directory', () => {
  it('lives under OWUI_CHAOS_HOME unless --out says otherwise', () => {
    expect(runDirFor('r1', undefined, { OWUI_CHAOS_HOME: '/tmp/home-x' })).toBe('/tmp/home-x/runs/r1');
    expect(runDirFor('r1', '/tmp/out-y', { OWUI_CHAOS_HOME: '/tmp/home-x' })).toBe('/tmp/out-y');
    expect(newRunId({ now: () => Date.UTC(2026, 10, 21, 13, 0, 0) }, 'load')).toBe(
      '2026-11-21T13-00-00-000Z-load',
    );
  });

  it('run.json round-trips through its schema', () => {
    const run = join(dir, 'ok');
    writeRunInfo(run, { runId: 'r', kind: 'run', target: 'lab', labStateDir: '/x', pid: 42 });
    expect(readRunInfo(run)).toEqual({ runId: 'r', kind: 'run', target: 'lab', labStateDir: '/x', pid: 42 });
  });

  it('a damaged run.json is a ValidationError (exit 3) naming the file and the field', () => {
    const truncated = join(dir, 'truncated');
    writeRunInfo(truncated, { runId: 'r', target: 'lab' });
    writeFileSync(join(truncated, 'run.json'), '{"runId": "r", "tar');
    expect(() => readRunInfo(truncated)).toThrow(ValidationError);
    expect(() => readRunInfo(truncated)).toThrow(join(truncated, 'run.json'));

    const wrong = join(dir, 'wrong');
    writeRunInfo(wrong, { runId: 'r', target: 'lab' });
    writeFileSync(join(wrong, 'run.json'), JSON.stringify({ runId: 'r', target: 'lab', pid: 'twelve' }));
    try {
      readRunInfo(wrong);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const e = err as ValidationError;
      expect(e.exitCode).toBe(3);
      expect(e.code).toBe('RUN_INFO_INVALID');
      expect(e.issues[0]).toMatchObject({ path: 'pid', file: join(wrong, 'run.json') });
    }
  });
});
