// Property-based tests (fast-check) for the portable protocol code a hostile server talks to
// (docs/safety.md): the Engine.IO / Socket.IO codec and the SSE parser. Whatever arrives, decoding
// either succeeds or throws a ProtocolError (never a TypeError or a stack overflow), the codec
// round-trips what it encodes, and the SSE parser's events and retained memory do not depend on
// how the bytes were split, with over-long lines dropped and counted.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEio, encodeEio, type EioPacket } from '../../../src/protocol/engineio.js';
import { ProtocolError } from '../../../src/protocol/errors.js';
import { decodeSioPacket, encodeSio, type SioPacket } from '../../../src/protocol/socketio.js';
import { SseParser } from '../../../src/protocol/sse-parser.js';

// JSON values as they can travel: JSON has no -0 (JSON.stringify(-0) is "0"), so a generated -0
// is mapped to 0 instead of failing the round trip on a value no server can send.
const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const nsp = fc.constantFrom('/', '/admin', '/a-b');

const sioPacket: fc.Arbitrary<SioPacket> = fc.oneof(
  fc.record({
    type: fc.constant('connect' as const),
    nsp,
    data: fc.dictionary(fc.string(), json, { maxKeys: 3 }),
  }),
  fc.record({ type: fc.constant('disconnect' as const), nsp }),
  fc
    .record({
      type: fc.constant('event' as const),
      nsp,
      id: fc.option(fc.nat(1_000_000), { nil: undefined }),
      data: fc.tuple(fc.string({ minLength: 1 }), json).map(([a, b]) => [a, b]),
    })
    .map((p): SioPacket =>
      p.id === undefined ? { type: p.type, nsp: p.nsp, data: p.data } : { ...p, id: p.id },
    ),
  fc.record({
    type: fc.constant('ack' as const),
    nsp,
    id: fc.nat(1_000_000),
    data: fc.array(json, { maxLength: 3 }),
  }),
);

const eioPacket: fc.Arbitrary<EioPacket> = fc.oneof(
  fc.constant({ type: 'close' as const }),
  fc.constant({ type: 'ping' as const }),
  fc.constant({ type: 'pong' as const }),
  fc.constant({ type: 'upgrade' as const }),
  fc.constant({ type: 'noop' as const }),
  fc.string().map((data) => ({ type: 'message' as const, data })),
);

/** Frames that look almost right: a valid encoding with bytes changed, cut or appended. */
const mangled = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.tuple(sioPacket, fc.nat(40), fc.string({ maxLength: 3 })).map(([p, at, s]) => {
    const t = encodeSio(p);
    return t.slice(0, at % (t.length + 1)) + s + t.slice((at % (t.length + 1)) + 1);
  }),
  fc.constantFrom('2[', '4{"sid":', '0{"sid":1}', '51-', '2/admin', '3', '2["a",', '4' + '['.repeat(5000)),
);

function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(ProtocolError);
  }
}

describe('Engine.IO / Socket.IO codec', () => {
  it('round-trips every packet it encodes', () => {
    fc.assert(
      fc.property(sioPacket, (p) => {
        expect(decodeSioPacket(encodeSio(p))).toEqual(p);
      }),
    );
    fc.assert(
      fc.property(eioPacket, (p) => {
        expect(decodeEio(encodeEio(p))).toEqual(p);
      }),
    );
  });

  it('decodes any frame or throws a ProtocolError — never another error', () => {
    fc.assert(
      fc.property(mangled, (frame) => {
        onlyProtocolErrors(() => decodeEio(frame));
        onlyProtocolErrors(() => decodeSioPacket(frame));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('SSE parser', () => {
  const enc = new TextEncoder();
  const stream = fc.array(
    fc.oneof(
      fc.string({ maxLength: 40 }).map((s) => `data: ${s.replace(/[\r\n]/g, '')}\n\n`),
      fc.constantFrom(
        ': comment\n',
        'event: x\n',
        'id: 7\n',
        'retry: 100\n',
        '\r\n',
        'data: [DONE]\n\n',
        'data\n\n',
      ),
    ),
    { maxLength: 30 },
  );

  const parse = (bytes: Uint8Array, cuts: number[], max?: number) => {
    const p = new SseParser(max === undefined ? {} : { maxLineBytes: max });
    const events = [];
    let last = 0;
    for (const c of [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b)) {
      events.push(...p.push(bytes.subarray(last, c)));
      last = c;
    }
    events.push(...p.push(bytes.subarray(last)));
    return { events: events.map((e) => ({ event: e.event, data: e.data, id: e.id })), problems: p.problems };
  };

  it('gives the same events however the bytes are split', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 8 }), (parts, cuts) => {
        const bytes = enc.encode(parts.join(''));
        expect(parse(bytes, cuts)).toEqual(parse(bytes, []));
      }),
    );
  });

  it('drops a line over the cap whole, counts it once, keeps parsing after it — at any split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 65, max: 400 }), fc.array(fc.nat(), { maxLength: 6 }), (len, cuts) => {
        const text = `data: ok1\n\ndata: ${'a'.repeat(len)}\n\ndata: ok2\n\n`;
        const r = parse(enc.encode(text), cuts, 64);
        expect(r.events.map((e) => e.data)).toEqual(['ok1', 'ok2']);
        expect(r.problems).toEqual({ line_too_long: 1 });
      }),
    );
  });

  it('counts invalid UTF-8 but not a genuine U+FFFD', () => {
    const p = new SseParser();
    p.push(new Uint8Array([...enc.encode('data: '), 0xff, 0x0a, 0x0a]));
    p.push(enc.encode('data: \uFFFD\n\n'));
    expect(p.problems).toEqual({ invalid_utf8: 1 });
  });
});
