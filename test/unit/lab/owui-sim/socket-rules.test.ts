import { describe, expect, it } from 'vitest';
import { completionFrame } from '../../../../src/lab/owui-sim/chat.js';
import { configFromEnv } from '../../../../src/lab/owui-sim/config.js';
import { originAllowed, socketGuard, staleSessions } from '../../../../src/lab/owui-sim/socket.js';

const upgradeHeaders = { upgrade: 'websocket', connection: 'Upgrade' };
const q = (s: string) => new URLSearchParams(s);

describe('socketGuard', () => {
  const ctx = configFromEnv({ CORS_ALLOW_ORIGIN: 'http://good' });
  const c = { config: ctx, features: ctx.features };

  it('lets a proper websocket handshake through, with or without a listed Origin', () => {
    expect(socketGuard(c, { headers: upgradeHeaders }, q('EIO=4&transport=websocket'), true)).toBeUndefined();
    expect(
      socketGuard(
        c,
        { headers: { ...upgradeHeaders, origin: 'http://good' } },
        q('EIO=4&transport=websocket'),
        true,
      ),
    ).toBeUndefined();
  });

  it('answers like Open WebUI for each refusal', () => {
    expect(socketGuard(c, { headers: {} }, q('EIO=4&transport=websocket'), false)).toEqual({
      status: 400,
      contentType: 'application/json',
      body: '{"detail":"Invalid WebSocket upgrade request"}',
      engineio: false,
    });
    expect(
      socketGuard(
        c,
        { headers: { ...upgradeHeaders, origin: 'http://evil' } },
        q('EIO=4&transport=websocket'),
        true,
      )?.body,
    ).toBe('"http://evil is not an accepted origin."');
    expect(socketGuard(c, { headers: upgradeHeaders }, q('EIO=3&transport=websocket'), true)?.body).toMatch(
      /unsupported version/,
    );
    expect(socketGuard(c, { headers: {} }, q('EIO=4&transport=polling'), false)?.body).toBe(
      '"Invalid transport"',
    );
    expect(socketGuard(c, { headers: {} }, q('EIO=4'), false)?.body).toBe('"Invalid transport"');
  });
});

describe('originAllowed', () => {
  const at = (version: string, cors: string) => {
    const config = configFromEnv({ OWUI_SIM_VERSION: version, CORS_ALLOW_ORIGIN: cors });
    return { config, features: config.features };
  };
  it('follows the version matrix for `*`', () => {
    expect(originAllowed(at('0.11.0', '*'), 'http://any')).toBe(true);
    expect(originAllowed(at('0.6.35', '*'), 'http://any')).toBe(false);
    expect(originAllowed(at('0.6.34', 'http://x'), 'http://any')).toBe(true);
    expect(originAllowed(at('0.11.0', 'http://x'), undefined)).toBe(true);
    expect(originAllowed(at('0.11.0', 'http://x:1'), 'http://x')).toBe(false);
  });
});

describe('staleSessions', () => {
  it('picks entries idle longer than the limit, and unreadable ones', () => {
    const pool = {
      fresh: JSON.stringify({ last_seen_at: 1000 }),
      edge: JSON.stringify({ last_seen_at: 880 }),
      old: JSON.stringify({ last_seen_at: 879 }),
      junk: 'not json',
    };
    expect(staleSessions(pool, 1000, 120).sort()).toEqual(['junk', 'old']);
  });
});

describe('completionFrame', () => {
  it('shapes the cumulative text per version', () => {
    expect(completionFrame('content', 'o', 'Hi', false)).toEqual({ content: 'Hi' });
    const out = completionFrame('output', 'o', 'Hi', true);
    expect(out).toEqual({
      output: [
        {
          type: 'message',
          id: 'o',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Hi' }],
        },
      ],
    });
    expect(completionFrame('both', 'o', 'Hi', false)).toMatchObject({
      content: 'Hi',
      output: [{ status: 'in_progress' }],
    });
  });
});
