import { describe, expect, it } from 'vitest';
import { trafficBetween } from '../../../../src/core/faults/traffic.js';

describe('trafficBetween: did anything pass through a proxy between two readings', () => {
  it('nothing: no connection, or the same idle connections and closed count', () => {
    expect(trafficBetween({ closedBytes: 0, open: {} }, { closedBytes: 0, open: {} })).toBe(0);
    const idle = { closedBytes: 500, open: { 'a:1': 222, 'a:2': 173 } };
    expect(trafficBetween(idle, { ...idle, open: { ...idle.open } })).toBe(0);
  });

  it('an open connection whose bytes grew counts the growth', () => {
    expect(trafficBetween({ open: { 'a:1': 100 } }, { open: { 'a:1': 4196 } })).toBe(4096);
  });

  it('a connection that opened counts, even before its first byte', () => {
    expect(trafficBetween({ open: {} }, { open: { 'a:9': 0 } })).toBe(1);
    expect(trafficBetween({ open: {} }, { open: { 'a:9': 70 } })).toBe(70);
  });

  it('a connection that closed counts once; its bytes moving to the closed count are not new', () => {
    expect(trafficBetween({ closedBytes: 0, open: { 'a:1': 300 } }, { closedBytes: 300, open: {} })).toBe(1);
    // It sent 200 more bytes before it closed.
    expect(trafficBetween({ closedBytes: 0, open: { 'a:1': 300 } }, { closedBytes: 500, open: {} })).toBe(
      201,
    );
  });

  it('a connection that opened and closed between the readings shows only in the closed count', () => {
    expect(trafficBetween({ closedBytes: 10, open: {} }, { closedBytes: 4010, open: {} })).toBe(4000);
    // Without a closed count on both sides it cannot be seen.
    expect(trafficBetween({ open: {} }, { closedBytes: 4010, open: {} })).toBe(0);
  });
});
