// A sample file sink that also hands every sample to live observers (the Prometheus endpoint, the
// game-day console) while the run goes on. The file stays the source of truth for the report; the
// observers only see what was written to it, in the same order. Worker batches arrive as raw NDJSON
// and are parsed once here, only when someone listens.

import type { MetricName } from '../core/metrics.js';
import { parseSampleLine, type Sample, type SampleTags } from '../core/samples.js';
import { NdjsonFileSink } from '../engines/node/ndjson-file-sink.js';

export type SampleObserver = (sample: Sample) => void;

export class TappedNdjsonFileSink extends NdjsonFileSink {
  private readonly decoder = new TextDecoder();

  constructor(
    path: string,
    private readonly observers: SampleObserver[],
  ) {
    super(path);
  }

  override write(metric: MetricName, timeMs: number, value: number, tags: SampleTags): void {
    super.write(metric, timeMs, value, tags);
    // super.write goes through writeRaw, which already told the observers.
  }

  override writeRaw(ndjson: string | Uint8Array): void {
    super.writeRaw(ndjson);
    if (this.observers.length === 0) return;
    const text = typeof ndjson === 'string' ? ndjson : this.decoder.decode(ndjson);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let sample: Sample | undefined;
      try {
        sample = parseSampleLine(line);
      } catch {
        continue; // the file keeps the bad line; the report notices it, the live view skips it
      }
      if (sample) for (const observe of this.observers) observe(sample);
    }
  }
}

/** A factory for `RunRequest.sampleSink`: the run's sample file, tapped by `observers`. */
export function tappedSinkFactory(observers: SampleObserver[]): (path: string) => NdjsonFileSink {
  return (path) => new TappedNdjsonFileSink(path, observers);
}
