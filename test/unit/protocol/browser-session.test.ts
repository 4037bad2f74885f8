import { describe, expect, it } from 'vitest';
import {
  classifySocketChatReply,
  connectErrorFailure,
  handshakeFailure,
  joinAckFailure,
  siteOrigin,
} from '../../../src/protocol/browser-session.js';

describe('siteOrigin', () => {
  it('is what a browser on the site sends: scheme://host[:port], default ports dropped', () => {
    expect(siteOrigin('http://127.0.0.1:8080/some/path?q=1')).toBe('http://127.0.0.1:8080');
    expect(siteOrigin('https://Chat.Example.com:443/')).toBe('https://chat.example.com');
    expect(siteOrigin('http://owui.example.com:80')).toBe('http://owui.example.com');
    expect(siteOrigin('https://user:pw@owui.example.com/x')).toBe('https://owui.example.com');
  });

  it('prefers the configured origin', () => {
    expect(siteOrigin('http://10.0.0.5:8080', 'https://chat.example.com')).toBe('https://chat.example.com');
    expect(siteOrigin('http://10.0.0.5:8080', '')).toBe('http://10.0.0.5:8080');
  });
});

describe('connect failures', () => {
  it('tells an origin refusal from another refused handshake', () => {
    expect(handshakeFailure(400, '"http://127.0.0.1:1234 is not an accepted origin."')).toMatchObject({
      reason: 'origin_refused',
      status: '400',
    });
    expect(handshakeFailure(400, '{"detail":"Invalid WebSocket upgrade request"}')).toMatchObject({
      reason: 'handshake',
      status: '400',
    });
    expect(handshakeFailure(426, '')).toMatchObject({ reason: 'handshake', status: '426' });
    expect(handshakeFailure(403, 'Forbidden')).toMatchObject({ reason: 'handshake', status: '403' });
    // Real Open WebUI 0.12.4 refuses a foreign Origin with a bare 403 and no body.
    expect(handshakeFailure(403, '')).toMatchObject({ reason: 'origin_refused', status: '403' });
  });

  it('reads a Socket.IO connect_error', () => {
    expect(connectErrorFailure({ message: 'Unauthorized' })).toEqual({
      reason: 'connect_error',
      detail: 'Unauthorized',
    });
    expect(connectErrorFailure({ message: 'https://x is not an accepted origin.' }).reason).toBe(
      'origin_refused',
    );
  });

  it('an empty user-join ack, or one without a user id, is a refused join', () => {
    expect(joinAckFailure([{ id: 'u1', name: 'User' }])).toBeUndefined();
    expect(joinAckFailure([])).toEqual({ reason: 'join_refused', detail: 'empty ack' });
    expect(joinAckFailure([null])?.reason).toBe('join_refused');
    expect(joinAckFailure([{ name: 'no id' }])?.reason).toBe('join_refused');
  });
});

describe('classifySocketChatReply', () => {
  it('accepts Open WebUI task replies of every version', () => {
    expect(classifySocketChatReply(200, 'application/json', '{"status":true,"task_ids":["t"]}').ok).toBe(
      true,
    );
    expect(
      classifySocketChatReply(200, 'application/json; charset=utf-8', '{"status":true,"task_id":"t"}').ok,
    ).toBe(true);
  });

  it('an SSE reply (or anything not a JSON task reply) is a protocol error with status and content type', () => {
    expect(
      classifySocketChatReply(200, 'text/event-stream; charset=utf-8', 'data: {"choices":[]}\n\n'),
    ).toMatchObject({
      ok: false,
      status: '200',
      contentType: 'text/event-stream',
    });
    expect(classifySocketChatReply(200, undefined, '<html>')).toMatchObject({
      ok: false,
      contentType: 'none',
    });
    expect(classifySocketChatReply(200, 'application/json', '[1,2]')).toMatchObject({ ok: false });
    expect(classifySocketChatReply(200, 'application/json', '{"choices":[]}')).toMatchObject({ ok: false });
    expect(classifySocketChatReply(200, 'application/json', 'nope')).toMatchObject({ ok: false });
  });
});
