import { describe, expect, it } from 'vitest';
import { generateTokens } from '../../../src/protocol/ground-truth.js';
import { checkIntegrity } from '../../../src/protocol/integrity.js';
import { utf8Decode, utf8Encode } from '../../../src/protocol/utf8.js';

const TOKENS = ['Hello', ' world', ',', ' 数据', ' 🚀', ' stream', ' stream', '.'];

describe('checkIntegrity', () => {
  it('gives 0 everywhere for an exact match', () => {
    expect(checkIntegrity(TOKENS, TOKENS.join(''))).toEqual({
      expectedTokens: 8,
      missing: 0,
      corrupted: 0,
      extra: 0,
      garbledRate: 0,
    });
    const big = generateTokens(42, 2000);
    expect(checkIntegrity(big, big.join(''))).toMatchObject({
      missing: 0,
      corrupted: 0,
      extra: 0,
      garbledRate: 0,
    });
  });

  it('counts one missing token as one missing token', () => {
    const received = TOKENS.filter((_, i) => i !== 1).join('');
    expect(checkIntegrity(TOKENS, received)).toMatchObject({
      missing: 1,
      corrupted: 0,
      extra: 0,
      garbledRate: 1 / 8,
    });
  });

  it('places a missing repeated token on token boundaries instead of blaming two neighbours', () => {
    const received = TOKENS.filter((_, i) => i !== 5).join(''); // one of the two " stream"
    expect(checkIntegrity(TOKENS, received)).toMatchObject({ missing: 1, corrupted: 0, extra: 0 });
  });

  it('counts a multi-byte character broken by a bad byte split as one corrupted token', () => {
    // What a client that decodes each read separately shows: the 4 bytes of 🚀 split 2 + 2.
    const bytes = utf8Encode(TOKENS.join(''));
    const rocket = utf8Encode(' 🚀');
    let at = -1;
    for (let i = 0; i + rocket.length <= bytes.length && at < 0; i++) {
      if (rocket.every((byte, j) => bytes[i + j] === byte)) at = i;
    }
    const cut = at + 3; // inside the emoji
    const received = utf8Decode(bytes.subarray(0, cut)) + utf8Decode(bytes.subarray(cut));
    expect(received).toContain('\uFFFD');
    expect(checkIntegrity(TOKENS, received)).toMatchObject({
      missing: 0,
      corrupted: 1,
      extra: 0,
      garbledRate: 1 / 8,
    });
  });

  it('counts a CJK character replaced by U+FFFD as one corrupted token', () => {
    expect(checkIntegrity(TOKENS, TOKENS.join('').replace('数', '\uFFFD\uFFFD\uFFFD'))).toMatchObject({
      missing: 0,
      corrupted: 1,
      extra: 0,
    });
  });

  it('counts inserted text as extra tokens of the average expected length', () => {
    // 8 tokens, 41 code points: average ≈ 5.1; a 12-character insertion at a boundary = 3 tokens.
    const received = TOKENS.slice(0, 3).join('') + ' [injected]' + '!' + TOKENS.slice(3).join('');
    const result = checkIntegrity(TOKENS, received);
    expect(result).toMatchObject({ missing: 0, corrupted: 0, extra: 3 });
    expect(result.garbledRate).toBeCloseTo(3 / 8);
  });

  it('counts text inserted inside a token as a corrupted token', () => {
    expect(checkIntegrity(TOKENS, TOKENS.join('').replace('world', 'wo#rld'))).toMatchObject({
      missing: 0,
      corrupted: 1,
      extra: 0,
    });
  });

  it('counts a reordered pair as damage, never as a match', () => {
    const reordered = [...TOKENS];
    [reordered[1], reordered[3]] = [reordered[3] as string, reordered[1] as string];
    const result = checkIntegrity(TOKENS, reordered.join(''));
    expect(result.missing + result.corrupted + result.extra).toBeGreaterThanOrEqual(2);
    expect(result.garbledRate).toBeGreaterThan(0);
  });

  it('counts everything missing for an empty reception', () => {
    expect(checkIntegrity(TOKENS, '')).toEqual({
      expectedTokens: 8,
      missing: 8,
      corrupted: 0,
      extra: 0,
      garbledRate: 1,
    });
  });

  it('handles an empty expectation', () => {
    expect(checkIntegrity([], '')).toEqual({
      expectedTokens: 0,
      missing: 0,
      corrupted: 0,
      extra: 0,
      garbledRate: 0,
    });
    expect(checkIntegrity([], 'abcdefgh')).toEqual({
      expectedTokens: 0,
      missing: 0,
      corrupted: 0,
      extra: 2,
      garbledRate: 1,
    });
  });

  it('counts a truncated 2,000-token stream exactly and quickly', () => {
    const tokens = generateTokens(9, 2000);
    const started = performance.now();
    const result = checkIntegrity(tokens, tokens.slice(0, 1500).join(''));
    expect(result).toMatchObject({ missing: 500, corrupted: 0, extra: 0, garbledRate: 0.25 });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('finds scattered errors in a 2,000-token text quickly', () => {
    const tokens = generateTokens(10, 2000);
    const damaged = tokens.map((t, i) => (i % 200 === 100 ? '' : i % 200 === 150 ? `${t}<junk>` : t));
    const started = performance.now();
    const result = checkIntegrity(tokens, damaged.join(''));
    expect(result.missing).toBe(10);
    expect(result.extra).toBeGreaterThanOrEqual(10);
    expect(result.corrupted).toBe(0);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('marks the unaligned region corrupted, never clean, when the work budget runs out', () => {
    const tokens = generateTokens(12, 300);
    const scrambled = [...tokens].reverse().join('');
    const bounded = checkIntegrity(tokens, scrambled, { maxWork: 1000 });
    expect(bounded.corrupted + bounded.missing).toBeGreaterThan(290);
    expect(bounded.garbledRate).toBeGreaterThanOrEqual(0.95);
    expect(checkIntegrity(tokens, scrambled).garbledRate).toBeGreaterThan(0.5);
  });
});
