import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/protocol/errors.js';
import {
  behaviourFor,
  buildApiChatBody,
  buildSocketChatBody,
  interpretEnvelope,
  parseTaskReply,
  parseVersion,
  snapshotText,
  uuid4,
} from '../../../src/protocol/openwebui.js';

const b = (raw: string): ReturnType<typeof behaviourFor> => behaviourFor(parseVersion(raw));

describe('parseVersion', () => {
  it('parses plain, v-prefixed, two-part and suffixed versions', () => {
    expect(parseVersion('0.11.0')).toEqual({ major: 0, minor: 11, patch: 0, raw: '0.11.0' });
    expect(parseVersion('v0.6.34')).toMatchObject({ major: 0, minor: 6, patch: 34 });
    expect(parseVersion('0.8')).toMatchObject({ major: 0, minor: 8, patch: 0 });
    expect(parseVersion('0.6.5-dev')).toMatchObject({ major: 0, minor: 6, patch: 5 });
  });

  it('rejects text that is not a version', () => {
    expect(() => parseVersion('latest')).toThrow(ProtocolError);
  });
});

describe('behaviourFor: one case per version-matrix row', () => {
  it('switches the chat event name after 0.6.32', () => {
    expect(b('0.5.0').chatEventName).toBe('chat-events');
    expect(b('0.6.32').chatEventName).toBe('chat-events');
    expect(b('0.6.34').chatEventName).toBe('events');
    expect(b('0.11.0').chatEventName).toBe('events');
  });

  it('switches the completion payload at 0.10.0 and 0.12.0 (0.8.12 streams content, verified)', () => {
    expect(b('0.8.10').payload).toBe('content');
    expect(b('0.8.12').payload).toBe('content');
    expect(b('0.9.6').payload).toBe('content');
    expect(b('0.10.0').payload).toBe('output');
    expect(b('0.11.0').payload).toBe('output');
    expect(b('0.12.4').payload).toBe('responses');
  });

  it('switches the task reply and chat creation at 0.9.0', () => {
    expect(b('0.8.12')).toMatchObject({
      taskReply: 'task_id',
      createsChatOnNullParent: false,
      taskStopAdminOnly: false,
    });
    expect(b('0.9.0')).toMatchObject({
      taskReply: 'task_ids',
      createsChatOnNullParent: true,
      taskStopAdminOnly: true,
    });
  });

  it('enables the heartbeat and drops the user pool at 0.6.41', () => {
    expect(b('0.6.40')).toMatchObject({ heartbeat: false, userPool: true });
    expect(b('0.6.41')).toMatchObject({ heartbeat: true, userPool: false });
  });

  it('tracks room delivery, origin check, /ready, config reads, API keys and JWT claims', () => {
    expect(b('0.6.36').userRoomDelivery).toBe(false);
    expect(b('0.6.37').userRoomDelivery).toBe(true);
    expect([b('0.6.34').originCheck, b('0.6.35').originCheck, b('0.6.36').originCheck]).toEqual([
      'none',
      'broken-wildcard',
      'enforced',
    ]);
    expect([b('0.8.10').readyEndpoint, b('0.8.11').readyEndpoint]).toEqual([false, true]);
    expect([b('0.9.5').configInRedis, b('0.9.6').configInRedis]).toEqual([true, false]);
    expect(b('0.6.30')).toMatchObject({
      apiKeySwitch: { env: 'ENABLE_API_KEY', default: true },
      jwtClaims: 'id+exp',
    });
    expect(b('0.11.0')).toMatchObject({
      apiKeySwitch: { env: 'ENABLE_API_KEYS', default: false },
      jwtClaims: 'id+exp+jti+iat',
    });
  });
});

describe('parseTaskReply', () => {
  it('accepts the ≥ 0.9 list with chat id and the ≤ 0.8.12 single id', () => {
    expect(parseTaskReply({ status: true, task_ids: ['t1', 't2'], chat_id: 'c1' })).toEqual({
      taskIds: ['t1', 't2'],
      chatId: 'c1',
    });
    expect(parseTaskReply({ status: true, task_id: 't1' })).toEqual({ taskIds: ['t1'] });
  });

  it('gives no tasks for other bodies', () => {
    expect(parseTaskReply(null)).toEqual({ taskIds: [] });
    expect(parseTaskReply({ status: true })).toEqual({ taskIds: [] });
    expect(parseTaskReply({ task_ids: [1, 't'] })).toEqual({ taskIds: ['t'] });
  });
});

const outputOf = (text: string): unknown[] => [
  { type: 'reasoning', id: 'r', content: [{ type: 'output_text', text: 'thinking' }] },
  {
    type: 'message',
    id: 'o',
    status: 'in_progress',
    role: 'assistant',
    content: [{ type: 'output_text', text }],
  },
];

describe('snapshotText per payload shape', () => {
  it('reads `content` (≤ 0.8.10)', () => {
    expect(snapshotText({ content: 'Hello wor' })).toBe('Hello wor');
  });

  it('prefers `output` when both are present (0.8.11 – 0.9.6)', () => {
    expect(snapshotText({ output: outputOf('Hello wor'), content: 'stale' })).toBe('Hello wor');
  });

  it('reads `output` only (≥ 0.10), joining output_text and text parts of message items only', () => {
    expect(snapshotText({ output: outputOf('Hello wor') })).toBe('Hello wor');
    expect(
      snapshotText({
        output: [
          {
            type: 'message',
            content: [
              { type: 'output_text', text: 'a' },
              { type: 'text', text: 'b' },
              { type: 'image', url: 'x' },
            ],
          },
          { type: 'function_call', status: 'in_progress' },
          { type: 'message', content: [{ type: 'output_text', text: 'c' }] },
        ],
      }),
    ).toBe('abc');
  });

  it('falls back to content when output has no message yet, and is undefined for pre-events', () => {
    expect(snapshotText({ output: [{ type: 'reasoning' }], content: 'x' })).toBe('x');
    expect(snapshotText({ output: [{ type: 'reasoning' }] })).toBe('');
    expect(snapshotText({ sources: [] })).toBeUndefined();
    expect(snapshotText('nope')).toBeUndefined();
  });
});

describe('interpretEnvelope', () => {
  const env = (type: string, data?: unknown): unknown => ({
    chat_id: 'c1',
    message_id: 'm2',
    data: { type, data },
  });

  it('reads chat:active brackets', () => {
    expect(interpretEnvelope(env('chat:active', { active: true }))).toEqual({
      chatId: 'c1',
      messageId: 'm2',
      event: { kind: 'active', active: true },
    });
    expect(interpretEnvelope(env('chat:active', { active: false }))?.event).toEqual({
      kind: 'active',
      active: false,
    });
  });

  it('reads cumulative completion frames of every version and the final frame', () => {
    expect(interpretEnvelope(env('chat:completion', { content: 'He' }))?.event).toEqual({
      kind: 'completion',
      text: 'He',
      done: false,
    });
    expect(
      interpretEnvelope(env('chat:completion', { output: outputOf('Hel'), content: 'Hel' }))?.event,
    ).toEqual({ kind: 'completion', text: 'Hel', done: false });
    expect(
      interpretEnvelope(
        env('chat:completion', {
          done: true,
          output: outputOf('Hello'),
          title: 'T',
          usage: { total_tokens: 5 },
        }),
      )?.event,
    ).toEqual({
      kind: 'completion',
      text: 'Hello',
      done: true,
      title: 'T',
      usage: { total_tokens: 5 },
    });
    expect(interpretEnvelope(env('chat:completion', { sources: [] }))?.event).toEqual({
      kind: 'completion',
      done: false,
    });
  });

  it('reads errors, provider errors inside the stream, cancels and other types', () => {
    expect(
      interpretEnvelope(env('chat:message:error', { error: { content: 'Model not found' } }))?.event,
    ).toEqual({ kind: 'error', message: 'Model not found' });
    expect(interpretEnvelope(env('chat:completion', { error: { message: 'rate limited' } }))?.event).toEqual({
      kind: 'error',
      message: 'rate limited',
    });
    expect(interpretEnvelope(env('chat:tasks:cancel'))?.event).toEqual({ kind: 'cancel' });
    expect(interpretEnvelope(env('chat:title', 'T'))?.event).toEqual({ kind: 'other', type: 'chat:title' });
  });

  it('returns undefined for anything that is not an envelope', () => {
    expect(interpretEnvelope(null)).toBeUndefined();
    expect(interpretEnvelope({ chat_id: 'c' })).toBeUndefined();
    expect(interpretEnvelope({ data: { data: {} } })).toBeUndefined();
  });
});

describe('request bodies', () => {
  it('mode A carries no session, chat or parent id', () => {
    const body = buildApiChatBody({ model: 'm1', prompt: 'hi' });
    expect(body).toEqual({ model: 'm1', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('mode B ≥ 0.9 matches the browser example of §3.2', () => {
    const body = buildSocketChatBody({
      model: 'm1',
      prompt: 'hi',
      sessionId: '<sid>',
      messageId: '<asst-uuid>',
      userMessageId: '<user-uuid>',
      behaviour: b('0.11.0'),
      nowSeconds: 1767225600.7,
    });
    expect(body).toEqual(
      JSON.parse(
        '{"model":"m1","stream":true,"messages":[{"role":"user","content":"hi"}],"session_id":"<sid>","id":"<asst-uuid>","parent_id":null,"user_message":{"id":"<user-uuid>","parentId":null,"childrenIds":[],"role":"user","content":"hi","timestamp":1767225600,"models":["m1"]},"background_tasks":{"title_generation":true,"tags_generation":true,"follow_up_generation":true},"stream_options":{"include_usage":true}}',
      ),
    );
    expect(body).not.toHaveProperty('chat_id');
  });

  it('mode B before 0.9 needs a chat id and has no user_message', () => {
    const body = buildSocketChatBody({
      model: 'm1',
      prompt: 'hi',
      sessionId: 'sid1',
      messageId: 'a',
      userMessageId: 'u',
      behaviour: b('0.8.12'),
      nowSeconds: 0,
      backgroundTasks: false,
    });
    expect(body).toMatchObject({
      chat_id: 'local:sid1',
      session_id: 'sid1',
      id: 'a',
      background_tasks: { title_generation: false },
    });
    expect(body).not.toHaveProperty('user_message');
    expect(body).not.toHaveProperty('parent_id');
    expect(
      buildSocketChatBody({
        model: 'm',
        prompt: 'p',
        sessionId: 's',
        messageId: 'a',
        userMessageId: 'u',
        chatId: 'c9',
        behaviour: b('0.11.0'),
        nowSeconds: 0,
      }),
    ).toMatchObject({ chat_id: 'c9' });
  });
});

describe('uuid4', () => {
  it('formats a version-4 uuid from any random source', () => {
    let i = 0;
    const id = uuid4(() => ((i++ * 37) % 256) / 256);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuid4(() => 0.999999)).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    expect(new Set(Array.from({ length: 50 }, () => uuid4(Math.random))).size).toBe(50);
  });
});
