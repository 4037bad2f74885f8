// Per-stream measurement of one SSE chat stream (DESIGN §5), fed raw reads with their receive
// times. Pure: no network, no clock of its own, so a scripted sequence of reads gives exact metrics.
//
// Contract (times are epoch ms; `startMs` is the request start, or the INTENDED start in the open
// model, so a stalled server cannot hide behind a late send):
// - ttft   = first read carrying content − startMs, emitted on that read.
// - itl    = gap between successive content-bearing reads (pooled; one sample per gap).
// - burst_size = content events in a content-bearing read (the mock sends one token per event).
// - client_lag = receive time − `owui_chaos.sent_at` of each content event that carries it.
// - On finish: stream_outcome (tag `outcome`, plus `status` for http_error); for a completed
//   stream e2e (start → `[DONE]` read), tpot = (e2e − ttft)/(tokens − 1) and ttft_e2e_ratio =
//   ttft / e2e when tokens > 1, and
//   garbled_token_rate against the expected tokens when known (else the stream is "unverified":
//   no sample, `unverified = true`); split_event_rate = events spanning > 1 read / events, for
//   every stream that saw at least one event. Garbled is judged only on completed streams: the
//   missing tail of a truncated stream is its outcome, not corruption.
// - After `[DONE]` further bytes are ignored; a second finish() is a no-op.

import type { StreamOutcome } from '../../core/metrics.js';
import { checkIntegrity } from '../../protocol/integrity.js';
import { interpretChatData } from '../../protocol/openai-stream.js';
import { SseParser, type LineDecoder } from '../../protocol/sse-parser.js';
import { ChunkTemplate } from './chunk-template.js';
import type { Emit } from './emit.js';

export interface StreamSummary {
  outcome: StreamOutcome;
  tokens: number;
  events: number;
  splitEvents: number;
  reads: number;
  ttftMs?: number;
  e2eMs?: number;
  garbledRate?: number;
  unverified: boolean;
  /** `error` members seen inside the stream (a provider error relayed by Open WebUI). */
  streamErrors: number;
  /** Protocol errors by reason (docs/safety.md): what a hostile or broken server sent. */
  protocolErrors: Record<string, number>;
}

/** Received text kept for the integrity check: beyond this many chars past the expected text, none. */
const TEXT_SLACK = 64 * 1024;

export interface StreamRecorderOptions {
  startMs: number;
  /** Ground truth; undefined against a model that is not the mock (integrity "unverified"). */
  expected?: readonly string[] | undefined;
  emit: Emit;
  /** Pre-serialised tags of every per-stream sample (client, replica…). */
  tagsJson: string;
  /** Builds the tags JSON of the outcome sample; default adds `outcome` (and `status`) to the base tags. */
  outcomeTags?: (outcome: StreamOutcome, status?: string) => string;
  /** UTF-8 decoder of complete lines for the SSE parser; default the portable one (k6). */
  decode?: LineDecoder;
}

export class StreamRecorder {
  private readonly parser: SseParser;
  private readonly template = new ChunkTemplate();
  /** Content chunks that missed the template; after a few, stop re-learning (a shape that varies). */
  private templateMisses = 0;
  /**
   * The received text, kept cheaply: while it matches the expected text it is only a length into
   * `expectedText` (no per-event string survives, which kept the young-generation GC of a
   * thousand streams copying every token); from the first divergence on, the pieces themselves.
   */
  private readonly expectedText: string | undefined;
  private matched = 0;
  private readonly text: string[] = [];
  private tokens = 0;
  private events = 0;
  private splitEvents = 0;
  private reads = 0;
  private streamErrors = 0;
  private firstContentMs: number | undefined;
  private lastContentMs: number | undefined;
  private doneMs: number | undefined;
  private finished: StreamSummary | undefined;

  constructor(private readonly o: StreamRecorderOptions) {
    this.parser = new SseParser(o.decode ? { decode: o.decode } : {});
    this.expectedText = o.expected?.join('');
  }

  private protocolErrors(): Record<string, number> {
    const out: Record<string, number> = { ...this.parser.problems };
    if (this.invalidJson > 0) out.invalid_json = this.invalidJson;
    if (this.textOverflow) out.text_too_long = 1;
    return out;
  }

  get sawDone(): boolean {
    return this.doneMs !== undefined;
  }

  get receivedText(): string {
    const prefix = this.expectedText === undefined ? '' : this.expectedText.slice(0, this.matched);
    return this.text.length === 0 ? prefix : prefix + this.text.join('');
  }

  private textLength = 0;
  private textOverflow = false;
  private invalidJson = 0;

  private addText(content: string): void {
    const exp = this.expectedText;
    // Against a real model there is nothing to compare with: keep nothing (a stream that never
    // ends must not grow memory).
    if (exp === undefined) return;
    if (this.text.length === 0 && exp.startsWith(content, this.matched)) {
      this.matched += content.length;
      return;
    }
    if (this.textOverflow) return;
    if (this.textLength + content.length > exp.length + TEXT_SLACK) {
      this.textOverflow = true;
      return;
    }
    this.textLength += content.length;
    this.text.push(content);
  }

  /** One network read of the response body, received at `nowMs`. */
  onRead(nowMs: number, chunk: Uint8Array): void {
    if (this.doneMs !== undefined || this.finished) return;
    this.reads++;
    const events = this.parser.push(chunk);
    let content = 0;
    for (const ev of events) {
      this.events++;
      if (ev.reads > 1) this.splitEvents++;
      const fast = this.template.match(ev.data);
      const item = fast ?? interpretChatData(ev.data);
      if (fast === undefined && item.kind === 'content' && this.templateMisses < 4) {
        this.templateMisses++;
        this.template.learn(ev.data, item);
      }
      if (item.kind === 'content') {
        content++;
        this.addText(item.content);
        if (item.sentAtMs !== undefined)
          this.o.emit('client_lag', nowMs, nowMs - item.sentAtMs, this.o.tagsJson);
      } else if (item.kind === 'done') {
        this.doneMs = nowMs;
        break;
      } else if (item.kind === 'error') {
        this.streamErrors++;
      } else if (item.kind === 'invalid') {
        this.invalidJson++;
      }
    }
    if (content > 0) {
      this.tokens += content;
      if (this.firstContentMs === undefined) {
        this.firstContentMs = nowMs;
        this.o.emit('ttft', nowMs, nowMs - this.o.startMs, this.o.tagsJson);
      } else if (this.lastContentMs !== undefined) {
        this.o.emit('itl', nowMs, nowMs - this.lastContentMs, this.o.tagsJson);
      }
      this.lastContentMs = nowMs;
      this.o.emit('burst_size', nowMs, content, this.o.tagsJson);
    }
  }

  /**
   * Ends the stream. `reason` is why the client stopped reading when it was not EOF (timeout,
   * cancelled, http_error); without one, a stream that never saw `[DONE]` is `truncated`.
   */
  finish(
    nowMs: number,
    reason?: { outcome: Exclude<StreamOutcome, 'completed' | 'truncated'>; status?: string },
  ): StreamSummary {
    if (this.finished) return this.finished;
    this.parser.end();
    const outcome: StreamOutcome = this.doneMs !== undefined ? 'completed' : (reason?.outcome ?? 'truncated');
    const summary: StreamSummary = {
      outcome,
      tokens: this.tokens,
      events: this.events,
      splitEvents: this.splitEvents,
      reads: this.reads,
      unverified: false,
      streamErrors: this.streamErrors,
      protocolErrors: this.protocolErrors(),
    };
    const tags = this.o.tagsJson;
    if (this.firstContentMs !== undefined) summary.ttftMs = this.firstContentMs - this.o.startMs;
    if (outcome === 'completed' && this.doneMs !== undefined) {
      const e2e = this.doneMs - this.o.startMs;
      summary.e2eMs = e2e;
      this.o.emit('e2e', this.doneMs, e2e, tags);
      if (summary.ttftMs !== undefined && this.tokens > 1) {
        this.o.emit('tpot', this.doneMs, (e2e - summary.ttftMs) / (this.tokens - 1), tags);
        if (e2e > 0) this.o.emit('ttft_e2e_ratio', this.doneMs, summary.ttftMs / e2e, tags);
      }
      if (this.o.expected !== undefined) {
        // An exact match is garbled 0 by definition; only a damaged text needs the diff.
        summary.garbledRate =
          this.text.length === 0 && this.matched === this.expectedText?.length
            ? 0
            : checkIntegrity(this.o.expected, this.receivedText).garbledRate;
        this.o.emit('garbled_token_rate', this.doneMs, summary.garbledRate, tags);
      } else {
        summary.unverified = true;
      }
    }
    if (this.events > 0) this.o.emit('split_event_rate', nowMs, this.splitEvents / this.events, tags);
    for (const [reason, count] of Object.entries(summary.protocolErrors))
      this.o.emit('protocol_errors', nowMs, count, withTags(tags, { reason }));
    const status = reason?.status;
    const outcomeTags = this.o.outcomeTags
      ? this.o.outcomeTags(outcome, status)
      : withTags(tags, status === undefined ? { outcome } : { outcome, status });
    this.o.emit('stream_outcome', nowMs, 1, outcomeTags);
    this.finished = summary;
    return summary;
  }
}

/** Adds tags to a pre-serialised tags object (`{"a":"b"}` + {c:d} → `{"a":"b","c":"d"}`). */
export function withTags(tagsJsonText: string, extra: Record<string, string>): string {
  const add = JSON.stringify(extra);
  if (add === '{}') return tagsJsonText;
  if (tagsJsonText === '{}') return add;
  return tagsJsonText.slice(0, -1) + ',' + add.slice(1);
}
