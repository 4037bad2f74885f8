// HS256 JWTs as Open WebUI issues them (docs/openwebui-protocol.md §2.2), with node:crypto only.
// Contract: `verifyJwt(signJwt(c, k), k, now)` returns `c` while `exp` (seconds) is in the future;
// a token signed with another key fails with `signature` (that is what makes replicas without a
// shared WEBUI_SECRET_KEY answer 401).

import { createHmac, timingSafeEqual } from 'node:crypto';

export interface JwtClaims {
  id: string;
  exp?: number;
  jti?: string;
  iat?: number;
  [key: string]: unknown;
}

export type JwtCheck =
  { ok: true; claims: JwtClaims } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function sign(data: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export function signJwt(claims: JwtClaims, secret: string): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${sign(body, secret).toString('base64url')}`;
}

export function verifyJwt(token: string, secret: string, nowSec: number): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [head, payload, sig] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if ((header as { alg?: unknown } | null)?.alg !== 'HS256') return { ok: false, reason: 'malformed' };
  const expected = sign(`${head}.${payload}`, secret);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'signature' };
  if (typeof claims !== 'object' || claims === null || typeof (claims as JwtClaims).id !== 'string') {
    return { ok: false, reason: 'malformed' };
  }
  const c = claims as JwtClaims;
  if (typeof c.exp === 'number' && c.exp <= nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, claims: c };
}
