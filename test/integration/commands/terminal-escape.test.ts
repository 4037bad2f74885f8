// Control and escape characters from user files never reach the terminal raw (docs/safety.md):
// the built CLI, given an experiment whose title, timeline name and an invalid value carry ESC
// sequences (colour, OSC title change), BEL and a bidi override, prints them escaped.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { escapeTerminal } from '../../../src/core/terminal-text.js';
import { runCli } from '../../helpers/run-cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'owui-escape-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await runCli(args, { cwd: dir, timeoutMs: 30_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

const EVIL = '\\e]0;pwned\\a\\e[31mred\\e[0m\\u202eevil\\b';

describe('user text is escaped before it reaches the terminal', () => {
  it('escapeTerminal makes controls visible and keeps text, newlines and tabs', () => {
    expect(escapeTerminal('a\x1b[31mb\x07\n\tc\u202e')).toBe('a\\x1b[31mb\\x07\n\tc\\u202e');
    expect(escapeTerminal('plain – ünïcode 漢字 🙂')).toBe('plain – ünïcode 漢字 🙂');
  });

  it('`run --dry-run` shows an ESC-laden title escaped (timeline names are restricted to [A-Za-z0-9._-])', async () => {
    const file = path.join(dir, 'evil.yaml');
    writeFileSync(
      file,
      `title: "${EVIL}"\nload: { duration: 30s, chat: { vus: 1 } }\ntimeline:\n  - { name: slow, at: 5s, for: 5s, action: toxic.latency, params: { proxy: llm, latency: 10 } }\n`,
    );
    const r = await cli(['run', file, '--dry-run']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(RAW);
    expect(r.out).toContain('\\x1b]0;pwned\\x07');
    expect(r.out).toContain('\\u202eevil');
  });

  it('`experiment validate` quotes a bad value with controls escaped', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, `title: t\nload: { duration: "${EVIL}", chat: { vus: 1 } }\n`);
    const r = await cli(['experiment', 'validate', file]);
    expect(r.code, r.out).toBe(3);
    expect(r.out).not.toMatch(RAW);
    expect(r.out).toMatch(/pwned/);
  });
});
