// An incremental HTTP/1.1 response parser for the engine's own stream connections
// (stream-connection.ts, docs/engine-bench.md "Own HTTP/1.1 reader"): fed the bytes of each socket
// read, it reports the head once and the body as views of the bytes it was given, framed as
// RFC 9112 says: chunked, Content-Length, or up to the end of the connection.
//
// Contract:
// - `push(bytes)` may be called with any split of the response (one byte at a time included) and
//   gives the same head and the same body bytes. Body views point into `bytes`: a consumer that
//   keeps them past its callback must copy them (the caller may reuse its read buffer).
// - 1xx heads (100 Continue, 103 Early Hints) are skipped; 101 is an error (we never upgrade).
// - No body for 204, 304 and responses to HEAD. Transfer-Encoding with `chunked` last → chunked;
//   any other Transfer-Encoding → up to the close. Else Content-Length (several different values,
//   or a value that is not digits, is an error); else up to the close.
// - `keepAlive`: HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`;
//   never for a close-delimited body.
// - Malformed input (a bad status line or header line, a bad chunk size, a head or chunk line
//   over its limit) throws Http1Error; the connection is unusable afterwards.
// - `end()` at EOF: completes a close-delimited body; anywhere else before `onEnd` it throws
//   Http1Error("the server closed the connection mid-response").
// - Bytes after the end of the response are counted in `excess` (a server that sends them
//   cannot be reused: the caller closes the connection).

export class Http1Error extends Error {
  override name = 'Http1Error';
}

export interface ResponseHead {
  statusCode: number;
  statusText: string;
  /** name, value, name, value… as received (names not lower-cased), like undici's rawHeaders. */
  rawHeaders: string[];
  keepAlive: boolean;
}

export interface ResponseCallbacks {
  onHead(head: ResponseHead): void;
  onBody(bytes: Uint8Array): void;
  onEnd(): void;
}

/** A response head longer than this is refused (Node's own limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line (size and extensions) longer than this is refused. */
const MAX_CHUNK_LINE = 4096;
/** A trailer section longer than this is refused. */
const MAX_TRAILER_BYTES = 16 * 1024;

const LF = 0x0a;
const CR = 0x0d;

type State =
  'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'close' | 'done';

export class Http1ResponseParser {
  private state: State = 'head';
  /** Bytes of a head, chunk-size line or trailer section not yet complete. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Body bytes still expected: of the Content-Length body or of the current chunk. */
  private remaining = 0;
  private keepAlive = false;
  excess = 0;

  constructor(
    private readonly cb: ResponseCallbacks,
    private readonly noBody = false,
  ) {}

  get done(): boolean {
    return this.state === 'done';
  }

  push(bytes: Uint8Array): void {
    let i = 0;
    const n = bytes.length;
    while (i < n) {
      switch (this.state) {
        case 'head': {
          const end = this.lineBlockEnd(bytes, i, MAX_HEAD_BYTES, 'response head');
          if (end < 0) return;
          i = end;
          this.startBody(parseHead(this.takePending()));
          break;
        }
        case 'length': {
          i = this.bodyBytes(bytes, i);
          if (this.remaining === 0) this.finish();
          break;
        }
        case 'close':
          this.cb.onBody(i === 0 ? bytes : bytes.subarray(i));
          return;
        case 'chunk-size': {
          const lf = bytes.indexOf(LF, i);
          if (lf < 0) {
            this.hold(bytes.subarray(i), MAX_CHUNK_LINE, 'chunk size line');
            return;
          }
          let size: number;
          if (this.pendingBytes === 0 && lf - i <= MAX_CHUNK_LINE) size = chunkSizeOf(bytes, i, lf);
          else {
            this.hold(bytes.subarray(i, lf), MAX_CHUNK_LINE, 'chunk size line');
            const line = this.takePending();
            size = chunkSizeOf(Buffer.from(line, 'latin1'), 0, line.length);
          }
          i = lf + 1;
          if (size === 0) {
            this.state = 'trailers';
            // The trailer section starts right after the size line: its first line may be empty.
            this.pending = [new Uint8Array([LF])];
            this.pendingBytes = 1;
          } else {
            this.remaining = size;
            this.state = 'chunk-data';
          }
          break;
        }
        case 'chunk-data': {
          i = this.bodyBytes(bytes, i);
          if (this.remaining === 0) this.state = 'chunk-data-end';
          break;
        }
        case 'chunk-data-end': {
          // CRLF after the chunk's data (a bare LF is tolerated, as Node's parser does).
          const b = bytes[i] as number;
          if (b === CR && this.remaining === 0) {
            this.remaining = -1; // the CR is seen; the LF is next
            i++;
          } else if (b === LF) {
            this.remaining = 0;
            this.state = 'chunk-size';
            i++;
          } else throw new Http1Error('chunk data is not followed by CRLF');
          break;
        }
        case 'trailers': {
          const end = this.lineBlockEnd(bytes, i, MAX_TRAILER_BYTES, 'trailer section');
          if (end < 0) return;
          i = end;
          this.pending = [];
          this.pendingBytes = 0;
          this.finish();
          break;
        }
        case 'done':
          this.excess += n - i;
          return;
      }
    }
  }

  /** Hands on up to `remaining` body bytes from `at`; returns the index after them. */
  private bodyBytes(bytes: Uint8Array, at: number): number {
    const take = Math.min(this.remaining, bytes.length - at);
    this.remaining -= take;
    this.cb.onBody(bytes.subarray(at, at + take));
    return at + take;
  }

  /** The connection reached EOF. */
  end(): void {
    if (this.state === 'close') {
      this.finish();
      return;
    }
    if (this.state !== 'done') throw new Http1Error('the server closed the connection mid-response');
  }

  private finish(): void {
    this.state = 'done';
    this.cb.onEnd();
  }

  private startBody(head: ResponseHead & { framing: Framing }): void {
    if (head.statusCode === 101)
      throw new Http1Error('the server switched protocols (101) on a chat request');
    if (head.statusCode >= 100 && head.statusCode < 200) return; // an interim response: the real head follows
    const { framing, ...rest } = head;
    this.keepAlive = head.keepAlive && framing.kind !== 'close';
    this.cb.onHead({ ...rest, keepAlive: this.keepAlive });
    if (this.noBody || head.statusCode === 204 || head.statusCode === 304) this.finish();
    else if (framing.kind === 'chunked') this.state = 'chunk-size';
    else if (framing.kind === 'length') {
      this.remaining = framing.length;
      if (framing.length === 0) this.finish();
      else this.state = 'length';
    } else this.state = 'close';
  }

  /** Keep-alive as the head said, and false for a close-delimited body or trailing bytes. */
  get reusable(): boolean {
    return this.state === 'done' && this.keepAlive && this.excess === 0;
  }

  /**
   * Adds bytes from `from` to the pending block until an empty line ends it; returns the index
   * after that empty line's LF, or -1 when the block continues in the next read.
   */
  private lineBlockEnd(bytes: Uint8Array, from: number, limit: number, what: string): number {
    // The block ends at LF (CR) LF. Look for LF, then check whether the line before it is empty.
    let lastByte = this.lastPendingByte();
    let beforeLast = this.secondLastPendingByte();
    for (let i = from; i < bytes.length; i++) {
      const b = bytes[i] as number;
      if (b === LF && (lastByte === LF || (lastByte === CR && beforeLast === LF))) {
        this.hold(bytes.subarray(from, i + 1), limit, what);
        return i + 1;
      }
      beforeLast = lastByte;
      lastByte = b;
    }
    this.hold(bytes.subarray(from), limit, what);
    return -1;
  }

  private lastPendingByte(): number {
    const last = this.pending[this.pending.length - 1];
    if (last !== undefined && last.length > 0) return last[last.length - 1] as number;
    return -1;
  }

  private secondLastPendingByte(): number {
    const last = this.pending[this.pending.length - 1];
    if (last !== undefined && last.length > 1) return last[last.length - 2] as number;
    const prev = this.pending[this.pending.length - 2];
    if (last !== undefined && last.length === 1 && prev !== undefined && prev.length > 0)
      return prev[prev.length - 1] as number;
    return -1;
  }

  /** Keeps a copy of `bytes` (the caller's buffer may be reused) within `limit` bytes in all. */
  private hold(bytes: Uint8Array, limit: number, what: string): void {
    if (bytes.length === 0) return;
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > limit) throw new Http1Error(`the ${what} is longer than ${limit} bytes`);
    this.pending.push(new Uint8Array(bytes));
  }

  private takePending(): string {
    const text = Buffer.concat(this.pending, this.pendingBytes).toString('latin1');
    this.pending = [];
    this.pendingBytes = 0;
    return text;
  }
}

type Framing = { kind: 'chunked' } | { kind: 'length'; length: number } | { kind: 'close' };

const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function parseHead(text: string): ResponseHead & { framing: Framing } {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const status = STATUS_LINE.exec(lines[0] ?? '');
  if (!status)
    throw new Http1Error(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const minor = Number(status[1]);
  const rawHeaders: string[] = [];
  let connection = '';
  let transferEncoding: string | undefined;
  let contentLength: string | undefined;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new Http1Error(`not a header line: ${JSON.stringify(line.slice(0, 80))}`);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    if (lower === 'connection') connection += ',' + value.toLowerCase();
    else if (lower === 'transfer-encoding')
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
    else if (lower === 'content-length') {
      for (const v of value.split(',').map((s) => s.trim())) {
        if (!/^\d+$/.test(v)) throw new Http1Error(`invalid Content-Length ${JSON.stringify(value)}`);
        if (contentLength !== undefined && contentLength !== v)
          throw new Http1Error(`conflicting Content-Length values ${contentLength} and ${v}`);
        contentLength = v;
      }
    }
  }
  const tokens = connection.split(',').map((s) => s.trim());
  const keepAlive = minor === 1 ? !tokens.includes('close') : tokens.includes('keep-alive');
  let framing: Framing;
  if (transferEncoding !== undefined) {
    const codings = transferEncoding.split(',').map((s) => s.trim().toLowerCase());
    framing = codings[codings.length - 1] === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  } else if (contentLength !== undefined) framing = { kind: 'length', length: Number(contentLength) };
  else framing = { kind: 'close' };
  return { statusCode: Number(status[2]), statusText: status[3] ?? '', rawHeaders, keepAlive, framing };
}

/**
 * The size in a chunk-size line, bytes [from, lf) (the LF excluded): hex digits, then optional
 * whitespace, `;extensions` and a CR. Parsed on bytes: this runs once per SSE event.
 */
function chunkSizeOf(bytes: Uint8Array, from: number, lf: number): number {
  let size = 0;
  let i = from;
  for (; i < lf; i++) {
    const b = bytes[i] as number;
    const digit =
      b >= 0x30 && b <= 0x39
        ? b - 0x30
        : b >= 0x61 && b <= 0x66
          ? b - 0x57
          : b >= 0x41 && b <= 0x46
            ? b - 0x37
            : -1;
    if (digit < 0) break;
    if (i - from >= 12) throw new Http1Error('chunk size over 12 hex digits');
    size = size * 16 + digit;
  }
  const digits = i - from;
  while (i < lf && (bytes[i] === 0x20 || bytes[i] === 0x09)) i++;
  const rest = i < lf ? (bytes[i] as number) : CR;
  const endOk = rest === 0x3b /* ; */ || (rest === CR && i >= lf - 1);
  if (digits === 0 || !endOk) {
    const text = Buffer.from(bytes.subarray(from, Math.min(lf, from + 40))).toString('latin1');
    throw new Http1Error(`invalid chunk size line ${JSON.stringify(text)}`);
  }
  return size;
}
