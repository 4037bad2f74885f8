// Engine.IO v4 text packets as sent over a websocket (one packet per frame, no length prefix or
// record separator; those belong to HTTP long-polling, which Open WebUI refuses, §4).
//
// Contract: `decodeEio(encodeEio(p))` deep-equals `p`. `decodeEio` throws ProtocolError for an empty
// frame, an unknown type digit, or an `open` packet whose JSON lacks the handshake fields. Binary
// frames never reach this codec (a websocket binary frame is not text).

import { ProtocolError } from './errors.js';
import { isRecord } from './json.js';

export interface EioHandshake {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

export type EioPacket =
  | { type: 'open'; data: EioHandshake }
  | { type: 'close' }
  | { type: 'ping'; data?: string }
  | { type: 'pong'; data?: string }
  | { type: 'message'; data: string }
  | { type: 'upgrade' }
  | { type: 'noop' };

const TYPE_CODES = {
  open: '0',
  close: '1',
  ping: '2',
  pong: '3',
  message: '4',
  upgrade: '5',
  noop: '6',
} as const;

export function encodeEio(p: EioPacket): string {
  const code = TYPE_CODES[p.type];
  switch (p.type) {
    case 'open':
      return code + JSON.stringify(p.data);
    case 'ping':
    case 'pong':
      return code + (p.data ?? '');
    case 'message':
      return code + p.data;
    default:
      return code;
  }
}

export function decodeEio(frame: string): EioPacket {
  const rest = frame.slice(1);
  switch (frame.charAt(0)) {
    case '0':
      return { type: 'open', data: parseHandshake(rest, frame) };
    case '1':
      return { type: 'close' };
    case '2':
      return rest === '' ? { type: 'ping' } : { type: 'ping', data: rest };
    case '3':
      return rest === '' ? { type: 'pong' } : { type: 'pong', data: rest };
    case '4':
      return { type: 'message', data: rest };
    case '5':
      return { type: 'upgrade' };
    case '6':
      return { type: 'noop' };
    default:
      throw new ProtocolError(
        frame === '' ? 'Empty Engine.IO frame' : 'Unknown Engine.IO packet type',
        frame,
      );
  }
}

function parseHandshake(json: string, frame: string): EioHandshake {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ProtocolError('Engine.IO open packet is not JSON', frame);
  }
  if (!isRecord(raw) || typeof raw['sid'] !== 'string') {
    throw new ProtocolError('Engine.IO open packet has no `sid`', frame);
  }
  const num = (key: string, fallback: number): number => {
    const v = raw[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  };
  const upgrades = Array.isArray(raw['upgrades'])
    ? raw['upgrades'].filter((u): u is string => typeof u === 'string')
    : [];
  // Defaults are engine.io's own (25 s / 20 s / 1 MB), used when an old server leaves a field out.
  return {
    sid: raw['sid'],
    upgrades,
    pingInterval: num('pingInterval', 25_000),
    pingTimeout: num('pingTimeout', 20_000),
    maxPayload: num('maxPayload', 1_000_000),
  };
}
