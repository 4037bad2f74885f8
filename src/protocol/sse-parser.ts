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

import { utf8Decode } from './utf8.js';

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
const BOM = [0xef, 0xbb, 0xbf] as const;

export class SseParser {
  private reads = 0;
  /** Bytes of the current, not yet terminated line (kept as views of the chunks they came in). */
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
    let lineStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (this.afterCr) {
        this.afterCr = false;
        if (byte === LF) {
          // Second half of a CRLF: belongs to the line already ended; not the start of a block.
          lineStart = i + 1;
          if (this.blockStartRead !== 0) this.blockBytes++;
          continue;
        }
      }
      if (this.blockStartRead === 0) this.blockStartRead = this.reads;
      if (byte === CR || byte === LF) {
        const line = this.takeLine(chunk, lineStart, i);
        lineStart = i + 1;
        this.afterCr = byte === CR;
        this.blockBytes += line.length + 1;
        const event = this.processLine(line);
        if (event) events.push(event);
      }
    }
    if (lineStart < chunk.length) {
      this.lineParts.push(chunk.subarray(lineStart));
      this.lineLength += chunk.length - lineStart;
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

  private processLine(line: Uint8Array): SseEvent | undefined {
    if (line.length === 0) return this.dispatch();
    if (line[0] === COLON) return undefined;
    const colon = line.indexOf(COLON);
    let field: string;
    let value: string;
    if (colon < 0) {
      field = utf8Decode(line);
      value = '';
    } else {
      field = utf8Decode(line.subarray(0, colon));
      const valueStart = line[colon + 1] === SPACE ? colon + 2 : colon + 1;
      value = utf8Decode(line.subarray(valueStart));
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
    const reads = this.reads - this.blockStartRead + 1;
    const bytes = this.blockBytes;
    const hasData = this.hasData;
    const data = this.dataLines.join('\n');
    const event = this.eventType === '' ? 'message' : this.eventType;
    this.resetBlock();
    if (!hasData) return undefined;
    const out: SseEvent = { event, data, reads, bytes };
    if (this.lastEventId !== '') out.id = this.lastEventId;
    return out;
  }

  private resetBlock(): void {
    this.dataLines = [];
    this.hasData = false;
    this.eventType = '';
    this.blockStartRead = 0;
    this.blockBytes = 0;
  }
}
