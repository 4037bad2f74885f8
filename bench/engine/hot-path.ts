// The engine's own per-event code without the network: recorded mock-LLM SSE bytes (the mock's
// own wire format, ground-truth tokens, one event per read as the mock writes them) replayed
// through what a worker runs per read — StreamRecorder (SSE parser with Node's decoder, chunk
// template, integrity text, client_lag/itl/burst_size samples) and SampleWriter — for `streams`
// concurrent streams read round-robin, each a fresh recorder per answer as in the engine. CPU
// per event and GC per million events, measured in this thread: far less sensitive to other
// processes than the end-to-end steps, so it is the figure to compare code changes by.
import { PerformanceObserver } from 'node:perf_hooks';
import { generateTokens } from '../../src/protocol/ground-truth.js';
import { ChunkWriter, SSE_DONE } from '../../src/lab/mock-llm/wire.js';
import { MOCK_LLM_MODEL } from '../../src/lab/mock-llm/server.js';
import { nodeLineDecoder } from '../../src/engines/node/http.js';
import { SampleWriter, tagsJson } from '../../src/engines/node/sample-writer.js';
import { StreamRecorder } from '../../src/engines/measure/stream-recorder.js';
import { TPS } from './streams.js';

export interface HotPathRow {
  streams: number;
  events: number;
  nsPerEvent: number;
  scavenges: number;
  gcMsPerMillionEvents: number;
  sampleBytesPerEvent: number;
}

/** Wire bytes of one answer: role, `tokens` content events, finish, [DONE]; one Buffer per event. */
function answerBytes(seed: number, tokens: number, t0: number): { events: Buffer[]; expected: string[] } {
  const expected = generateTokens(seed, tokens);
  const w = new ChunkWriter(`chatcmpl-bench${seed}`, 1_700_000_000, MOCK_LLM_MODEL);
  const events = [Buffer.from(w.role(t0))];
  expected.forEach((tok, i) => events.push(Buffer.from(w.content(JSON.stringify(tok), t0 + 100 + i * 50))));
  events.push(Buffer.from(w.finish(t0 + 100 + tokens * 50) + SSE_DONE));
  return { events, expected };
}

export async function hotPathStep(
  streams: number,
  answersPerStream = 3,
  tokens = TPS * 10,
): Promise<HotPathRow> {
  // A few distinct answers (seeds) reused round-robin: building wire bytes is not what is measured.
  const t0 = Date.now();
  const answers = Array.from({ length: 16 }, (_, i) => answerBytes(1000 + i, tokens, t0));
  let sampleBytes = 0;
  const writer = new SampleWriter((b) => void (sampleBytes += b.length));
  const tags = tagsJson({ client: 'api' });
  let scavenges = 0;
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  let events = 0;
  const start = process.cpuUsage();
  for (let round = 0; round < answersPerStream; round++) {
    const live = Array.from({ length: streams }, (_, i) => {
      const a = answers[(i + round) % answers.length]!;
      return {
        a,
        rec: new StreamRecorder({
          startMs: t0,
          // The engine regenerates the expected tokens per stream; so does this.
          expected: generateTokens(1000 + ((i + round) % answers.length), tokens),
          emit: writer.emit,
          tagsJson: tags,
          decode: nodeLineDecoder,
        }),
      };
    });
    const n = answers[0]!.events.length;
    for (let k = 0; k < n; k++) {
      const now = t0 + 100 + k * 50 + 0.2;
      for (const s of live) {
        const ev = s.a.events[k]!;
        s.rec.onRead(now, ev.subarray(0));
        events++;
      }
    }
    for (const s of live) {
      const sum = s.rec.finish(t0 + 100 + n * 50);
      if (sum.outcome !== 'completed' || sum.garbledRate !== 0)
        throw new Error(`hot-path replay: stream ended ${sum.outcome}, garbled ${sum.garbledRate}`);
    }
  }
  writer.flush();
  const cpu = process.cpuUsage(start);
  // GC entries arrive asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return {
    streams,
    events,
    nsPerEvent: ((cpu.user + cpu.system) * 1000) / events,
    scavenges,
    gcMsPerMillionEvents: (gcMs * 1e6) / events,
    sampleBytesPerEvent: sampleBytes / events,
  };
}
