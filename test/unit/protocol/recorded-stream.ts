// A recorded mode-A stream built from the ground truth: what the mock LLM sends through Open WebUI
// (an Open WebUI `sources` line first, a role-only delta, one chunk per token with the mock's
// `owui_chaos.sent_at` stamp, a finish/usage chunk, `[DONE]`). CJK and emoji tokens make byte
// splits land inside multi-byte characters.

import { generateTokens } from '../../../src/protocol/ground-truth.js';

export interface RecordedStream {
  tokens: string[];
  bytes: Uint8Array;
  /** `data` payloads of every event in order. */
  payloads: string[];
}

export function recordStream(opts: {
  seed: number;
  tokens: number;
  lineEnd?: '\n' | '\r\n' | '\r';
}): RecordedStream {
  const tokens = generateTokens(opts.seed, opts.tokens);
  const eol = opts.lineEnd ?? '\n';
  const payloads: string[] = [JSON.stringify({ sources: [] })];
  const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, finish_reason: null }],
      ...extra,
    });
  payloads.push(chunk({ role: 'assistant' }));
  tokens.forEach((t, i) =>
    payloads.push(chunk({ content: t }, { owui_chaos: { sent_at: 1_767_225_600_000 + i } })),
  );
  payloads.push(
    JSON.stringify({
      id: 'chatcmpl-1',
      choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      usage: { completion_tokens: tokens.length },
    }),
  );
  payloads.push('[DONE]');
  const text = payloads.map((p) => `data: ${p}${eol}${eol}`).join('');
  return { tokens, bytes: new TextEncoder().encode(text), payloads };
}

/** Cuts `bytes` at the given ascending offsets. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const cut of cuts) {
    parts.push(bytes.subarray(from, cut));
    from = cut;
  }
  parts.push(bytes.subarray(from));
  return parts;
}
