// Streaming UTF-8 codec, portable (k6's goja has no TextDecoder with `stream: true`).
//
// Contract: `Utf8StreamDecoder.decode()` may be fed a byte stream cut at any point; a multi-byte
// sequence split across calls is kept until it completes, so concatenating every `decode()` result
// plus `flush()` equals decoding the whole stream at once. Invalid input follows the WHATWG
// Encoding Standard's UTF-8 decoder exactly ("maximal subpart" replacement): each invalid byte or
// truncated sequence becomes one U+FFFD, which is what a browser and Node's TextDecoder produce, so
// an integrity check sees the same damage a real client would.

const REPLACEMENT = 0xfffd;
/** String.fromCharCode argument lists are bounded by the engine's max call arguments. */
const FROM_CHAR_CODE_BATCH = 8192;

export class Utf8StreamDecoder {
  private codePoint = 0;
  private bytesSeen = 0;
  private bytesNeeded = 0;
  private lowerBoundary = 0x80;
  private upperBoundary = 0xbf;

  /** Bytes of an incomplete sequence held back from the last `decode()` call. */
  get pendingBytes(): number {
    return this.bytesNeeded === 0 ? 0 : this.bytesSeen + 1;
  }

  decode(bytes: Uint8Array): string {
    const units: number[] = [];
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (this.bytesNeeded === 0) {
        if (byte <= 0x7f) {
          units.push(byte);
        } else if (byte >= 0xc2 && byte <= 0xdf) {
          this.bytesNeeded = 1;
          this.codePoint = byte & 0x1f;
        } else if (byte >= 0xe0 && byte <= 0xef) {
          if (byte === 0xe0) this.lowerBoundary = 0xa0;
          if (byte === 0xed) this.upperBoundary = 0x9f;
          this.bytesNeeded = 2;
          this.codePoint = byte & 0xf;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          if (byte === 0xf0) this.lowerBoundary = 0x90;
          if (byte === 0xf4) this.upperBoundary = 0x8f;
          this.bytesNeeded = 3;
          this.codePoint = byte & 0x7;
        } else {
          units.push(REPLACEMENT);
        }
      } else if (byte < this.lowerBoundary || byte > this.upperBoundary) {
        // The broken sequence becomes one U+FFFD and this byte is looked at again as a lead byte.
        this.reset();
        units.push(REPLACEMENT);
        i--;
      } else {
        this.lowerBoundary = 0x80;
        this.upperBoundary = 0xbf;
        this.codePoint = (this.codePoint << 6) | (byte & 0x3f);
        this.bytesSeen++;
        if (this.bytesSeen === this.bytesNeeded) {
          pushCodePoint(units, this.codePoint);
          this.reset();
        }
      }
      if (units.length >= FROM_CHAR_CODE_BATCH) {
        out += String.fromCharCode(...units);
        units.length = 0;
      }
    }
    return units.length === 0 ? out : out + String.fromCharCode(...units);
  }

  /** End of stream: an incomplete sequence still held becomes one U+FFFD. */
  flush(): string {
    if (this.bytesNeeded === 0) return '';
    this.reset();
    return String.fromCharCode(REPLACEMENT);
  }

  private reset(): void {
    this.codePoint = 0;
    this.bytesSeen = 0;
    this.bytesNeeded = 0;
    this.lowerBoundary = 0x80;
    this.upperBoundary = 0xbf;
  }
}

function pushCodePoint(units: number[], cp: number): void {
  if (cp <= 0xffff) {
    units.push(cp);
  } else {
    const v = cp - 0x10000;
    units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
  }
}

/**
 * One-shot decode of bytes [start, end) of `bytes` (a complete sequence), without copying them
 * when they are ASCII, the common case of SSE framing and JSON chunks.
 */
export function utf8DecodeRange(bytes: Uint8Array, start: number, end: number): string {
  let ascii = end - start <= FROM_CHAR_CODE_BATCH;
  for (let i = start; ascii && i < end; i++) if ((bytes[i] as number) > 0x7f) ascii = false;
  if (ascii) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  const decoder = new Utf8StreamDecoder();
  return decoder.decode(bytes.subarray(start, end)) + decoder.flush();
}

/** One-shot decode of a complete byte sequence. */
export function utf8Decode(bytes: Uint8Array): string {
  const decoder = new Utf8StreamDecoder();
  return decoder.decode(bytes) + decoder.flush();
}

/** UTF-8 bytes of `text`; a lone surrogate is encoded as U+FFFD, like TextEncoder. */
export function utf8Encode(text: string): Uint8Array {
  const out = new Uint8Array(utf8ByteLength(text));
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdfff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (cp <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        cp = REPLACEMENT;
      }
    }
    if (cp < 0x80) {
      out[o++] = cp;
    } else if (cp < 0x800) {
      out[o++] = 0xc0 | (cp >> 6);
      out[o++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[o++] = 0xe0 | (cp >> 12);
      out[o++] = 0x80 | ((cp >> 6) & 0x3f);
      out[o++] = 0x80 | (cp & 0x3f);
    } else {
      out[o++] = 0xf0 | (cp >> 18);
      out[o++] = 0x80 | ((cp >> 12) & 0x3f);
      out[o++] = 0x80 | ((cp >> 6) & 0x3f);
      out[o++] = 0x80 | (cp & 0x3f);
    }
  }
  return out;
}

/** Byte length of `text` in UTF-8 without encoding it (lone surrogates count as U+FFFD: 3 bytes). */
export function utf8ByteLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
