import { describe, expect, it } from 'vitest';
import { nodeLineDecoder, onAbort } from '../../../../src/engines/node/http.js';

describe('onAbort', () => {
  it('calls each live subscriber once when the signal aborts, not the unsubscribed ones', () => {
    const c = new AbortController();
    const calls: string[] = [];
    const offA = onAbort(c.signal, () => calls.push('a'));
    const offB = onAbort(c.signal, () => calls.push('b'));
    onAbort(c.signal, () => calls.push('c'));
    offB();
    c.abort();
    c.abort();
    offA();
    expect(calls).toEqual(['a', 'c']);
  });

  it('calls at once on an already aborted signal', () => {
    const c = new AbortController();
    c.abort();
    let n = 0;
    onAbort(c.signal, () => n++)();
    expect(n).toBe(1);
  });
});

describe('nodeLineDecoder', () => {
  it('decodes a range of a Buffer or a plain Uint8Array like TextDecoder, invalid bytes included', () => {
    const bytes = Uint8Array.of(0x61, 0xe6, 0x95, 0xb0, 0xff, 0xc3, 0x62, 0xf0, 0x9f, 0x98, 0x80);
    const ref = (s: number, e: number): string => new TextDecoder().decode(bytes.subarray(s, e));
    for (let s = 0; s <= bytes.length; s++)
      for (let e = s; e <= bytes.length; e++) {
        expect(nodeLineDecoder(bytes, s, e)).toBe(ref(s, e));
        expect(nodeLineDecoder(Buffer.from(bytes), s, e)).toBe(ref(s, e));
      }
  });
});
