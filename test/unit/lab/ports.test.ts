// Lab ports come from below the ephemeral range, and a health answer counts only from the replica
// the lab started (see docs/DESIGN.md §4).
import { describe, expect, it } from 'vitest';
import { answeredByInstance, INSTANCE_HEADER } from '../../../src/lab/owui-sim/config.js';
import { freePort, labPortRange } from '../../../src/infra/process/daemon.js';

describe('labPortRange', () => {
  it('ends just below the ephemeral range the kernel reports', () => {
    expect(labPortRange('32768\t60999\n')).toEqual({ low: 20_000, high: 32_767 });
    expect(labPortRange('40000 65000')).toEqual({ low: 20_000, high: 39_999 });
  });

  it('falls back to Linux defaults when the range is unknown or leaves no room', () => {
    expect(labPortRange(undefined)).toEqual({ low: 20_000, high: 32_767 });
    expect(labPortRange('garbage')).toEqual({ low: 20_000, high: 32_767 });
    expect(labPortRange('1024 65000')).toEqual({ low: 20_000, high: 32_767 });
  });

  it('freePort hands out ports in that range', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(20_000);
      expect(p).toBeLessThan(32_768);
    }
  });
});

describe('answeredByInstance', () => {
  const headers = (value?: string) => new Headers(value === undefined ? {} : { [INSTANCE_HEADER]: value });

  it('accepts the replica the lab started', () => {
    expect(answeredByInstance(headers('slot-a'), 'slot-a')).toBe(true);
  });

  it('refuses another server on the same port (another lab, or no simulator at all)', () => {
    expect(answeredByInstance(headers('slot-b'), 'slot-a')).toBe(false);
    expect(answeredByInstance(headers(), 'slot-a')).toBe(false);
  });

  it('accepts any answer when no instance is expected (real Open WebUI has no such header)', () => {
    expect(answeredByInstance(headers(), undefined)).toBe(true);
  });
});
