// Interprets one SSE `data` payload of an OpenAI-style chat stream as Open WebUI relays it in mode A
// (docs/openwebui-protocol.md §3.4), following the frontend parser (`lib/apis/streaming/index.ts`):
// `[DONE]` ends the stream; an `error` member is an error; `choices[0].delta.content` is text;
// everything else (`sources`, `selected_model_id`, `usage`, role-only deltas, `finish_reason`) is
// metadata a client must skip, never treat as text. Pure: no I/O, never throws.

import { isRecord } from './json.js';

export type ChatStreamItem =
  | { kind: 'done' }
  | { kind: 'content'; content: string; sentAtMs?: number }
  | { kind: 'error'; message: string }
  | { kind: 'meta'; payload: unknown }
  | { kind: 'invalid'; raw: string };

export function interpretChatData(data: string): ChatStreamItem {
  const trimmed = data.trim();
  if (trimmed === '[DONE]') return { kind: 'done' };
  let payload: unknown;
  try {
    payload = JSON.parse(trimmed);
  } catch {
    return { kind: 'invalid', raw: data };
  }
  // A JSON scalar or array is not a chunk either; counting it as "invalid" keeps it visible.
  if (!isRecord(payload)) return { kind: 'invalid', raw: data };

  if (payload['error'] !== undefined && payload['error'] !== null) {
    return { kind: 'error', message: errorText(payload['error']) };
  }
  // A 400 pipeline error (`{"detail":…}`, #23924) can reach a client that reads the body as SSE.
  if (typeof payload['detail'] === 'string' && payload['choices'] === undefined) {
    return { kind: 'error', message: payload['detail'] };
  }

  const choices = payload['choices'];
  if (Array.isArray(choices) && isRecord(choices[0])) {
    const delta = choices[0]['delta'];
    if (isRecord(delta) && typeof delta['content'] === 'string' && delta['content'] !== '') {
      const item: ChatStreamItem = { kind: 'content', content: delta['content'] };
      const sentAt = sentAtOf(payload);
      if (sentAt !== undefined) item.sentAtMs = sentAt;
      return item;
    }
  }
  return { kind: 'meta', payload };
}

/** The mock LLM stamps each chunk with `owui_chaos.sent_at` (epoch ms) for `client_lag`. */
function sentAtOf(payload: Record<string, unknown>): number | undefined {
  const stamp = payload['owui_chaos'];
  if (!isRecord(stamp)) return undefined;
  const sentAt = stamp['sent_at'];
  return typeof sentAt === 'number' && Number.isFinite(sentAt) ? sentAt : undefined;
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (isRecord(error)) {
    if (typeof error['message'] === 'string') return error['message'];
    if (typeof error['content'] === 'string') return error['content'];
    if (typeof error['detail'] === 'string') return error['detail'];
  }
  return JSON.stringify(error);
}
