import { describe, expect, it } from 'vitest';
import {
  BATCH_EVENTS,
  eventCount,
  eventDeadlines,
  groupEnd,
  normalisePacing,
  type Pacing,
} from '../../../../src/lab/mock-llm/pacing.js';
import { ChunkWriter, formatSentAt, promptSeed, splitPoints } from '../../../../src/lab/mock-llm/wire.js';

const base: Pacing = { firstTokenMs: 100, tokensPerSecond: 20, jitter: 0, write: 'event', tokensPerChunk: 1 };

describe('eventDeadlines', () => {
  it('puts the first event at firstTokenMs and the rest one interval apart', () => {
    expect([...eventDeadlines(4, base)]).toEqual([100, 150, 200, 250]);
  });

  it('spaces events by tokensPerChunk intervals', () => {
    expect([...eventDeadlines(3, { ...base, tokensPerChunk: 2 })]).toEqual([100, 200, 300]);
  });

  it('sends everything at the first-token time when tps is 0', () => {
    expect([...eventDeadlines(3, { ...base, tokensPerSecond: 0 })]).toEqual([100, 100, 100]);
  });

  it('keeps jittered intervals within [1 - jitter, 1 + jitter] and never goes backwards', () => {
    let i = 0;
    const rands = [0, 1, 0.5, 0, 1];
    const d = eventDeadlines(5, { ...base, jitter: 0.5 }, () => rands[i++ % rands.length] as number);
    // first token: 100 * (1 - 0.5); then 50 * 1.5, 50 * 1, 50 * 0.5, 50 * 1.5
    expect([...d]).toEqual([50, 125, 175, 200, 275]);
  });

  it('is cumulative from the ideal schedule (a late wake-up cannot shift later deadlines)', () => {
    const d = eventDeadlines(1000, base);
    expect(d[999]).toBeCloseTo(100 + 999 * 50, 6);
  });
});

describe('groupEnd', () => {
  it('wakes for every event in event and split modes', () => {
    expect(groupEnd(5, 10, 'event')).toBe(5);
    expect(groupEnd(5, 10, 'split')).toBe(5);
  });

  it('wakes for the first event alone, then for groups of BATCH_EVENTS in batch mode', () => {
    expect(groupEnd(0, 10, 'batch')).toBe(0);
    expect(groupEnd(1, 10, 'batch')).toBe(BATCH_EVENTS);
    expect(groupEnd(9, 10, 'batch')).toBe(9);
  });
});

describe('normalisePacing / eventCount', () => {
  it('clamps jitter, negative delays and chunk sizes', () => {
    expect(normalisePacing({ ...base, jitter: 3, firstTokenMs: -5, tokensPerChunk: 0 })).toMatchObject({
      jitter: 1,
      firstTokenMs: 0,
      tokensPerChunk: 1,
    });
  });

  it('rounds partial chunks up', () => {
    expect(eventCount(7, 3)).toBe(3);
    expect(eventCount(0, 3)).toBe(0);
  });
});

describe('splitPoints', () => {
  it('cuts one byte after the lead byte of the first multi-byte character', () => {
    const bytes = Buffer.from('data: {"c":"a😀b"}\n\n', 'utf8');
    const lead = bytes.indexOf(0xf0);
    const cuts = splitPoints(bytes, 2);
    expect(cuts).toEqual([lead + 1]);
    // The first piece ends inside the emoji: decoding it alone yields a replacement character.
    expect(bytes.subarray(0, cuts[0]).toString('utf8')).toContain('\uFFFD');
  });

  it('cuts ASCII-only events in the middle', () => {
    expect(splitPoints(Buffer.from('abcdef'), 2)).toEqual([3]);
  });

  it('makes three non-empty pieces when asked', () => {
    const bytes = Buffer.from('data: {"c":"数据"}\n\n', 'utf8');
    const cuts = splitPoints(bytes, 3);
    expect(cuts).toHaveLength(2);
    const bounds = [0, ...cuts, bytes.length];
    for (let i = 1; i < bounds.length; i++)
      expect((bounds[i] as number) - (bounds[i - 1] as number)).toBeGreaterThan(0);
  });

  it('does not cut events shorter than two bytes', () => {
    expect(splitPoints(Buffer.from('a'), 3)).toEqual([]);
  });
});

describe('ChunkWriter', () => {
  const w = new ChunkWriter('chatcmpl-x', 1700000000, 'owui-chaos-mock');
  const parse = (event: string): Record<string, unknown> => {
    expect(event.startsWith('data: ')).toBe(true);
    expect(event.endsWith('\n\n')).toBe(true);
    return JSON.parse(event.slice(6)) as Record<string, unknown>;
  };

  it('serialises content chunks as valid OpenAI JSON with owui_chaos.sent_at', () => {
    const chunk = parse(w.content(JSON.stringify('he said "hi" 😀'), 1234.5678));
    expect(chunk).toEqual({
      id: 'chatcmpl-x',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'owui-chaos-mock',
      system_fingerprint: null,
      choices: [{ index: 0, delta: { content: 'he said "hi" 😀' }, logprobs: null, finish_reason: null }],
      owui_chaos: { sent_at: 1234.568 },
    });
  });

  it('carries role on the first chunk, finish_reason on the last, usage with empty choices', () => {
    expect(parse(w.role(1))['choices']).toEqual([
      {
        index: 0,
        delta: { role: 'assistant', content: '', refusal: null },
        logprobs: null,
        finish_reason: null,
      },
    ]);
    expect((parse(w.finish(1))['choices'] as unknown[])[0]).toMatchObject({
      delta: {},
      finish_reason: 'stop',
    });
    const usage = parse(w.usage({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }, 1));
    expect(usage['choices']).toEqual([]);
    expect(usage['usage']).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
  });

  it('adds "usage": null to other chunks when usage is requested, as OpenAI does', () => {
    const withUsage = new ChunkWriter('id', 1, 'm', true);
    expect(parse(withUsage.content('"a"', 1))['usage']).toBeNull();
    expect(parse(w.content('"a"', 1))).not.toHaveProperty('usage');
  });

  it('formats sent_at without exponent notation', () => {
    expect(formatSentAt(1795265991422.7512)).toBe('1795265991422.751');
  });
});

describe('promptSeed', () => {
  it('is deterministic and differs between prompts', () => {
    expect(promptSeed('hello')).toBe(promptSeed('hello'));
    expect(promptSeed('hello')).not.toBe(promptSeed('hello!'));
    expect(Number.isInteger(promptSeed('x'))).toBe(true);
  });
});
