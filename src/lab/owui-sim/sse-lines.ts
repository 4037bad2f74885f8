// Minimal incremental SSE reader for the upstream stream in mode B: bytes in (any split, including
// inside a multi-byte character or a CRLF), complete `data` payloads out. The portable,
// fully-instrumented parser lives in src/protocol; the server only needs the payloads.

export class SseDataReader {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private data: string[] = [];

  /** Feeds bytes; returns the `data` payloads of every event completed by them. */
  push(chunk: Uint8Array): string[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    return this.drain();
  }

  /** End of stream: a last event without its blank line still counts. */
  end(): string[] {
    this.buffer += this.decoder.decode();
    const out = this.drain();
    if (this.buffer !== '') this.line(this.buffer, out);
    this.buffer = '';
    if (this.data.length > 0) out.push(this.data.join('\n'));
    this.data = [];
    return out;
  }

  private drain(): string[] {
    const out: string[] = [];
    for (;;) {
      const i = this.buffer.search(/\r\n|\r|\n/);
      if (i < 0) break;
      // A lone trailing \r may be the first half of \r\n: wait for the next chunk.
      if (this.buffer[i] === '\r' && i === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + (this.buffer.startsWith('\r\n', i) ? 2 : 1));
      this.line(line, out);
    }
    return out;
  }

  private line(line: string, out: string[]): void {
    if (line === '') {
      if (this.data.length > 0) out.push(this.data.join('\n'));
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
  }
}
