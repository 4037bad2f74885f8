// Server-sent events parser (WHATWG HTML §9.2 "event stream interpretation") fed raw byte chunks,
// one `push()` per network read, with the chunk accounting the metrics need.
//
// Contract:
// - Lines end at CR, LF or CRLF, also when the CR is the last byte of one read and the LF the first
//   of the next. Lines are split on bytes (CR/LF never occur inside a UTF-8 multi-byte sequence), so
//   a character split across reads is decoded whole, and invalid bytes become U+FFFD.
// - A leading BOM (EF BB BF, possibly split across reads) is dropped once, at stream start.
// - `:` lines are comments; a line without a colon is a field with an empty value; one space after
//   the colon is dropped; `data` lines join with "\n"; `event` sets the type (default "message");
//   `id` sets the last event id unless it contains U+0000 and, as in the spec, it persists across
//   events; `retry` with only ASCII digits sets `retryMs`; unknown fields are ignored.
// - A blank line dispatches the event if it has data; an event block with no data line (comments,
//   only `event:`) dispatches nothing, as in the spec.
// - `reads` of an event = how many reads its bytes spanned, from the first byte of its block (the
//   first byte after the previous blank line) through its terminating blank line. `bytes` = the
//   block's byte count including line terminators.
// - `end()`: the spec discards an unterminated event at EOF; we report its size as `danglingBytes`
//   so a client can tell "ended mid-event" (a truncated stream) from a clean end.
// - Decoding: each complete line's bytes are decoded once, by `options.decode` when given (the
//   Node engine passes Buffer's native UTF-8 decoder; it must replace invalid bytes with U+FFFD
//   per WHATWG, as the portable default `utf8DecodeRange` does, which k6 keeps using). Field names
//   are matched on bytes, so a `data:` line costs one decode of its value and no copies.

import { utf8DecodeRange } from './utf8.js';

/** Decodes bytes [start, end) of a complete line (no partial sequence at either end). */
export type LineDecoder = (bytes: Uint8Array, start: number, end: number) => string;

export interface SseParserOptions {
  decode?: LineDecoder;
  /** A line longer than this is dropped whole (counted `line_too_long`). Default 1 MiB. */
  maxLineBytes?: number;
  /** An event block longer than this is dropped whole (counted `event_too_large`). Default 4 MiB. */
  maxEventBytes?: number;
}

/** Why bytes from a server were not taken as it sent them (docs/safety.md, hostile servers). */
export type SseProblem = 'line_too_long' | 'event_too_large' | 'invalid_utf8';

export interface SseEvent {
  event: string;
  data: string;
  /** The last event id in effect (spec: persists until the next `id:` field). */
  id?: string;
  /** Reads (push calls) its bytes spanned. 1 = it arrived whole in one read. */
  reads: number;
  /** Bytes of the event block, line terminators included. */
  bytes?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;
const D = 0x64;
const A = 0x61;
const T = 0x74;
const BOM = [0xef, 0xbb, 0xbf] as const;

export class SseParser {
  private readonly decode: LineDecoder;
  private reads = 0;
  /** Bytes of the current, not yet terminated line (copies: a chunk is only valid during push). */
  private lineParts: Uint8Array[] = [];
  private lineLength = 0;
  /** The previous byte was a CR that ended a line: an LF right after it is part of that terminator. */
  private afterCr = false;
  /** How many BOM bytes matched so far at stream start; -1 once the BOM question is settled. */
  private bomMatched = 0;

  private dataLines: string[] = [];
  private hasData = false;
  private eventType = '';
  private lastEventId = '';
  /** Read number (1-based) of the current block's first byte; 0 = no block started. */
  private blockStartRead = 0;
  private blockBytes = 0;
  private retry: number | undefined;

  private readonly maxLineBytes: number;
  private readonly maxEventBytes: number;
  /** Dropping the rest of an over-long line (until its terminator). */
  private discardingLine = false;
  /** Dropping the rest of an over-large event block (until its blank line). */
  private discardingEvent = false;
  /** Counts per problem; memory stays bounded whatever the server sends. */
  readonly problems: Partial<Record<SseProblem, number>> = {};

  constructor(options: SseParserOptions = {}) {
    this.decode = options.decode ?? utf8DecodeRange;
    this.maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
    this.maxEventBytes = options.maxEventBytes ?? 4 * 1024 * 1024;
  }

  private problem(p: SseProblem): void {
    this.problems[p] = (this.problems[p] ?? 0) + 1;
  }

  /** Reads pushed so far. */
  get readCount(): number {
    return this.reads;
  }

  /** The reconnection time the server asked for with `retry:`, if any. */
  get retryMs(): number | undefined {
    return this.retry;
  }

  /** Events completed by this chunk, in order. */
  push(chunk: Uint8Array): SseEvent[] {
    this.reads++;
    const events: SseEvent[] = [];
    if (this.bomMatched >= 0) chunk = this.stripBom(chunk);
    const n = chunk.length;
    let lineStart = 0;
    let i = 0;
    if (this.afterCr && n > 0) {
      this.afterCr = false;
      if (chunk[0] === LF) {
        // Second half of a CRLF: belongs to the line already ended; not the start of a block.
        if (this.blockStartRead !== 0) this.blockBytes++;
        lineStart = i = 1;
      }
    }
    // Next LF and next CR at or after `i`, found by the native indexOf (a byte loop in JS was most
    // of the parser's cost per event) and kept until passed, so each byte is scanned once per kind.
    let nextLf = -1;
    let nextCr = -1;
    while (i < n) {
      if (nextLf < i) nextLf = indexOrEnd(chunk, LF, i, n);
      if (nextCr < i) nextCr = indexOrEnd(chunk, CR, i, n);
      const end = nextLf < nextCr ? nextLf : nextCr;
      const byte = end < n ? (chunk[end] as number) : 0;
      if (this.blockStartRead === 0) this.blockStartRead = this.reads;
      if (end === n) break;
      const lineBytes = this.lineLength + (end - lineStart);
      this.blockBytes += lineBytes + 1;
      let event: SseEvent | undefined;
      if (this.discardingLine || lineBytes > this.maxLineBytes) {
        // The end of a line too long to keep: it is dropped, and so is the event it belonged to.
        if (!this.discardingLine) this.problem('line_too_long');
        this.discardingLine = false;
        this.discardingEvent = true;
        this.lineParts = [];
        this.lineLength = 0;
      } else if (this.lineLength === 0) event = this.processLine(chunk, lineStart, end);
      else {
        const line = this.takeLine(chunk, lineStart, end);
        event = this.processLine(line, 0, line.length);
      }
      if (!this.discardingEvent && this.blockBytes > this.maxEventBytes) {
        this.problem('event_too_large');
        this.discardingEvent = true;
        this.dataLines.length = 0;
      }
      if (event) events.push(event);
      i = lineStart = end + 1;
      if (byte === CR) {
        if (i < n) {
          if (chunk[i] === LF) {
            if (this.blockStartRead !== 0) this.blockBytes++;
            i = lineStart = i + 1;
          }
        } else this.afterCr = true;
      }
    }
    if (lineStart < n) {
      if (this.discardingLine) {
        this.blockBytes += n - lineStart;
      } else if (this.lineLength + (n - lineStart) > this.maxLineBytes) {
        // Kept so far plus this read exceed the cap: drop what is held, drop the rest as it comes.
        this.problem('line_too_long');
        this.discardingLine = true;
        this.blockBytes += this.lineLength + (n - lineStart);
        this.lineParts = [];
        this.lineLength = 0;
      } else {
        // A copy: the caller may reuse its read buffer (the Node engine's stream connections do).
        this.lineParts.push(new Uint8Array(chunk.subarray(lineStart)));
        this.lineLength += n - lineStart;
      }
    }
    return events;
  }

  /** End of stream. An unterminated event is not dispatched (WHATWG); its size is reported. */
  end(): { events: SseEvent[]; danglingBytes: number } {
    // Bytes that only looked like the start of a BOM were held back and are content too.
    const heldBom = this.bomMatched > 0 ? this.bomMatched : 0;
    const danglingBytes = heldBom + this.blockBytes + this.lineLength;
    this.lineParts = [];
    this.lineLength = 0;
    this.discardingLine = false;
    this.discardingEvent = false;
    this.resetBlock();
    return { events: [], danglingBytes };
  }

  /**
   * Drops a BOM at stream start. Returns the bytes to parse: the chunk after the BOM, or, when the
   * first bytes only looked like the start of a BOM, those held bytes put back in front.
   */
  private stripBom(chunk: Uint8Array): Uint8Array {
    let i = 0;
    while (i < chunk.length && this.bomMatched < BOM.length) {
      if (chunk[i] !== BOM[this.bomMatched]) {
        const held = BOM.slice(0, this.bomMatched);
        this.bomMatched = -1;
        if (held.length === 0) return chunk.subarray(i);
        const merged = new Uint8Array(held.length + chunk.length - i);
        merged.set(held);
        merged.set(chunk.subarray(i), held.length);
        return merged;
      }
      this.bomMatched++;
      i++;
    }
    if (this.bomMatched === BOM.length) this.bomMatched = -1;
    return chunk.subarray(i);
  }

  private takeLine(chunk: Uint8Array, from: number, to: number): Uint8Array {
    if (this.lineLength === 0) return chunk.subarray(from, to);
    const line = new Uint8Array(this.lineLength + (to - from));
    let o = 0;
    for (const part of this.lineParts) {
      line.set(part, o);
      o += part.length;
    }
    line.set(chunk.subarray(from, to), o);
    this.lineParts = [];
    this.lineLength = 0;
    return line;
  }

  private processLine(line: Uint8Array, start: number, end: number): SseEvent | undefined {
    if (end === start) return this.dispatch();
    const first = line[start] as number;
    if (first === COLON) return undefined;
    // Fast path: `data:` (the only field a chat stream repeats), matched on bytes.
    if (
      first === D &&
      end - start >= 5 &&
      line[start + 1] === A &&
      line[start + 2] === T &&
      line[start + 3] === A &&
      line[start + 4] === COLON
    ) {
      const valueStart = start + 5 < end && line[start + 5] === SPACE ? start + 6 : start + 5;
      const value = this.decode(line, valueStart, end);
      if (value.includes('\uFFFD') && !hasReplacementBytes(line, valueStart, end))
        this.problem('invalid_utf8');
      if (this.discardingEvent) return undefined;
      this.dataLines.push(value);
      this.hasData = true;
      return undefined;
    }
    let colon = -1;
    for (let k = start; k < end; k++) {
      if (line[k] === COLON) {
        colon = k;
        break;
      }
    }
    let field: string;
    let value: string;
    if (colon < 0) {
      field = this.decode(line, start, end);
      value = '';
    } else {
      field = this.decode(line, start, colon);
      const valueStart = colon + 1 < end && line[colon + 1] === SPACE ? colon + 2 : colon + 1;
      value = this.decode(line, valueStart, end);
    }
    switch (field) {
      case 'data':
        this.dataLines.push(value);
        this.hasData = true;
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    if (this.discardingEvent) {
      this.discardingEvent = false;
      this.resetBlock();
      return undefined;
    }
    const reads = this.reads - this.blockStartRead + 1;
    const bytes = this.blockBytes;
    const hasData = this.hasData;
    const data = this.dataLines.length === 1 ? (this.dataLines[0] as string) : this.dataLines.join('\n');
    const event = this.eventType === '' ? 'message' : this.eventType;
    this.resetBlock();
    if (!hasData) return undefined;
    const out: SseEvent = { event, data, reads, bytes };
    if (this.lastEventId !== '') out.id = this.lastEventId;
    return out;
  }

  private resetBlock(): void {
    this.dataLines.length = 0;
    this.hasData = false;
    this.eventType = '';
    this.blockStartRead = 0;
    this.blockBytes = 0;
  }
}

/** Index of the first `byte` in chunk[from, n), or n when there is none. */
function indexOrEnd(chunk: Uint8Array, byte: number, from: number, n: number): number {
  const k = chunk.indexOf(byte, from);
  return k < 0 ? n : k;
}

/** Whether bytes [start, end) hold a real U+FFFD (EF BF BD), as opposed to one decoding made up. */
function hasReplacementBytes(bytes: Uint8Array, start: number, end: number): boolean {
  for (let k = start; k + 2 < end; k++) {
    if (bytes[k] === 0xef && bytes[k + 1] === 0xbf && bytes[k + 2] === 0xbd) return true;
  }
  return false;
}
