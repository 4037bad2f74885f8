// Per-chat measurement of a socket-mode (browser) chat from cumulative snapshots (DESIGN §5,
// docs/openwebui-protocol.md §3.5). Pure: fed envelope events with receive times.
//
// Contract (times epoch ms, `startMs` = the POST's start):
// - The text is always the LATEST snapshot, never an accumulation: a missed frame is harmless.
// - A content-bearing receipt is a frame whose text is longer than the previous snapshot's:
//   the first one gives ttft, later ones itl (gap to the previous content-bearing frame).
// - Tokens: with ground truth, the number of expected tokens the text covers (by length);
//   without, the number of content-bearing frames. tpot = (e2e − ttft)/(tokens − 1).
// - `done` gives e2e and, with ground truth, garbled_token_rate of the final text; without ground
//   truth the chat is "unverified" (no garbled sample).
// - finish(): stream_outcome with `outcome` completed (done seen) / truncated (`chat:tasks:cancel`
//   or `chat:message:error` before done) / timeout / cancelled (deadline) / http_error /
//   protocol_error (a reply that is not Open WebUI's task reply; tags `status`, `content_type`); a
//   chat that did not complete also gives one `ws_missed_done` sample, unless it failed at the POST or was
//   cancelled by the run itself (deadline or Ctrl-C: still in flight, nothing was lost; a lost
//   `done` is counted when the chat times out, so the engine's chat timeout decides how soon).

import type { StreamOutcome } from '../../core/metrics.js';
import { checkIntegrity, expectedForFinal } from '../../protocol/integrity.js';
import type { ChatEnvelopeEvent } from '../../protocol/openwebui.js';
import type { Emit } from './emit.js';
import { withTags } from './stream-recorder.js';

export interface ChatSummary {
  outcome: StreamOutcome;
  tokens: number;
  frames: number;
  ttftMs?: number;
  e2eMs?: number;
  garbledRate?: number;
  unverified: boolean;
  error?: string;
}

export class SnapshotRecorder {
  private text = '';
  private frames = 0;
  private contentFrames = 0;
  private firstContentMs: number | undefined;
  private lastContentMs: number | undefined;
  private doneMs: number | undefined;
  private ended: 'cancel' | 'error' | undefined;
  private error: string | undefined;
  private finished: ChatSummary | undefined;
  /** Prefix lengths of the expected text by token, to count covered tokens. */
  private readonly prefix: number[] | undefined;

  constructor(
    private readonly o: {
      startMs: number;
      expected?: readonly string[] | undefined;
      emit: Emit;
      tagsJson: string;
    },
  ) {
    if (o.expected) {
      let total = 0;
      this.prefix = o.expected.map((t) => (total += t.length));
    }
  }

  private events = 0;

  /**
   * Any envelope for this chat reached the socket (`chat:active`, which Open WebUI 0.12 sends at
   * once, a delta, a snapshot…): what the event grace waits for.
   */
  noteEvent(): void {
    this.events++;
  }

  /** Envelopes received for this chat so far (0 = nothing reached the socket yet). */
  get eventsSeen(): number {
    return this.events + this.frames;
  }

  /** True once the chat reached a terminator (done, cancel or error). */
  get terminated(): boolean {
    return this.doneMs !== undefined || this.ended !== undefined;
  }

  /** One envelope routed to this chat (protocol/socket-session.ts `chat-event`), received at `nowMs`. */
  onEvent(nowMs: number, ev: ChatEnvelopeEvent): void {
    this.noteEvent();
    if (ev.kind === 'completion') this.onCompletion(nowMs, ev.text, ev.done);
    else if (ev.kind === 'delta') this.onDelta(nowMs, ev.text);
    else if (ev.kind === 'error') this.onError(ev.message);
    else if (ev.kind === 'cancel') this.onCancel();
  }

  /** A `chat:completion` frame. */
  onCompletion(nowMs: number, text: string | undefined, done: boolean): void {
    if (this.terminated) return;
    this.frames++;
    if (text !== undefined) {
      if (text.length > this.text.length) {
        this.contentFrames++;
        if (this.firstContentMs === undefined) {
          this.firstContentMs = nowMs;
          this.o.emit('ttft', nowMs, nowMs - this.o.startMs, this.o.tagsJson);
        } else if (this.lastContentMs !== undefined) {
          this.o.emit('itl', nowMs, nowMs - this.lastContentMs, this.o.tagsJson);
        }
        this.lastContentMs = nowMs;
      }
      this.text = text;
    }
    if (done) this.doneMs = nowMs;
  }

  /** A text increment (0.12 `response:completion` delta): the snapshot so far plus `delta`. */
  onDelta(nowMs: number, delta: string): void {
    this.onCompletion(nowMs, this.text + delta, false);
  }

  onCancel(): void {
    if (!this.terminated) this.ended = 'cancel';
  }

  onError(message: string): void {
    if (this.terminated) return;
    this.ended = 'error';
    this.error = message;
  }

  get receivedText(): string {
    return this.text;
  }

  finish(
    nowMs: number,
    reason?: {
      outcome: 'timeout' | 'cancelled' | 'http_error' | 'protocol_error';
      status?: string;
      /** protocol_error: the reply's content type. */
      contentType?: string;
      /** Why, when the caller knows (e.g. `disconnected`: the socket dropped while the chat ran). */
      reason?: string;
    },
  ): ChatSummary {
    if (this.finished) return this.finished;
    const tags = this.o.tagsJson;
    const outcome: StreamOutcome =
      this.doneMs !== undefined
        ? 'completed'
        : this.ended !== undefined
          ? 'truncated'
          : (reason?.outcome ?? 'truncated');
    const tokens = this.tokenCount();
    const summary: ChatSummary = { outcome, tokens, frames: this.frames, unverified: false };
    if (this.error !== undefined) summary.error = this.error;
    if (this.firstContentMs !== undefined) summary.ttftMs = this.firstContentMs - this.o.startMs;
    if (outcome === 'completed' && this.doneMs !== undefined) {
      const e2e = this.doneMs - this.o.startMs;
      summary.e2eMs = e2e;
      this.o.emit('e2e', this.doneMs, e2e, tags);
      if (summary.ttftMs !== undefined && tokens > 1)
        this.o.emit('tpot', this.doneMs, (e2e - summary.ttftMs) / (tokens - 1), tags);
      if (this.o.expected) {
        // Open WebUI strips the final text (`.strip()` on the last output_text), so a ground truth
        // that starts or ends with whitespace arrives without it; that is not corruption.
        summary.garbledRate = checkIntegrity(
          expectedForFinal(this.o.expected, this.text),
          this.text,
        ).garbledRate;
        this.o.emit('garbled_token_rate', this.doneMs, summary.garbledRate, tags);
      } else {
        summary.unverified = true;
      }
    } else if (
      outcome !== 'cancelled' &&
      reason?.outcome !== 'http_error' &&
      reason?.outcome !== 'protocol_error'
    ) {
      this.o.emit('ws_missed_done', nowMs, 1, tags);
    }
    const extra: Record<string, string> = { outcome };
    if (reason?.status !== undefined) extra['status'] = reason.status;
    if (outcome === 'protocol_error' && reason?.contentType !== undefined)
      extra['content_type'] = reason.contentType;
    if (this.ended !== undefined) extra['reason'] = this.ended;
    else if (outcome !== 'completed' && reason?.reason !== undefined) extra['reason'] = reason.reason;
    this.o.emit('stream_outcome', nowMs, 1, withTags(tags, extra));
    this.finished = summary;
    return summary;
  }

  private tokenCount(): number {
    if (!this.prefix) return this.contentFrames;
    const len = this.text.length;
    // Binary search: tokens whose whole text fits in the received length.
    let lo = 0;
    let hi = this.prefix.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.prefix[mid] as number) <= len) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
