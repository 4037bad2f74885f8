import { describe, expect, it } from 'vitest';
import { decodeEio, encodeEio, type EioPacket } from '../../../src/protocol/engineio.js';
import { ProtocolError } from '../../../src/protocol/errors.js';

// Frames captured from a socket.io 4.8 server (websocket transport, EIO=4).
const CAPTURED_OPEN =
  '0{"sid":"IS9xxPIDRhvhqYatAAAA","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';

describe('Engine.IO v4 codec', () => {
  it('decodes a captured open packet', () => {
    expect(decodeEio(CAPTURED_OPEN)).toEqual({
      type: 'open',
      data: {
        sid: 'IS9xxPIDRhvhqYatAAAA',
        upgrades: [],
        pingInterval: 25000,
        pingTimeout: 20000,
        maxPayload: 1000000,
      },
    });
  });

  it('fills engine.io defaults when an open packet omits timing fields', () => {
    expect(decodeEio('0{"sid":"s"}')).toEqual({
      type: 'open',
      data: { sid: 's', upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 },
    });
  });

  it('decodes the one-digit control packets and message payloads', () => {
    expect(decodeEio('1')).toEqual({ type: 'close' });
    expect(decodeEio('2')).toEqual({ type: 'ping' });
    expect(decodeEio('3')).toEqual({ type: 'pong' });
    expect(decodeEio('2probe')).toEqual({ type: 'ping', data: 'probe' });
    expect(decodeEio('5')).toEqual({ type: 'upgrade' });
    expect(decodeEio('6')).toEqual({ type: 'noop' });
    expect(decodeEio('40{"sid":"x"}')).toEqual({ type: 'message', data: '0{"sid":"x"}' });
  });

  it('round-trips every packet type', () => {
    const packets: EioPacket[] = [
      {
        type: 'open',
        data: { sid: 'a', upgrades: ['websocket'], pingInterval: 1, pingTimeout: 2, maxPayload: 3 },
      },
      { type: 'close' },
      { type: 'ping' },
      { type: 'ping', data: 'probe' },
      { type: 'pong' },
      { type: 'pong', data: 'probe' },
      { type: 'message', data: '2["events",{"a":"数据 😀"}]' },
      { type: 'message', data: '' },
      { type: 'upgrade' },
      { type: 'noop' },
    ];
    for (const p of packets) expect(decodeEio(encodeEio(p))).toEqual(p);
    expect(encodeEio({ type: 'pong' })).toBe('3');
  });

  it('rejects empty frames, unknown types and broken open packets with ProtocolError', () => {
    expect(() => decodeEio('')).toThrow(ProtocolError);
    expect(() => decodeEio('9x')).toThrow(/Unknown Engine.IO packet type/);
    expect(() => decodeEio('0{not json')).toThrow(/not JSON/);
    expect(() => decodeEio('0{"upgrades":[]}')).toThrow(/no `sid`/);
  });
});
