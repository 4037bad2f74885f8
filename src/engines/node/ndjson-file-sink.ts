// A SampleSink that appends k6 Point NDJSON lines to one file with buffered writes.
//
// Contract: lines are written in the order `write`/`writeRaw` are called; nothing is lost on
// `close()` (which flushes); after `close()` further writes throw. `writeRaw` takes text or UTF-8
// bytes that are already NDJSON (whole lines), which is how worker batches arrive without being
// parsed again. Writes are synchronous on flush (one `writev` per ~1 MiB), so ordering needs no
// queue and a crash loses at most one buffer.

import { closeSync, mkdirSync, openSync, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricName } from '../../core/metrics.js';
import { pointLine, type SampleSink, type SampleTags } from '../../core/samples.js';

/** A sink that can take pre-serialised NDJSON (the engine uses it when present). */
export interface RawSampleSink extends SampleSink {
  writeRaw(ndjson: string | Uint8Array): void;
}

export function isRawSampleSink(sink: SampleSink): sink is RawSampleSink {
  return typeof (sink as Partial<RawSampleSink>).writeRaw === 'function';
}

export class NdjsonFileSink implements RawSampleSink {
  private fd: number | undefined;
  private parts: Uint8Array[] = [];
  private pending = 0;
  /** Bytes handed to the sink so far (UTF-16 units for text; close enough for progress). */
  written = 0;

  constructor(
    readonly path: string,
    private readonly flushBytes = 1024 * 1024,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
  }

  write(metric: MetricName, timeMs: number, value: number, tags: SampleTags): void {
    this.writeRaw(pointLine(metric, timeMs, value, tags));
  }

  writeRaw(ndjson: string | Uint8Array): void {
    if (this.fd === undefined) throw new Error(`sample file ${this.path} is already closed`);
    if (ndjson.length === 0) return;
    this.parts.push(typeof ndjson === 'string' ? Buffer.from(ndjson, 'utf8') : ndjson);
    this.pending += ndjson.length;
    this.written += ndjson.length;
    if (this.pending >= this.flushBytes) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.parts.length === 0) return;
    const parts = this.parts;
    this.parts = [];
    this.pending = 0;
    // writev takes at most IOV_MAX (1024) buffers per call, and may write less than asked.
    for (let i = 0; i < parts.length; i += 1024) {
      const chunk = parts.slice(i, i + 1024);
      let left = chunk.reduce((a, b) => a + b.length, 0);
      while (left > 0) {
        const n = writevSync(this.fd, chunk);
        left -= n;
        if (left > 0) dropWritten(chunk, n);
      }
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Removes the first `n` bytes from a list of buffers (after a short write). */
function dropWritten(parts: Uint8Array[], n: number): void {
  while (n > 0 && parts.length > 0) {
    const first = parts[0] as Uint8Array;
    if (first.length <= n) {
      n -= first.length;
      parts.shift();
    } else {
      parts[0] = first.subarray(n);
      n = 0;
    }
  }
}
