import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CURRENT_TARGET,
  hasXk6Sse,
  isSupported,
  parseK6Version,
  targetFor,
} from '../../../../src/engines/k6/version.js';

describe('parseK6Version', () => {
  it('reads current and older `k6 version` output', () => {
    expect(parseK6Version('k6 v1.1.0 (commit/5f1ee51b4e, go1.24.4, linux/amd64)\n')).toMatchObject({
      major: 1,
      minor: 1,
      patch: 0,
      extensions: [],
    });
    expect(
      parseK6Version('k6 v0.49.0 (2024-01-29T09:23:34+0000/v0.49.0-0-g2ef7d5d5, go1.21.6, linux/amd64)'),
    ).toMatchObject({ major: 0, minor: 49, patch: 0 });
  });

  it('lists xk6 extension modules', () => {
    const out =
      'k6 v0.55.0 (go1.23.2, linux/amd64)\nExtensions:\n  github.com/phymbert/xk6-sse v0.1.6, k6/x/sse [js]\n';
    const v = parseK6Version(out);
    expect(v?.extensions).toEqual(['k6/x/sse']);
    expect(hasXk6Sse(v)).toBe(true);
    expect(hasXk6Sse(parseK6Version('k6 v0.55.0'))).toBe(false);
  });

  // Printed by real k6 builds (test/fixtures/k6-version/): the first word is the binary's own
  // name, so a binary called k6-v1.8.1 prints "k6-v1.8.1 v1.8.1 (…)".
  it.each([
    ['k6-v2.2.0.txt', 2, 2, 0],
    ['k6-v2.2.0-renamed.txt', 2, 2, 0],
    ['k6-v1.8.1-renamed.txt', 1, 8, 1],
    ['k6-v0.49.0-renamed.txt', 0, 49, 0],
  ])('reads the real output %s whatever the binary is called', (file, major, minor, patch) => {
    const out = readFileSync(new URL(`../../../fixtures/k6-version/${file}`, import.meta.url), 'utf8');
    expect(parseK6Version(out)).toMatchObject({ major, minor, patch, raw: `k6 v${major}.${minor}.${patch}` });
  });

  it('lists the extensions of a real xk6-sse build', () => {
    const out = readFileSync(
      new URL('../../../fixtures/k6-version/k6-v1.3.0-xk6-sse-renamed.txt', import.meta.url),
      'utf8',
    );
    const v = parseK6Version(out);
    expect(v).toMatchObject({ major: 1, minor: 3, patch: 0, extensions: ['k6/x/sse'] });
    expect(hasXk6Sse(v)).toBe(true);
  });

  it('does not take the version from inside the binary name', () => {
    // "k6-v9.9.9" is a name, not a version: the standalone word after it is.
    expect(parseK6Version('k6-v9.9.9 v0.49.0 (2024-01-29, go1.21.6, linux/amd64)')?.minor).toBe(49);
  });

  it('returns undefined for output without a version', () => {
    expect(parseK6Version('command not found')).toBeUndefined();
  });
});

describe('targetFor', () => {
  const at = (raw: string) => targetFor(parseK6Version(`k6 v${raw}`));
  it('moves the WebSockets module at 1.6, timers at 0.50 and the syntax level at 0.52', () => {
    expect(at('0.54.0').websocketsModule).toBe('k6/experimental/websockets');
    expect(at('1.5.0').websocketsModule).toBe('k6/experimental/websockets');
    expect(at('1.6.0').websocketsModule).toBe('k6/websockets');
    expect(at('0.49.9').timersModule).toBe('k6/experimental/timers');
    expect(at('0.50.0').timersModule).toBe('k6/timers');
    expect(at('0.51.0').esTarget).toBe('es2017');
    expect(at('0.52.0').esTarget).toBe('es2020');
    // ES modules natively from 0.52; before, CommonJS (an ES module would go through Babel)
    expect(at('0.49.0').moduleFormat).toBe('cjs');
    expect(at('0.51.0').moduleFormat).toBe('cjs');
    expect(at('0.52.0').moduleFormat).toBe('esm');
    expect(at('2.2.0').moduleFormat).toBe('esm');
    expect(at('1.6.0')).toEqual(CURRENT_TARGET);
    expect(at('1.1.0')).not.toEqual(CURRENT_TARGET);
    expect(targetFor(undefined)).toEqual(CURRENT_TARGET);
  });

  it('supports k6 from 0.43', () => {
    expect(isSupported(parseK6Version('k6 v0.42.0')!)).toBe(false);
    expect(isSupported(parseK6Version('k6 v0.43.0')!)).toBe(true);
    expect(isSupported(parseK6Version('k6 v1.0.0')!)).toBe(true);
  });
});
