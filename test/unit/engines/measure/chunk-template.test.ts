import { describe, expect, it } from 'vitest';
import { ChunkTemplate } from '../../../../src/engines/measure/chunk-template.js';
import { interpretChatData, type ChatStreamItem } from '../../../../src/protocol/openai-stream.js';
import { generateTokens } from '../../../../src/protocol/ground-truth.js';
import { ChunkWriter } from '../../../../src/lab/mock-llm/wire.js';

/** The data of an SSE chunk line as the mock LLM writes it (without `data: ` and the blank line). */
const mockData = (w: ChunkWriter, content: string, sentAt: number): string =>
  w.content(JSON.stringify(content), sentAt).slice('data: '.length, -2);

function learned(data: string): ChunkTemplate {
  const t = new ChunkTemplate();
  const item = interpretChatData(data);
  if (item.kind !== 'content') throw new Error('not a content chunk');
  expect(t.learn(data, item)).toBe(true);
  return t;
}

/** The template either declines or agrees exactly with the full parse. */
function agrees(t: ChunkTemplate, data: string): ChatStreamItem | undefined {
  const fast = t.match(data);
  if (fast !== undefined) expect(fast, data).toEqual(interpretChatData(data));
  return fast;
}

describe('ChunkTemplate', () => {
  const w = new ChunkWriter('chatcmpl-abc123', 1_763_700_000, 'owui-chaos-mock', true);
  const t = learned(mockData(w, 'Hello', 1_763_700_000_123.456));

  it('reads later chunks of the stream like JSON.parse: tokens with escapes, quotes, emoji, CJK, control characters', () => {
    const tokens = [
      ...generateTokens(3, 300),
      'a"b',
      'back\\slash',
      'line\nbreak',
      'tab\t',
      '\u0001',
      '😀',
      '数据',
      '\u2028',
      '</script>',
      ' ',
    ];
    let i = 0;
    for (const token of tokens) {
      const sentAt = 1_763_700_000_000 + i++ * 50.125;
      const data = mockData(w, token, sentAt);
      expect(agrees(t, data), data).toEqual({ kind: 'content', content: token, sentAtMs: sentAt });
    }
  });

  it('declines whatever it cannot be sure of, and never disagrees with the full parse', () => {
    const good = mockData(w, 'x', 1_763_700_000_000.5);
    const variants = [
      mockData(w, '', 1), // empty content is metadata, not content
      w.role(5).slice(6, -2),
      w.finish(5).slice(6, -2),
      good.replace('"id":"chatcmpl-abc123"', '"id":"other"'),
      good.replace('"logprobs":null', '"logprobs":null,"error":{"message":"boom"}'),
      good.replace('"sent_at":1763700000000.5', '"sent_at":1e999'),
      good.replace('"sent_at":1763700000000.5', '"sent_at":01'),
      good.replace('"sent_at":1763700000000.5', '"sent_at":"7"'),
      good.replace('"content":"x"', '"content":"x\\q"'),
      good.replace('"content":"x"', '"content":"x\u0002"'),
      good.replace('"content":"x"', '"content":"x","content":"y"'),
      good.replace('"content":"x"', '"content":"x\\u00e9"'),
      good + ' ',
      good.slice(0, -1),
      '[DONE]',
      '{"error":"nope"}',
    ];
    let declined = 0;
    for (const v of variants) if (agrees(t, v) === undefined) declined++;
    // Only the escaped-é variant is the same document with another string: it may be read.
    expect(declined).toBeGreaterThanOrEqual(variants.length - 1);
    expect(t.match(good.replace('"content":"x"', '"content":"x\\u00e9"'))).toEqual({
      kind: 'content',
      content: 'xé',
      sentAtMs: 1_763_700_000_000.5,
    });
  });

  it('learns chunks without a stamp, and refuses to learn an ambiguous one', () => {
    const plain = '{"id":"c","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}';
    const tp = learned(plain);
    expect(agrees(tp, plain.replace('"hi"', '"there"'))).toEqual({ kind: 'content', content: 'there' });
    expect(agrees(tp, plain.replace('"hi"', '"x"').replace('}]}', '}],"owui_chaos":{"sent_at":1}}'))).toBe(
      undefined,
    );
    const dup = '{"choices":[{"delta":{"content":"a"}}],"x":{"content":"a"}}';
    const item = interpretChatData(dup);
    if (item.kind !== 'content') throw new Error('expected content');
    const td = new ChunkTemplate();
    expect(td.learn(dup, item)).toBe(false);
    expect(td.match(dup)).toBeUndefined();
  });
});
