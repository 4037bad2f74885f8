// Socket.IO v5 packets (socket.io-parser format, carried in Engine.IO `message` packets):
//   <type digit>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
// CONNECT(0) DISCONNECT(1) EVENT(2) ACK(3) CONNECT_ERROR(4) BINARY_EVENT(5) BINARY_ACK(6).
//
// Contract: `decodeSio(encodeSio(p))` deep-equals `p` for every non-binary packet; the namespace
// defaults to "/" and is written only when it is not "/". Binary packets (their payload travels in
// separate websocket frames that this text codec never sees; Open WebUI sends none) have their
// header decoded and are reported as unsupported: `decodeSioPacket` returns
// `{ type: 'unsupported', … }`, `decodeSio` throws `UnsupportedSioPacketError` carrying the same
// fields, so a client can count and skip them. Anything malformed (unknown type, bad JSON, payload
// of the wrong shape for its type) throws ProtocolError.

import { encodeEio } from './engineio.js';
import { ProtocolError } from './errors.js';
import { isRecord } from './json.js';

export type SioPacket =
  | { type: 'connect'; nsp: string; data?: unknown }
  | { type: 'disconnect'; nsp: string }
  | { type: 'event'; nsp: string; id?: number; data: unknown[] }
  | { type: 'ack'; nsp: string; id: number; data: unknown[] }
  | { type: 'connect_error'; nsp: string; data: unknown };

/** A binary packet: decoded header only; never produced by `encodeSio`. */
export interface SioUnsupportedPacket {
  type: 'unsupported';
  nsp: string;
  packetType: 'binary_event' | 'binary_ack';
  attachments: number;
  id?: number;
  reason: string;
}

export type SioDecoded = SioPacket | SioUnsupportedPacket;

const CODES = { connect: 0, disconnect: 1, event: 2, ack: 3, connect_error: 4 } as const;

export function encodeSio(p: SioPacket): string {
  let out = String(CODES[p.type]);
  if (p.nsp !== '/' && p.nsp !== '') out += `${p.nsp},`;
  if ((p.type === 'event' || p.type === 'ack') && p.id !== undefined) out += String(p.id);
  if (p.type === 'connect') {
    if (p.data !== undefined) out += JSON.stringify(p.data);
  } else if (p.type !== 'disconnect') {
    out += JSON.stringify(p.data);
  }
  return out;
}

/** The websocket frame text for a Socket.IO packet: an Engine.IO message wrapping it. */
export function sioFrame(p: SioPacket): string {
  return encodeEio({ type: 'message', data: encodeSio(p) });
}

/** A binary packet reached `decodeSio`; `packet` holds its decoded header. */
export class UnsupportedSioPacketError extends ProtocolError {
  readonly packet: SioUnsupportedPacket;

  constructor(packet: SioUnsupportedPacket, text: string) {
    super(`Unsupported Socket.IO packet: ${packet.reason}`, text);
    this.name = 'UnsupportedSioPacketError';
    this.packet = packet;
  }
}

/** Decodes a packet; a binary packet throws UnsupportedSioPacketError (a ProtocolError). */
export function decodeSio(text: string): SioPacket {
  const decoded = decodeSioPacket(text);
  if (decoded.type === 'unsupported') throw new UnsupportedSioPacketError(decoded, text);
  return decoded;
}

/** Decodes a packet; a binary packet comes back as `{ type: 'unsupported' }` instead of throwing. */
export function decodeSioPacket(text: string): SioDecoded {
  const code = text.charCodeAt(0) - 48;
  if (!(code >= 0 && code <= 6) || text.length === 0) {
    throw new ProtocolError(text === '' ? 'Empty Socket.IO packet' : 'Unknown Socket.IO packet type', text);
  }
  let i = 1;
  let attachments = 0;
  if (code === 5 || code === 6) {
    const dash = text.indexOf('-', i);
    const count = dash < 0 ? '' : text.slice(i, dash);
    if (!/^[0-9]+$/.test(count))
      throw new ProtocolError('Socket.IO binary packet without attachment count', text);
    attachments = Number(count);
    i = dash + 1;
  }
  let nsp = '/';
  if (text.charAt(i) === '/') {
    const comma = text.indexOf(',', i);
    const end = comma < 0 ? text.length : comma;
    nsp = text.slice(i, end);
    i = comma < 0 ? text.length : comma + 1;
  }
  let id: number | undefined;
  const idStart = i;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  if (i > idStart) id = Number(text.slice(idStart, i));
  const json = text.slice(i);
  let data: unknown;
  if (json !== '') {
    try {
      data = JSON.parse(json);
    } catch {
      throw new ProtocolError('Socket.IO packet payload is not JSON', text);
    }
  }

  switch (code) {
    case 0:
      if (data !== undefined && !isRecord(data))
        throw new ProtocolError('Socket.IO CONNECT payload must be an object', text);
      return data === undefined ? { type: 'connect', nsp } : { type: 'connect', nsp, data };
    case 1:
      return { type: 'disconnect', nsp };
    case 2: {
      if (!Array.isArray(data) || data.length === 0)
        throw new ProtocolError('Socket.IO EVENT payload must be a non-empty array', text);
      return id === undefined ? { type: 'event', nsp, data } : { type: 'event', nsp, id, data };
    }
    case 3:
      if (id === undefined) throw new ProtocolError('Socket.IO ACK without an id', text);
      if (!Array.isArray(data)) throw new ProtocolError('Socket.IO ACK payload must be an array', text);
      return { type: 'ack', nsp, id, data };
    case 4:
      if (data === undefined) throw new ProtocolError('Socket.IO CONNECT_ERROR without a payload', text);
      return { type: 'connect_error', nsp, data };
    default: {
      const packet: SioUnsupportedPacket = {
        type: 'unsupported',
        nsp,
        packetType: code === 5 ? 'binary_event' : 'binary_ack',
        attachments,
        reason: `binary Socket.IO packets (${attachments} attachment(s)) are not supported; Open WebUI sends none`,
      };
      if (id !== undefined) packet.id = id;
      return packet;
    }
  }
}

/** Name and arguments of an EVENT packet, or undefined when the first element is not a string. */
export function eventParts(p: { data: unknown[] }): { name: string; args: unknown[] } | undefined {
  const [name, ...args] = p.data;
  return typeof name === 'string' ? { name, args } : undefined;
}
