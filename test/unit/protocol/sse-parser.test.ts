import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent, type SseParserOptions } from '../../../src/protocol/sse-parser.js';
import { recordStream, splitAt } from './recorded-stream.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function feed(
  parts: readonly Uint8Array[],
  options: SseParserOptions = {},
): {
  events: SseEvent[];
  danglingBytes: number;
  parser: SseParser;
} {
  const parser = new SseParser(options);
  const events: SseEvent[] = [];
  for (const part of parts) events.push(...parser.push(part));
  const end = parser.end();
  events.push(...end.events);
  return { events, danglingBytes: end.danglingBytes, parser };
}

const datas = (events: readonly SseEvent[]): string[] => events.map((e) => e.data);

describe('SseParser on a recorded chat stream', () => {
  // 40 tokens keep every-split-point runs light; seed 3 yields CJK and emoji tokens.
  const small = recordStream({ seed: 3, tokens: 40 });

  it('has multi-byte characters in the fixture, so splits land inside them', () => {
    expect(Array.from(small.tokens.join('')).some((ch) => (ch.codePointAt(0) as number) > 0x7f)).toBe(true);
  });

  it('keeps copies of a line split across reads: the caller may reuse its read buffer', () => {
    for (let cut = 1; cut < small.bytes.length; cut += 7) {
      const parser = new SseParser();
      const events: SseEvent[] = [];
      for (const part of splitAt(small.bytes, [cut])) {
        const buffer = new Uint8Array(part);
        events.push(...parser.push(buffer));
        buffer.fill(0x78); // the Node engine's connections read every socket into one buffer
      }
      expect(datas(events), `cut at ${cut}`).toEqual(small.payloads);
    }
  });

  it('gives the same events for a split at every byte offset', () => {
    for (let cut = 0; cut <= small.bytes.length; cut++) {
      const { events, danglingBytes } = feed(splitAt(small.bytes, [cut]));
      expect(datas(events), `cut at ${cut}`).toEqual(small.payloads);
      expect(danglingBytes).toBe(0);
    }
  });

  it('gives the same events for every pair of split points around multi-byte characters', () => {
    const multiByteOffsets: number[] = [];
    small.bytes.forEach((b, i) => {
      if (b >= 0x80) multiByteOffsets.push(i);
    });
    const offsets = multiByteOffsets.slice(0, 40);
    for (const first of offsets) {
      for (const second of offsets) {
        if (second <= first) continue;
        const { events } = feed(splitAt(small.bytes, [first, second]));
        expect(datas(events)).toEqual(small.payloads);
      }
    }
  });

  it('reads one byte per read; every event then spans as many reads as it has bytes', () => {
    const parts = Array.from(small.bytes, (b) => Uint8Array.of(b));
    const { events, parser } = feed(parts);
    expect(datas(events)).toEqual(small.payloads);
    expect(parser.readCount).toBe(small.bytes.length);
    for (const e of events) expect(e.reads).toBe(e.bytes);
  });

  it('delivers many events from one read, each with reads = 1', () => {
    const { events } = feed([small.bytes]);
    expect(events).toHaveLength(small.payloads.length);
    expect(events.every((e) => e.reads === 1 && e.event === 'message')).toBe(true);
  });

  it('handles CRLF and CR line ends at every split point', () => {
    for (const lineEnd of ['\r\n', '\r'] as const) {
      const s = recordStream({ seed: 5, tokens: 10, lineEnd });
      for (let cut = 0; cut <= s.bytes.length; cut++) {
        const { events, danglingBytes } = feed(splitAt(s.bytes, [cut]));
        expect(datas(events), `${JSON.stringify(lineEnd)} cut at ${cut}`).toEqual(s.payloads);
        expect(danglingBytes).toBe(0);
      }
    }
  });

  it('with an injected decoder (Node: Buffer#toString) gives the same events and sizes at every split point', () => {
    let calls = 0;
    const decode = (b: Uint8Array, start: number, end: number): string => {
      calls++;
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8', start, end);
    };
    const whole = feed([small.bytes]).events;
    for (let cut = 0; cut <= small.bytes.length; cut++) {
      const { events, danglingBytes } = feed(splitAt(small.bytes, [cut]), { decode });
      expect(datas(events), `cut at ${cut}`).toEqual(small.payloads);
      expect(events.map((e) => e.bytes)).toEqual(whole.map((e) => e.bytes));
      expect(danglingBytes).toBe(0);
    }
    expect(calls).toBeGreaterThan(0);
  });

  it('decodes data lines with the injected decoder, once per line', () => {
    const seen: string[] = [];
    const parser = new SseParser({
      decode: (b, start, end) => {
        const text = new TextDecoder().decode(b.subarray(start, end));
        seen.push(text);
        return text === 'abc' ? 'ABC' : text;
      },
    });
    const [event] = parser.push(enc('data: abc\ndata:dé\nevent: x\n\n'));
    expect(event).toMatchObject({ data: 'ABC\ndé', event: 'x' });
    // `data` is matched on bytes (only values decoded); other field names are decoded.
    expect(seen).toEqual(['abc', 'dé', 'event', 'x']);
  });

  it('decodes a 2,000-token stream cut into random reads identically', () => {
    const big = recordStream({ seed: 11, tokens: 2000 });
    let s = 1;
    const cuts: number[] = [];
    for (let at = 0; ;) {
      s = (Math.imul(s, 48271) >>> 0) % 2147483647;
      at += 1 + (s % 97);
      if (at >= big.bytes.length) break;
      cuts.push(at);
    }
    const { events } = feed(splitAt(big.bytes, cuts));
    expect(datas(events)).toEqual(big.payloads);
  });
});

describe('SseParser field handling (WHATWG)', () => {
  it('counts the reads an event spanned', () => {
    const parser = new SseParser();
    expect(parser.push(enc('data: hel'))).toEqual([]);
    expect(parser.push(enc('lo\n'))).toEqual([]);
    const [event] = parser.push(enc('\ndata: next\n\n'));
    expect(event).toMatchObject({ data: 'hello', reads: 3 });
    expect(parser.readCount).toBe(3);
  });

  it('does not start a new event with the LF of a CRLF that arrives in the next read', () => {
    const parser = new SseParser();
    expect(parser.push(enc('data: a\r\n\r'))).toMatchObject([{ data: 'a', reads: 1 }]);
    expect(parser.push(enc('\ndata: b\r\n\r\n'))).toMatchObject([{ data: 'b', reads: 1 }]);
  });

  it('joins multi-line data, applies event and id, ignores comments and unknown fields', () => {
    const { events } = feed([
      enc(': keep-alive\nevent: update\nid: 7\nfoo: bar\ndata: line 1\ndata:line 2\ndata\n\n'),
    ]);
    expect(events).toEqual([
      { event: 'update', data: 'line 1\nline 2\n', id: '7', reads: 1, bytes: expect.any(Number) },
    ]);
  });

  it('keeps the last event id across events and resets the event type', () => {
    const { events } = feed([enc('event: x\nid: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n')]);
    expect(events.map((e) => [e.event, e.id, e.data])).toEqual([
      ['x', '1', 'a'],
      ['message', '1', 'b'],
      ['message', undefined, 'c'],
    ]);
  });

  it('ignores an id containing NUL and sets retry only from digits', () => {
    const parser = new SseParser();
    const events = parser.push(enc('id: a\u0000b\nretry: 15x\ndata: x\n\nretry: 2500\n\n'));
    expect(events).toMatchObject([{ data: 'x' }]);
    expect(events[0]?.id).toBeUndefined();
    expect(parser.retryMs).toBe(2500);
  });

  it('dispatches nothing for a block without data', () => {
    expect(feed([enc('event: ping\n\n: comment\n\n\n\n')]).events).toEqual([]);
  });

  it('strips one leading space only', () => {
    expect(datas(feed([enc('data:  two spaces\n\n')]).events)).toEqual([' two spaces']);
  });

  it('drops a BOM at stream start even when it is split, and only there', () => {
    const bytes = enc('\uFEFFdata: a\n\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(datas(feed(splitAt(bytes, [cut])).events), `cut at ${cut}`).toEqual(['a']);
    }
    // A second BOM is content: the field name becomes "\uFEFFdata" and is ignored.
    expect(datas(feed([enc('\uFEFF\uFEFFdata: a\n\ndata: b\n\n')]).events)).toEqual(['b']);
  });

  it('keeps bytes that only looked like a BOM start', () => {
    // EF alone is not a BOM: it becomes U+FFFD in the field name, so the line is an unknown field.
    expect(datas(feed([Uint8Array.of(0xef), enc('data: a\n\ndata: b\n\n')]).events)).toEqual(['b']);
    // Dropping the held EF BB would turn the first line back into a valid `data` field.
    expect(datas(feed([Uint8Array.of(0xef, 0xbb), enc('data: a\n\ndata: b\n\n')]).events)).toEqual(['b']);
    expect(feed([Uint8Array.of(0xef, 0xbb)]).danglingBytes).toBe(2);
  });

  it('replaces invalid bytes with U+FFFD', () => {
    expect(datas(feed([Uint8Array.of(...enc('data: a'), 0xff, 0xe6, 0x95, ...enc('b\n\n'))]).events)).toEqual(
      ['a\uFFFD\uFFFDb'],
    );
  });

  it('does not dispatch an unterminated event at EOF and reports its size', () => {
    const { events, danglingBytes } = feed([enc('data: a\n\ndata: [DONE]\n')]);
    expect(datas(events)).toEqual(['a']);
    expect(danglingBytes).toBe('data: [DONE]\n'.length);
    expect(feed([enc('data: a\n\ndata: par')]).danglingBytes).toBe('data: par'.length);
  });
});
