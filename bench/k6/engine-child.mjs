// @ts-check
// The engine child of the k6-vs-Node bench (docs/k6.md "Side by side"): runs ONE workload with
// one engine, from the BUILT engine (dist/, as `owui-chaos load` runs it; `npm run bench` builds
// first), in plain Node without the TypeScript loader, so the Node engine's memory and CPU are
// the shipped engine's and not tsx's. Spawned by child.ts with the ChildArgs JSON (child.ts) as
// its one argument; writes the engine's samples to `args.file` (NDJSON, the CLI's format).
import { readFileSync } from 'node:fs';

const dist = new URL('../../dist/', import.meta.url);
const { NodeLoadEngine } = await import(new URL('engines/node/engine.js', dist).href);
const { K6LoadEngine } = await import(new URL('engines/k6/engine.js', dist).href);
const { NdjsonFileSink } = await import(new URL('engines/node/ndjson-file-sink.js', dist).href);
const { MOCK_LLM_MODEL } = await import(new URL('lab/mock-llm/server.js', dist).href);

/** @type {import('./child.js').ChildArgs} */
const a = JSON.parse(process.argv[2] ?? '{}');
const sink = new NdjsonFileSink(a.file);
const pacing = { tokensPerSecond: a.tokensPerSecond, firstTokenMs: 100 };
const credentials = a.credentialsFile
  ? JSON.parse(readFileSync(a.credentialsFile, 'utf8'))
  : {
      // The bench's Socket.IO server accepts any token (bench/engine/servers.ts).
      version: '0.11.0',
      apiTokens: [],
      users: Array.from({ length: a.workload === 'sse' ? 0 : a.clients }, (_, i) => ({
        email: `bench-${i}@bench.invalid`,
        token: 'bench-token',
      })),
      signIns: 0,
    };
const chatPath = a.workload === 'browser-chat' ? '/api/chat/completions' : '/v1/chat/completions';
const engine =
  a.engine === 'node'
    ? new NodeLoadEngine({ credentials, chatPath, pacing, finishGraceMs: 20_000, socketRampMs: 2000 })
    : new K6LoadEngine({
        binary: a.binary ?? 'k6',
        credentials,
        chatPath,
        pacing,
        workDir: a.workDir,
        gracefulStopMs: 5000,
        ...(a.k6Env ? { env: a.k6Env } : {}),
      });
const plan =
  a.workload === 'sse'
    ? { chat: { vus: a.clients, thinkTimeMs: 0, tokens: a.tokens } }
    : a.workload === 'idle-sockets'
      ? { sockets: { vus: a.clients, tokens: 1, chatIntervalMs: 0 } }
      : { sockets: { vus: a.clients, tokens: a.tokens, chatIntervalMs: a.chatIntervalMs } };
await engine.run(
  {
    durationMs: a.durationMs,
    baseUrl: a.baseUrl,
    model: a.workload === 'idle-sockets' ? 'none' : MOCK_LLM_MODEL,
    ...plan,
  },
  sink,
  {},
);
sink.close();
