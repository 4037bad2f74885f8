import { describe, expect, it } from 'vitest';
import { interpretChatData } from '../../../src/protocol/openai-stream.js';
import { SseParser } from '../../../src/protocol/sse-parser.js';
import { recordStream } from './recorded-stream.js';

describe('interpretChatData', () => {
  it('recognises [DONE], with or without surrounding spaces', () => {
    expect(interpretChatData('[DONE]')).toEqual({ kind: 'done' });
    expect(interpretChatData(' [DONE] ')).toEqual({ kind: 'done' });
  });

  it('reads choices[0].delta.content and the mock LLM send stamp', () => {
    expect(
      interpretChatData(
        '{"choices":[{"index":0,"delta":{"content":"数据"}}],"owui_chaos":{"sent_at":1767225600123}}',
      ),
    ).toEqual({
      kind: 'content',
      content: '数据',
      sentAtMs: 1767225600123,
    });
    expect(
      interpretChatData('{"choices":[{"delta":{"content":"x"}}],"owui_chaos":{"sent_at":"soon"}}'),
    ).toEqual({ kind: 'content', content: 'x' });
  });

  it('treats Open WebUI pre-lines, role-only deltas, empty content and finish chunks as meta', () => {
    for (const data of [
      '{"sources":[{"source":{"name":"doc"}}]}',
      '{"selected_model_id":"m1"}',
      '{"usage":{"prompt_tokens":3}}',
      '{"choices":[{"index":0,"delta":{"role":"assistant"}}]}',
      '{"choices":[{"index":0,"delta":{"content":""}}]}',
      '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"completion_tokens":2}}',
      '{"choices":[]}',
    ]) {
      expect(interpretChatData(data).kind, data).toBe('meta');
    }
  });

  it('turns error lines into errors with a readable message', () => {
    expect(interpretChatData('{"error":{"message":"upstream 502","type":"server_error"}}')).toEqual({
      kind: 'error',
      message: 'upstream 502',
    });
    expect(interpretChatData('{"error":"boom"}')).toEqual({ kind: 'error', message: 'boom' });
    expect(interpretChatData('{"error":{"code":42}}')).toEqual({ kind: 'error', message: '{"code":42}' });
    expect(interpretChatData('{"detail":"Model not found"}')).toEqual({
      kind: 'error',
      message: 'Model not found',
    });
  });

  it('flags non-JSON and non-object payloads as invalid, keeping the raw text', () => {
    expect(interpretChatData('{"choices":[{"delta":{"content":"tru')).toEqual({
      kind: 'invalid',
      raw: '{"choices":[{"delta":{"content":"tru',
    });
    expect(interpretChatData('42')).toEqual({ kind: 'invalid', raw: '42' });
    expect(interpretChatData('')).toEqual({ kind: 'invalid', raw: '' });
  });

  it('rebuilds the ground-truth text from a recorded stream parsed in one-byte reads', () => {
    const s = recordStream({ seed: 21, tokens: 200 });
    const parser = new SseParser();
    let text = '';
    let done = 0;
    for (const byte of s.bytes) {
      for (const e of parser.push(Uint8Array.of(byte))) {
        const item = interpretChatData(e.data);
        if (item.kind === 'content') text += item.content;
        if (item.kind === 'done') done++;
      }
    }
    expect(text).toBe(s.tokens.join(''));
    expect(done).toBe(1);
  });
});
