import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../../../src/core/config/suggest.js';

describe('did-you-mean suggestions', () => {
  it('counts insertions, deletions, substitutions and swapped letters as one edit each', () => {
    expect(editDistance('slo', 'slos')).toBe(1);
    expect(editDistance('jiter', 'jitter')).toBe(1);
    expect(editDistance('latnecy', 'latency')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests only plausible typos', () => {
    expect(closest('slo', ['title', 'slos', 'load'])).toBe('slos');
    expect(closest('Timeline', ['timeline', 'target'])).toBe('timeline');
    expect(closest('xyz', ['title', 'slos', 'load'])).toBeUndefined();
    expect(closest('tl', ['at', 'for'])).toBeUndefined();
  });
});
