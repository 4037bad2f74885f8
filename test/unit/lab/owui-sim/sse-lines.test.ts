import { describe, expect, it } from 'vitest';
import { SseDataReader } from '../../../../src/lab/owui-sim/sse-lines.js';

const STREAM = 'data: {"t":"数据🚀"}\r\n\r\n: comment\n\ndata: a\ndata: b\n\ndata: [DONE]\n\n';

describe('SseDataReader', () => {
  it('gives the same payloads for every split of the bytes, including inside characters and CRLF', () => {
    const bytes = new TextEncoder().encode(STREAM);
    const expected = ['{"t":"数据🚀"}', 'a\nb', '[DONE]'];
    for (let cut = 0; cut <= bytes.length; cut++) {
      const r = new SseDataReader();
      const out = [...r.push(bytes.slice(0, cut)), ...r.push(bytes.slice(cut)), ...r.end()];
      expect(out, `cut at ${cut}`).toEqual(expected);
    }
  });

  it('flushes a last event that lacks its blank line at end of stream', () => {
    const r = new SseDataReader();
    expect(r.push(new TextEncoder().encode('data: x'))).toEqual([]);
    expect(r.end()).toEqual(['x']);
  });
});
