import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, ExitCode, exitCodeHelp, exitCodeMarkdown } from '../../../src/core/errors.js';
import { STOP_EXIT_CODE } from '../../../src/core/report/outcome.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('exit codes as data', () => {
  it('one row per code, codes and names unique, ExitCode derived from the table', () => {
    expect(new Set(EXIT_CODES.map((r) => r.code)).size).toBe(EXIT_CODES.length);
    expect(new Set(EXIT_CODES.map((r) => r.name)).size).toBe(EXIT_CODES.length);
    for (const r of EXIT_CODES) expect(ExitCode[r.name]).toBe(r.code);
    expect(ExitCode.rollbackFailed).toBe(14);
    expect(Object.values(STOP_EXIT_CODE).every((c) => EXIT_CODES.some((r) => r.code === c))).toBe(true);
  });

  it('help text lists what it is asked for, in table order', () => {
    expect(exitCodeHelp(['ok', 'rollbackFailed'])).toBe(
      'Exit codes: 0 all SLOs met · 14 rollback failed: something may still be injected (printed last).',
    );
    expect(exitCodeHelp()).toContain('10 SLO not met');
  });

  it('docs/cli.md holds the generated table (regenerate it from exitCodeMarkdown())', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
    expect(doc).toContain(exitCodeMarkdown());
  });
});
