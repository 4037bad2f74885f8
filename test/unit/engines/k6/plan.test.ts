import { describe, expect, it } from 'vitest';
import { scenarioConfigFromPlan, scenarioFor } from '../../../../src/engines/k6/plan.js';

describe('scenarioConfigFromPlan', () => {
  it('carries a closed-model chat and browser clients, without secrets', () => {
    const config = scenarioConfigFromPlan(
      {
        durationMs: 60_000,
        baseUrl: 'http://127.0.0.1:8080/',
        model: 'm1',
        chat: { vus: 3, thinkTimeMs: 500, tokens: 50 },
        sockets: { vus: 2, chatIntervalMs: 4000, tokens: 30 },
      },
      { version: '0.6.30', thresholds: { ttft: ['p(95)<=2000'] } },
    );
    expect(config).toEqual({
      baseUrl: 'http://127.0.0.1:8080',
      chatPath: '/api/chat/completions',
      model: 'm1',
      version: '0.6.30',
      durationMs: 60_000,
      verify: true,
      sse: 'plain',
      gracefulStopMs: 30_000,
      thresholds: { ttft: ['p(95)<=2000'] },
      chat: { vus: 3, thinkTimeMs: 500, tokens: 50, timeoutMs: 120_000 },
      sockets: { vus: 2, chatIntervalMs: 4000, tokens: 30, timeoutMs: 120_000 },
    });
    expect(scenarioFor(config)).toBe('mixed');
  });

  it('carries an open-model chat and picks the bundle by client kinds', () => {
    const config = scenarioConfigFromPlan(
      {
        durationMs: 1000,
        baseUrl: 'http://x',
        model: 'm',
        chat: { ratePerSecond: 2.5, maxInFlight: 7, tokens: 10 },
      },
      { version: '0.11.0', sse: 'xk6', chatPath: '/v1/chat/completions', streamTimeoutMs: 5000 },
    );
    expect(config.chat).toEqual({ ratePerSecond: 2.5, maxInFlight: 7, tokens: 10, timeoutMs: 5000 });
    expect(config.sse).toBe('xk6');
    expect(scenarioFor(config)).toBe('chat-sse');
    expect(scenarioFor({ sockets: { vus: 1, tokens: 1, timeoutMs: 1 } })).toBe('chat-socket');
  });
});
