// OpenAI wire format of the mock LLM: SSE chunk serialisation, the non-streaming completion
// object, error bodies, and how an event is cut into pieces for the `split` write mode.
//
// Contract: every chunk of one stream shares `id`, `created` and `model`; the first delta carries
// `role: "assistant"`, the last content-free chunk carries `finish_reason: "stop"`, an optional
// usage chunk has empty `choices`, and `data: [DONE]` ends the stream, exactly as OpenAI sends
// them. Each chunk JSON also carries `owui_chaos.sent_at` (epoch ms with a sub-ms fraction) so a
// client can measure its own lag. Per-event work is string concatenation only: the constant
// parts of a stream's chunks are serialised once.

export const SSE_DONE = 'data: [DONE]\n\n';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Pre-serialised pieces of one stream's chunks. */
export class ChunkWriter {
  private readonly head: string;
  private readonly contentHead: string;
  private readonly tail: string;
  private readonly contentTail: string;

  /** With `includeUsage`, every chunk but the usage chunk carries `"usage":null`, as OpenAI does. */
  constructor(
    readonly id: string,
    readonly created: number,
    readonly model: string,
    includeUsage = false,
  ) {
    this.head = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"system_fingerprint":null,"choices":`;
    this.contentHead = `${this.head}[{"index":0,"delta":{"content":`;
    this.tail = `${includeUsage ? ',"usage":null' : ''},"owui_chaos":{"sent_at":`;
    this.contentTail = `},"logprobs":null,"finish_reason":null}]${this.tail}`;
  }

  /** First event: `{role:"assistant", content:""}` like OpenAI. */
  role(sentAt: number): string {
    return `${this.head}[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]${this.tail}${formatSentAt(sentAt)}}}\n\n`;
  }

  /** `contentJson` is the JSON string literal of the content (already `JSON.stringify`-ed). */
  content(contentJson: string, sentAt: number): string {
    return `${this.contentHead}${contentJson}${this.contentTail}${formatSentAt(sentAt)}}}\n\n`;
  }

  finish(sentAt: number, reason = 'stop'): string {
    return `${this.head}[{"index":0,"delta":{},"logprobs":null,"finish_reason":${JSON.stringify(reason)}}]${this.tail}${formatSentAt(sentAt)}}}\n\n`;
  }

  usage(usage: Usage, sentAt: number): string {
    return `${this.head}[],"usage":${JSON.stringify(usage)},"owui_chaos":{"sent_at":${formatSentAt(sentAt)}}}\n\n`;
  }
}

/** Epoch ms with microsecond precision; plain decimal (never exponent notation). */
export function formatSentAt(epochMs: number): string {
  return epochMs.toFixed(3);
}

export function completionObject(opts: {
  id: string;
  created: number;
  model: string;
  content: string;
  usage: Usage;
  sentAt: number;
}): Record<string, unknown> {
  return {
    id: opts.id,
    object: 'chat.completion',
    created: opts.created,
    model: opts.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: opts.content, refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: opts.usage,
    owui_chaos: { sent_at: Number(formatSentAt(opts.sentAt)) },
  };
}

/** OpenAI's error body. */
export function openAiError(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

/**
 * Byte offsets at which to cut an event into `pieces` (2 or 3) non-empty parts. When the event
 * holds a multi-byte UTF-8 character, the first cut falls inside it (one byte after its lead
 * byte): that is the split that breaks clients decoding each read on its own.
 */
export function splitPoints(bytes: Uint8Array, pieces: number): number[] {
  const n = bytes.length;
  if (n < 2 || pieces < 2) return [];
  let first = -1;
  for (let i = 0; i < n - 1; i++) {
    if ((bytes[i] as number) >= 0xc0) {
      first = i + 1;
      break;
    }
  }
  if (first <= 0) first = Math.floor(n / 2);
  const cuts = [first];
  if (pieces >= 3) {
    // The second cut halves the larger remaining part, so every piece stays non-empty.
    const second = first < n - first ? first + Math.floor((n - first) / 2) : Math.floor(first / 2);
    if (second > 0 && second < n && second !== first) cuts.push(second);
  }
  return cuts.sort((a, b) => a - b);
}

/** FNV-1a 32-bit: the seed for prompts that carry no directive (deterministic per prompt). */
export function promptSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
