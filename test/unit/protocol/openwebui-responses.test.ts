// Open WebUI 0.12 socket frames (docs/openwebui-protocol.md "Mode B"): Responses-API deltas on
// `response:completion`, passthrough OpenAI chunks, and the stripped final text. The frames below
// are copied from a real Open WebUI 0.12.4 mode-B chat (conformance probe).

import { describe, expect, it } from 'vitest';
import { behaviourFor, interpretEnvelope, parseVersion } from '../../../src/protocol/openwebui.js';
import { checkIntegrity, expectedForFinal } from '../../../src/protocol/integrity.js';

const env = (type: string, data: unknown): unknown => ({
  chat_id: 'c',
  message_id: 'm',
  data: { type, data },
});

describe('Open WebUI 0.12 frames', () => {
  it('response.output_text.delta is a delta', () => {
    const e = interpretEnvelope(
      env('response:completion', {
        type: 'response.output_text.delta',
        item_id: 'msg_1',
        output_index: 0,
        content_index: 0,
        delta: ' token',
      }),
    );
    expect(e?.event).toEqual({ kind: 'delta', text: ' token' });
  });

  it('a passthrough chunk with empty content is not text; with content it is a delta', () => {
    const chunk = (content: string | undefined): unknown => ({
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: content === undefined ? {} : { role: 'assistant', content } }],
    });
    expect(interpretEnvelope(env('response:completion', chunk('')))?.event.kind).toBe('other');
    expect(interpretEnvelope(env('chat:completion', chunk(undefined)))?.event).toEqual({
      kind: 'completion',
      done: false,
    });
    expect(interpretEnvelope(env('chat:completion', chunk('Hi')))?.event).toEqual({
      kind: 'delta',
      text: 'Hi',
    });
  });

  it('the final done frame is still a snapshot', () => {
    const e = interpretEnvelope(
      env('chat:completion', {
        done: true,
        output: [{ type: 'message', content: [{ type: 'output_text', text: 'all of it' }] }],
      }),
    );
    expect(e?.event).toMatchObject({ kind: 'completion', done: true, text: 'all of it' });
  });

  it('0.12.x streams responses; 0.11.x cumulative output; 0.8.12 content snapshots', () => {
    expect(behaviourFor(parseVersion('0.12.4')).payload).toBe('responses');
    expect(behaviourFor(parseVersion('0.11.0')).payload).toBe('output');
    expect(behaviourFor(parseVersion('0.8.12')).payload).toBe('content');
  });
});

describe('expectedForFinal (the server strips the final text)', () => {
  it('trims whitespace-edged ground truth when the received text is stripped', () => {
    const expected = ['  Hello', ' world', '\n', '\n'];
    const trimmed = expectedForFinal(expected, 'Hello world');
    expect(trimmed.join('')).toBe('Hello world');
    expect(checkIntegrity(trimmed, 'Hello world').garbledRate).toBe(0);
  });

  it('leaves the ground truth alone when the received text keeps whitespace (no strip)', () => {
    const expected = ['Hello', '\n'];
    expect(expectedForFinal(expected, 'Hello\n')).toBe(expected);
  });

  it('a really missing word is still garbled after trimming (negative control)', () => {
    const expected = ['Hello', ' big', ' world', '\n'];
    const trimmed = expectedForFinal(expected, 'Hello world');
    expect(checkIntegrity(trimmed, 'Hello world').garbledRate).toBeGreaterThan(0);
  });
});
