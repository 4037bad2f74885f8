import { describe, expect, it } from 'vitest';
import {
  Utf8StreamDecoder,
  utf8ByteLength,
  utf8Decode,
  utf8DecodeRange,
  utf8Encode,
} from '../../../src/protocol/utf8.js';

const SAMPLE = 'ascii é 数据 テスト 한국어 😀 👩‍💻 🇩🇪 ⚠️ end';

/** Node's WHATWG decoder is the reference our portable one must match byte for byte. */
function reference(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(bytes);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

describe('Utf8StreamDecoder', () => {
  it('decodes a text split at every byte offset exactly like a one-shot decode', () => {
    const bytes = new TextEncoder().encode(SAMPLE);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new Utf8StreamDecoder();
      const text = d.decode(bytes.subarray(0, cut)) + d.decode(bytes.subarray(cut)) + d.flush();
      expect(text, `cut at ${cut}`).toBe(SAMPLE);
    }
  });

  it('decodes one byte per call', () => {
    const bytes = new TextEncoder().encode(SAMPLE);
    const d = new Utf8StreamDecoder();
    let text = '';
    for (const byte of bytes) text += d.decode(Uint8Array.of(byte));
    expect(text + d.flush()).toBe(SAMPLE);
  });

  it('holds a partial sequence back and reports how many bytes it holds', () => {
    const d = new Utf8StreamDecoder();
    expect(d.decode(Uint8Array.of(0x61, 0xf0, 0x9f))).toBe('a');
    expect(d.pendingBytes).toBe(2);
    expect(d.decode(Uint8Array.of(0x98, 0x80))).toBe('😀');
    expect(d.pendingBytes).toBe(0);
  });

  it('matches TextDecoder on random valid and invalid bytes, streamed in random pieces', () => {
    const rand = lcg(7);
    const interesting = [
      0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xa0, 0xed, 0x9f, 0xef, 0xf0, 0x90, 0xf4,
      0x8f, 0xf5, 0xff,
    ];
    for (let round = 0; round < 300; round++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 24) }, () =>
        rand() < 0.7
          ? (interesting[Math.floor(rand() * interesting.length)] as number)
          : Math.floor(rand() * 256),
      );
      const d = new Utf8StreamDecoder();
      let text = '';
      let from = 0;
      while (from < bytes.length) {
        const to = Math.min(bytes.length, from + 1 + Math.floor(rand() * 4));
        text += d.decode(bytes.subarray(from, to));
        from = to;
      }
      text += d.flush();
      expect(text, `bytes ${Array.from(bytes, (b) => b.toString(16)).join(' ')}`).toBe(reference(bytes));
    }
  });

  it('turns a truncated sequence at end of stream into one U+FFFD', () => {
    const d = new Utf8StreamDecoder();
    expect(d.decode(Uint8Array.of(0xe6, 0x95))).toBe('');
    expect(d.flush()).toBe('\uFFFD');
    expect(d.flush()).toBe('');
  });
});

describe('utf8DecodeRange', () => {
  it('decodes a byte range like TextDecoder, ASCII and not, valid and invalid', () => {
    const rand = lcg(7);
    const sample = new TextEncoder().encode(SAMPLE);
    for (let t = 0; t < 500; t++) {
      const bytes = t % 2 === 0 ? sample : Uint8Array.from({ length: 40 }, () => Math.floor(rand() * 256));
      const start = Math.floor(rand() * bytes.length);
      const end = start + Math.floor(rand() * (bytes.length - start + 1));
      expect(utf8DecodeRange(bytes, start, end)).toBe(reference(bytes.subarray(start, end)));
    }
    const ascii = new TextEncoder().encode('data: {"a":1}');
    expect(utf8DecodeRange(ascii, 6, ascii.length)).toBe('{"a":1}');
    expect(utf8DecodeRange(ascii, 3, 3)).toBe('');
  });
});

describe('utf8Encode', () => {
  it('matches TextEncoder, including lone surrogates', () => {
    for (const text of [SAMPLE, '', 'a\uD800b', '\uDC00', 'x\uD83D']) {
      expect(Array.from(utf8Encode(text))).toEqual(Array.from(new TextEncoder().encode(text)));
      expect(utf8ByteLength(text)).toBe(new TextEncoder().encode(text).length);
    }
    expect(utf8Decode(utf8Encode(SAMPLE))).toBe(SAMPLE);
  });
});
