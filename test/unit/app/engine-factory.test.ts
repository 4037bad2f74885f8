import { describe, expect, it } from 'vitest';
import {
  MOCK_MODEL_ID,
  createLoadEngine,
  mockChatTimeoutMs,
  replyOfPlan,
  verifiesIntegrity,
} from '../../../src/app/engine-factory.js';
import { NodeLoadEngine } from '../../../src/engines/node/engine.js';
import { LAB_MODEL } from '../../../src/lab/lab-target.js';
import { MOCK_LLM_MODEL } from '../../../src/lab/mock-llm/server.js';
import { DEFAULTS } from '../../../scenarios/lib/config.js';

function optionsOf(engine: unknown): { verify?: boolean; streamTimeoutMs?: number } {
  return (engine as { opts: { verify?: boolean; streamTimeoutMs?: number } }).opts;
}

describe('engine factory', () => {
  it('the mock model id is one constant everywhere', () => {
    expect(MOCK_LLM_MODEL).toBe(MOCK_MODEL_ID);
    expect(LAB_MODEL).toBe(MOCK_MODEL_ID);
    expect(DEFAULTS.model).toBe(MOCK_MODEL_ID);
  });

  it('verifies integrity exactly against the mock model', () => {
    expect(verifiesIntegrity({ model: MOCK_MODEL_ID })).toBe(true);
    expect(verifiesIntegrity({ model: 'gpt-4o' })).toBe(false);
  });

  it('a load against the mock gets the mock chat timeout (load used to keep the 120 s default)', () => {
    const plan = {
      durationMs: 10_000,
      baseUrl: 'http://127.0.0.1:1',
      model: MOCK_MODEL_ID,
      chat: { vus: 1, tokens: 120 },
    };
    const mock = createLoadEngine({
      engine: 'node',
      target: { model: MOCK_MODEL_ID },
      access: { auth: { kind: 'none' } as never },
      reply: replyOfPlan(plan),
      runDir: '/tmp/x',
    });
    expect(mock).toBeInstanceOf(NodeLoadEngine);
    expect(optionsOf(mock).streamTimeoutMs).toBe(mockChatTimeoutMs({ tokens: 120 }, undefined));
    expect(optionsOf(mock).streamTimeoutMs).toBe(17_200); // 3 × 2.4 s + 10 s
    expect(optionsOf(mock).verify).toBe(true);

    const real = createLoadEngine({
      engine: 'node',
      target: { model: 'gpt-4o' },
      access: { auth: { kind: 'none' } as never },
      reply: replyOfPlan(plan),
      runDir: '/tmp/x',
    });
    expect(optionsOf(real).streamTimeoutMs).toBeUndefined();
    expect(optionsOf(real).verify).toBe(false);
  });

  it('the mock timeout is at least 15 s and at most the engine default', () => {
    expect(mockChatTimeoutMs({ tokens: 10 }, 100)).toBe(15_000);
    expect(mockChatTimeoutMs({ tokens: 100_000 }, 10)).toBe(120_000);
    expect(mockChatTimeoutMs({ tokens: 10, firstTokenMs: 75_000 }, 100)).toBe(135_000);
  });
});
