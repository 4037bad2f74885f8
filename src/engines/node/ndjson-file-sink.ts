// A SampleSink that appends k6 Point NDJSON lines to one file with buffered writes.
//
// Contract: lines are written in the order `write`/`writeRaw` are called; nothing is lost on
// `close()` (which flushes); after `close()` further writes throw. `writeRaw` takes text that is
// already NDJSON (whole lines), which is how worker batches arrive without being parsed again.
// Writes are synchronous on flush (one `writeSync` per ~1 MiB), so ordering needs no queue and a
// crash loses at most one buffer.

import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricName } from '../../core/metrics.js';
import { pointLine, type SampleSink, type SampleTags } from '../../core/samples.js';

/** A sink that can take pre-serialised NDJSON (the engine uses it when present). */
export interface RawSampleSink extends SampleSink {
  writeRaw(ndjson: string): void;
}

export function isRawSampleSink(sink: SampleSink): sink is RawSampleSink {
  return typeof (sink as Partial<RawSampleSink>).writeRaw === 'function';
}

export class NdjsonFileSink implements RawSampleSink {
  private fd: number | undefined;
  private parts: string[] = [];
  private pending = 0;
  /** Bytes handed to the sink so far (UTF-16 units; close enough for progress). */
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

  writeRaw(ndjson: string): void {
    if (this.fd === undefined) throw new Error(`sample file ${this.path} is already closed`);
    if (ndjson === '') return;
    this.parts.push(ndjson);
    this.pending += ndjson.length;
    this.written += ndjson.length;
    if (this.pending >= this.flushBytes) this.flush();
  }

  flush(): void {
    if (this.fd === undefined || this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.pending = 0;
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }
}
