// A per-stream shortcut past JSON.parse for chat-stream chunks (DESIGN §5 engine cost): the chunks
// of one stream share everything but the content string (and, from the mock LLM, the
// `owui_chaos.sent_at` number): `{"id":"…","object":…,"choices":[{…"delta":{"content":"…"}…}],
// "owui_chaos":{"sent_at":…}}`. Learned from one fully parsed content chunk, the constant text
// around those two values is a template; a later chunk that is exactly template + a JSON string
// literal (+ a JSON number) is the same JSON document with other values, so its interpretation
// is known without building the object tree (half of the engine's per-event allocation).
//
// Contract: `match(data)` returns what `interpretChatData(data)` would return for a content
// chunk, or undefined when it cannot be sure (no template yet, any difference in the constant
// text, an empty content, an invalid literal or number): the caller then parses in full. `learn`
// takes a chunk that parsed as content; it keeps the template only when the `"content":` key (and
// `"sent_at":` when a stamp was read) occur exactly once, so no duplicate key can change meaning.
// Portable (k6 may use it): strings only.

import type { ChatStreamItem } from '../../protocol/openai-stream.js';

const CONTENT_KEY = '"content":';
const SENT_AT_KEY = '"sent_at":';
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

type ContentItem = Extract<ChatStreamItem, { kind: 'content' }>;

/**
 * Whether `data` holds `part` at `at`. A slice compared with `===` (a flat memory compare in V8)
 * instead of `startsWith(part, at)`, which compares char by char: for the ~200-char prefix of a
 * chat chunk that was most of the template's cost per event (1–2.5 µs against ~0.15 µs).
 */
function holdsAt(data: string, at: number, part: string): boolean {
  return data.length >= at + part.length && data.slice(at, at + part.length) === part;
}

export class ChunkTemplate {
  private prefix: string | undefined;
  /** Constant text after the content literal: up to the stamp's number, or to the end. */
  private middle = '';
  /** Constant text after the stamp's number; undefined = the template has no stamp. */
  private tail: string | undefined;

  get learned(): boolean {
    return this.prefix !== undefined;
  }

  learn(data: string, item: ContentItem): boolean {
    this.prefix = undefined;
    const literal = JSON.stringify(item.content);
    const at = data.indexOf(CONTENT_KEY + literal);
    if (at < 0 || data.indexOf(CONTENT_KEY, at + 1) >= 0 || data.indexOf(CONTENT_KEY) !== at) return false;
    const valueAt = at + CONTENT_KEY.length;
    const rest = data.slice(valueAt + literal.length);
    if (item.sentAtMs === undefined) {
      if (rest.includes(SENT_AT_KEY)) return false;
      this.middle = rest;
      this.tail = undefined;
    } else {
      const s = rest.indexOf(SENT_AT_KEY);
      if (s < 0 || rest.indexOf(SENT_AT_KEY, s + 1) >= 0) return false;
      const numAt = s + SENT_AT_KEY.length;
      let numEnd = numAt;
      while (numEnd < rest.length && '+-.0123456789eE'.includes(rest.charAt(numEnd))) numEnd++;
      const num = rest.slice(numAt, numEnd);
      if (!JSON_NUMBER.test(num) || Number(num) !== item.sentAtMs) return false;
      this.middle = rest.slice(0, numAt);
      this.tail = rest.slice(numEnd);
    }
    this.prefix = data.slice(0, valueAt);
    return true;
  }

  match(data: string): ContentItem | undefined {
    const prefix = this.prefix;
    if (prefix === undefined || !holdsAt(data, 0, prefix)) return undefined;
    // The JSON string literal: a quote, then anything but an unescaped quote or a control character.
    let i = prefix.length;
    if (data.charCodeAt(i) !== 0x22) return undefined;
    let escaped = false;
    for (i++; i < data.length; i++) {
      const c = data.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) return undefined;
      if (c === 0x5c) {
        escaped = true;
        i++;
      }
    }
    if (i >= data.length) return undefined;
    const literalEnd = i + 1;
    let content: string;
    if (!escaped) content = data.slice(prefix.length + 1, i);
    else {
      try {
        content = JSON.parse(data.slice(prefix.length, literalEnd)) as string;
      } catch {
        return undefined;
      }
    }
    if (content === '' || !holdsAt(data, literalEnd, this.middle)) return undefined;
    const afterMiddle = literalEnd + this.middle.length;
    if (this.tail === undefined)
      return afterMiddle === data.length ? { kind: 'content', content } : undefined;
    const numEnd = data.length - this.tail.length;
    if (numEnd <= afterMiddle || !holdsAt(data, numEnd, this.tail)) return undefined;
    const num = data.slice(afterMiddle, numEnd);
    if (!JSON_NUMBER.test(num)) return undefined;
    const sentAtMs = Number(num);
    if (!Number.isFinite(sentAtMs)) return undefined;
    return { kind: 'content', content, sentAtMs };
  }
}
