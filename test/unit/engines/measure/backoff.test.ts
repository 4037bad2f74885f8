import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../../src/engines/measure/backoff.js';

describe('browser reconnect backoff (socket.io-client defaults)', () => {
  it('stays within 1 s·2^n ± 50 %, capped at 5 s, for every attempt and random draw', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const base = Math.min(1000 * 2 ** attempt, 1e12);
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(attempt, () => i / 200);
        expect(d).toBeGreaterThanOrEqual(Math.min(base / 2, 5000));
        expect(d).toBeLessThanOrEqual(Math.min(5000, base * 1.5));
        expect(Number.isInteger(d)).toBe(true);
      }
    }
  });

  it('matches backo2 arithmetic: an even tenth jitters down, an odd tenth up', () => {
    expect(backoffDelay(0, () => 0)).toBe(1000);
    expect(backoffDelay(0, () => 0.05)).toBe(1000 - 25); // floor(0.5)=0 → even → minus floor(0.05·0.5·1000)
    expect(backoffDelay(0, () => 0.15)).toBe(1000 + 75); // floor(1.5)=1 → odd → plus
    expect(backoffDelay(1, () => 0.95)).toBe(2000 + 950);
    expect(backoffDelay(2, () => 0.999)).toBe(5000); // 4000 + 1998 capped
    expect(backoffDelay(3, () => 0.4)).toBe(5000); // 8000 − 1600 capped
    expect(backoffDelay(1000, () => 0.5)).toBe(5000);
  });

  it('spreads a herd: the first reconnect of many clients covers 0.5–1.5 s', () => {
    const delays = Array.from({ length: 1000 }, (_, i) => backoffDelay(0, () => (i + 0.5) / 1000));
    expect(Math.min(...delays)).toBeLessThan(600);
    expect(Math.max(...delays)).toBeGreaterThan(1400);
  });
});
