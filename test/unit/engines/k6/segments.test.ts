import { describe, expect, it } from 'vitest';
import { segmentArgs } from '../../../../src/engines/k6/segments.js';

describe('segmentArgs (k6-operator runner i of N)', () => {
  it('gives consecutive equal segments that cover 0..1 with one shared sequence', () => {
    expect(segmentArgs(1, 1)).toEqual(['--execution-segment=0:1', '--execution-segment-sequence=0,1']);
    expect(segmentArgs(1, 3)).toEqual([
      '--execution-segment=0:1/3',
      '--execution-segment-sequence=0,1/3,2/3,1',
    ]);
    expect(segmentArgs(2, 3)[0]).toBe('--execution-segment=1/3:2/3');
    expect(segmentArgs(3, 3)[0]).toBe('--execution-segment=2/3:1');
    // the same strings k6-operator's runner jobs get (read off its segmentation code)
    expect(segmentArgs(1, 4)).toEqual([
      '--execution-segment=0:1/4',
      '--execution-segment-sequence=0,1/4,2/4,3/4,1',
    ]);
  });

  it('refuses a runner outside 1..N', () => {
    for (const [i, n] of [
      [0, 3],
      [4, 3],
      [1, 0],
      [1.5, 3],
    ] as const)
      expect(() => segmentArgs(i, n)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
