import { describe, expect, it } from 'vitest';
import { decodeEio } from '../../../src/protocol/engineio.js';
import { ProtocolError } from '../../../src/protocol/errors.js';
import {
  UnsupportedSioPacketError,
  decodeSio,
  decodeSioPacket,
  encodeSio,
  eventParts,
  sioFrame,
  type SioPacket,
} from '../../../src/protocol/socketio.js';

// Websocket frames captured from a socket.io 4.8 server (EIO=4): connect reply, a namespace
// middleware rejection, a user-join ack, an `events` emit with CJK and emoji, a plain ack.
const CAPTURED = {
  connected: '40{"sid":"6nksNmwdpXE7hOXKAAAA"}',
  connectError: '44/admin,{"message":"not authorized"}',
  userJoinAck: '431[{"id":"u-1","name":"A"}]',
  events:
    '42["events",{"chat_id":"c1","message_id":"m2","data":{"type":"chat:completion","data":{"content":"数据 😀"}}}]',
  ack: '432["ack"]',
};

function sioOf(frame: string): ReturnType<typeof decodeSio> {
  const eio = decodeEio(frame);
  if (eio.type !== 'message') throw new Error(`not a message frame: ${frame}`);
  return decodeSio(eio.data);
}

describe('Socket.IO v5 codec on captured frames', () => {
  it('decodes the connect reply with the socket sid', () => {
    expect(sioOf(CAPTURED.connected)).toEqual({
      type: 'connect',
      nsp: '/',
      data: { sid: '6nksNmwdpXE7hOXKAAAA' },
    });
    expect(sioOf('40')).toEqual({ type: 'connect', nsp: '/' });
  });

  it('decodes a connect error with its namespace', () => {
    expect(sioOf(CAPTURED.connectError)).toEqual({
      type: 'connect_error',
      nsp: '/admin',
      data: { message: 'not authorized' },
    });
    expect(sioOf('44{"message":"Invalid token"}')).toEqual({
      type: 'connect_error',
      nsp: '/',
      data: { message: 'Invalid token' },
    });
  });

  it('decodes acks with their ids', () => {
    expect(sioOf(CAPTURED.userJoinAck)).toEqual({
      type: 'ack',
      nsp: '/',
      id: 1,
      data: [{ id: 'u-1', name: 'A' }],
    });
    expect(sioOf(CAPTURED.ack)).toEqual({ type: 'ack', nsp: '/', id: 2, data: ['ack'] });
    expect(sioOf('431["ack"]')).toEqual({ type: 'ack', nsp: '/', id: 1, data: ['ack'] });
  });

  it('decodes an events emit and splits name and arguments', () => {
    const p = sioOf(CAPTURED.events);
    expect(p.type).toBe('event');
    if (p.type !== 'event') return;
    expect(p.id).toBeUndefined();
    expect(eventParts(p)).toEqual({
      name: 'events',
      args: [
        { chat_id: 'c1', message_id: 'm2', data: { type: 'chat:completion', data: { content: '数据 😀' } } },
      ],
    });
  });
});

describe('Socket.IO v5 encoding', () => {
  it('writes the frames a socket.io client writes', () => {
    expect(sioFrame({ type: 'connect', nsp: '/', data: { token: 'jwt' } })).toBe('40{"token":"jwt"}');
    expect(sioFrame({ type: 'connect', nsp: '/admin' })).toBe('40/admin,');
    expect(
      sioFrame({ type: 'event', nsp: '/', id: 12, data: ['user-join', { auth: { token: 'jwt' } }] }),
    ).toBe('4212["user-join",{"auth":{"token":"jwt"}}]');
    expect(sioFrame({ type: 'event', nsp: '/', data: ['heartbeat', {}] })).toBe('42["heartbeat",{}]');
    expect(encodeSio({ type: 'disconnect', nsp: '/' })).toBe('1');
    expect(encodeSio({ type: 'ack', nsp: '/chat', id: 3, data: [] })).toBe('3/chat,3[]');
  });

  it('round-trips every packet type, with and without namespace and ack id', () => {
    const packets: SioPacket[] = [
      { type: 'connect', nsp: '/' },
      { type: 'connect', nsp: '/', data: { token: 't' } },
      { type: 'connect', nsp: '/admin', data: { sid: 's' } },
      { type: 'disconnect', nsp: '/' },
      { type: 'disconnect', nsp: '/admin' },
      { type: 'event', nsp: '/', data: ['events', { text: '🇩🇪 テスト' }] },
      { type: 'event', nsp: '/admin', id: 0, data: ['x'] },
      { type: 'event', nsp: '/', id: 4294967295, data: ['x', 1, null, [2]] },
      { type: 'ack', nsp: '/', id: 7, data: [] },
      { type: 'ack', nsp: '/a', id: 7, data: [{ ok: true }] },
      { type: 'connect_error', nsp: '/', data: { message: 'nope' } },
      { type: 'connect_error', nsp: '/', data: 'legacy string' },
    ];
    for (const p of packets) expect(decodeSio(encodeSio(p))).toEqual(p);
  });
});

describe('Socket.IO v5 decoding of unsupported and malformed packets', () => {
  it('reports binary packets as unsupported with their header, without crashing', () => {
    expect(decodeSioPacket('51-["upload",{"_placeholder":true,"num":0}]')).toMatchObject({
      type: 'unsupported',
      packetType: 'binary_event',
      attachments: 1,
      nsp: '/',
    });
    expect(decodeSioPacket('62-/admin,9[{"_placeholder":true,"num":0}]')).toMatchObject({
      type: 'unsupported',
      packetType: 'binary_ack',
      attachments: 2,
      nsp: '/admin',
      id: 9,
    });
    let thrown: unknown;
    try {
      decodeSio('51-["upload",{"_placeholder":true,"num":0}]');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(UnsupportedSioPacketError);
    expect(thrown).toBeInstanceOf(ProtocolError);
    expect((thrown as UnsupportedSioPacketError).packet.attachments).toBe(1);
  });

  it('throws ProtocolError for malformed packets', () => {
    expect(() => decodeSio('')).toThrow(ProtocolError);
    expect(() => decodeSio('7')).toThrow(/Unknown Socket.IO packet type/);
    expect(() => decodeSio('2["events"')).toThrow(/not JSON/);
    expect(() => decodeSio('2{"a":1}')).toThrow(/non-empty array/);
    expect(() => decodeSio('2[]')).toThrow(/non-empty array/);
    expect(() => decodeSio('3["x"]')).toThrow(/ACK without an id/);
    expect(() => decodeSio('0"str"')).toThrow(/CONNECT payload/);
    expect(() => decodeSio('4')).toThrow(/CONNECT_ERROR/);
    expect(() => decodeSio('5x-[]')).toThrow(/attachment count/);
  });
});
