// Bounded input (docs/safety.md): config files are capped in size and entries (overridable), a
// FIFO or device is refused without being opened (so a signal is never stuck behind a read), and
// durations stay within Node's timers (a load of more than a week needs --allow-long).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRate } from '../../../../src/core/config/duration.js';
import { loadExperiment, parseExperiment } from '../../../../src/core/config/experiment.js';
import { DEFAULT_MAX_FILE_BYTES, MAX_TIMER_MS } from '../../../../src/core/config/limits.js';
import { parseDuration } from '../../../../src/core/clock.js';
import { ValidationError } from '../../../../src/core/errors.js';
import { rejection } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'owui-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const minimal = (extra = '', duration = '30s'): string =>
  `title: t\nload:\n  duration: ${duration}\n  chat: { vus: 1 }\n${extra}`;

describe('config files are bounded', () => {
  it('refuses a FIFO without opening it (an open would block for ever), fast', async () => {
    const fifo = path.join(dir, 'exp.yaml');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const err = await rejection(loadExperiment(fifo, { env: {} }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.message).toMatch(/is a FIFO \(named pipe\), not a regular file/);
    expect(err.exitCode).toBe(3);
  });

  it('refuses a device (/dev/zero never ends)', async () => {
    const err = await rejection(loadExperiment('/dev/zero', { env: {} }));
    expect(err.message).toMatch(/is a device, not a regular file/);
  });

  it('refuses a file over the size cap, and reads it when the cap is raised', async () => {
    const file = path.join(dir, 'big.yaml');
    writeFileSync(file, minimal(`description: "${'x'.repeat(DEFAULT_MAX_FILE_BYTES)}"\n`));
    const err = await rejection(loadExperiment(file, { env: {} }));
    expect(err.message).toMatch(/is larger than 1048576 bytes/);
    expect(err.suggestions.join(' ')).toContain('OWUI_CHAOS_MAX_FILE_BYTES');
    const ok = await loadExperiment(file, { env: { OWUI_CHAOS_MAX_FILE_BYTES: String(4 * 1024 * 1024) } });
    expect(ok.experiment.title).toBe('t');
  });

  it('refuses more entries than the cap (10,000 list items), before validating anything; overridable', async () => {
    const text = minimal(`x: [${Array.from({ length: 10_001 }, () => '1').join(',')}]\n`);
    const err = await rejection(parseExperiment(text, path.join(dir, 'many.yaml'), { env: {} }));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.message).toMatch(/more than 10000 entries/);
    // The cap applies to files read from disk too, and an env var raises it (then the unknown key
    // is what remains wrong).
    const file = path.join(dir, 'many.yaml');
    writeFileSync(file, text);
    await rejection(loadExperiment(file, { env: {} }));
    const raised = await rejection(loadExperiment(file, { env: { OWUI_CHAOS_MAX_FILE_ENTRIES: '100000' } }));
    expect(raised.issues.map((i) => i.message).join(' ')).not.toMatch(/entries/);
    expect(raised.issues.map((i) => i.code)).toContain('UNKNOWN_KEY');
  }, 30_000);

  it('refuses a YAML alias that contains itself, and nesting deeper than 64 levels, as file problems', async () => {
    const cyclic = await rejection(parseExperiment(minimal('x: &a [*a]\n'), 'c.yaml', { env: {} }));
    expect(cyclic.issues[0]?.message).toMatch(/refers to itself/);
    const deep = await rejection(
      parseExperiment(minimal(`x: ${'['.repeat(200)}${']'.repeat(200)}\n`), 'd.yaml', { env: {} }),
    );
    expect(deep.issues[0]?.message).toMatch(/nested deeper than 64/);
  });

  it('rejects a duration past what a Node timer can wait, and a load over a week without --allow-long', async () => {
    const tooLong = await rejection(parseExperiment(minimal('', '25000h'), 'x.yaml', { env: {} }));
    expect(tooLong.issues.map((i) => i.message).join(' ')).toMatch(/longer than Node's timers can wait/);
    const week = await rejection(parseExperiment(minimal('', '200h'), 'x.yaml', { env: {} }));
    expect(week.issues.map((i) => i.message).join(' ')).toMatch(/longer than a week; pass --allow-long/);
    const allowed = await parseExperiment(minimal('', '200h'), 'x.yaml', { env: {}, allowLong: true });
    expect(allowed.experiment.load.duration).toBe(200 * 3600 * 1000);
  });
});

describe('property: the duration and rate parsers', () => {
  it('parseDuration either throws or returns a finite non-negative integer; valid values round-trip', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (text) => {
        try {
          const ms = parseDuration(text);
          expect(Number.isFinite(ms) || ms === Infinity).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
        }
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.constantFrom('ms', 's', 'm', 'h'),
        (n, unit) => {
          const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
          expect(parseDuration(`${n}${unit}`)).toBe(n * factor);
        },
      ),
    );
  });

  it('the schema turns any string or number into milliseconds within the timer bound, or a ValidationError', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 20 }),
          fc.double(),
          fc.integer(),
          fc.stringMatching(/^\d{1,12}(ms|s|m|h)$/),
        ),
        async (value) => {
          const text = minimal('', JSON.stringify(value));
          try {
            const { experiment } = await parseExperiment(text, 'p.yaml', { env: {}, allowLong: true });
            expect(
              Number.isInteger(experiment.load.duration) || Number.isFinite(experiment.load.duration),
            ).toBe(true);
            expect(experiment.load.duration).toBeGreaterThan(0);
            expect(experiment.load.duration).toBeLessThanOrEqual(MAX_TIMER_MS);
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('parseRate: undefined or a finite non-negative number; `N/m` is N/60 per second', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        const r = parseRate(text);
        if (r !== undefined) {
          expect(Number.isFinite(r)).toBe(true);
          expect(r).toBeGreaterThanOrEqual(0);
        }
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (n) => {
        expect(parseRate(`${n}/m`)).toBeCloseTo(n / 60, 9);
        expect(parseRate(`${n}/s`)).toBe(n);
      }),
    );
  });
});

describe('property: the YAML loader', () => {
  it('any text gives a parsed experiment or a ValidationError whose issues carry the file — never another error', async () => {
    const yamlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .array(
          fc.constantFrom(
            'title: t\n',
            'load:\n',
            '  duration: 1s\n',
            '  chat: { vus: 1 }\n',
            '- ',
            '&a [*a]\n',
            ': ',
            '"\\u0000"',
            '{',
            '}',
            '\t',
            '\x1b[31m',
            '\uD800',
          ),
          { maxLength: 30 },
        )
        .map((a) => a.join('')),
    );
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        try {
          await parseExperiment(text, 'fuzz.yaml', { env: {} });
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          for (const issue of (err as ValidationError).issues) expect(issue.file).toBeDefined();
        }
      }),
      { numRuns: 300 },
    );
  });
});
