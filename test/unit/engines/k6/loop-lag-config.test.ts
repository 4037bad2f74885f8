// The scenarios' OWUI_LOOP_LAG_PROBE switch (scenarios/lib/config.ts): the bench's timer-drift
// probe in k6 VUs is off unless asked for, and a malformed value fails k6's init loudly.
import { describe, expect, it } from 'vitest';
import { parseLoopLagProbe, readConfig } from '../../../../scenarios/lib/config.js';

describe('OWUI_LOOP_LAG_PROBE', () => {
  it('is off by default and reads <everyMs>:<vus>', () => {
    expect(readConfig({}).loopLagProbe).toBeUndefined();
    expect(readConfig({ OWUI_LOOP_LAG_PROBE: '50:10' }).loopLagProbe).toEqual({ everyMs: 50, vus: 10 });
  });

  it.each(['50', '0:10', '50:0', 'a:b', '50:10:1', '-5:2'])('rejects %s, naming the form', (v) => {
    expect(() => parseLoopLagProbe(v)).toThrow(/OWUI_LOOP_LAG_PROBE must be <everyMs>:<vus>/);
  });
});
