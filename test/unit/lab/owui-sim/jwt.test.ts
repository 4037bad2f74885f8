import { describe, expect, it } from 'vitest';
import { signJwt, verifyJwt } from '../../../../src/lab/owui-sim/jwt.js';

describe('HS256 JWT', () => {
  const claims = { id: 'u-1', exp: 2000, jti: 'j', iat: 1000 };

  it('round-trips and is a standard HS256 token', () => {
    const token = signJwt(claims, 'k');
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    });
    expect(verifyJwt(token, 'k', 1500)).toEqual({ ok: true, claims });
  });

  it('matches a token made by another HS256 implementation (Python hmac)', () => {
    // header {"alg":"HS256","typ":"JWT"}, payload {"id":"u-1"}, key "secret", signed with Python's hmac
    const external =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6InUtMSJ9.ajLBLGRC56BDll4yNILLYBR2Lt2q4YgXkxejK-fcscc';
    const mine = signJwt({ id: 'u-1' }, 'secret');
    expect(mine).toBe(external);
  });

  it('fails on another key, expiry, tampering and garbage', () => {
    const token = signJwt(claims, 'k');
    expect(verifyJwt(token, 'other', 1500)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyJwt(token, 'k', 2000)).toEqual({ ok: false, reason: 'expired' });
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, id: 'admin' })).toString('base64url')}.${s}`;
    expect(verifyJwt(forged, 'k', 1500)).toEqual({ ok: false, reason: 'signature' });
    expect(verifyJwt('abc', 'k', 1500)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyJwt('a.b.c', 'k', 1500)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts a token without exp', () => {
    expect(verifyJwt(signJwt({ id: 'u' }, 'k'), 'k', 1e12).ok).toBe(true);
  });
});
