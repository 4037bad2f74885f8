// The chatting browser clients step of the k6-vs-Node bench (docs/k6.md "Side by side"): N browser
// clients per engine, each joined over Socket.IO and starting one chat every CHAT_INTERVAL_MS
// (TOKENS tokens at TPS tokens/s, answered over the socket) through the Open WebUI simulator in
// front of the mock LLM (chat-servers.ts); the same users, interval and tokens for both engines.
//
// - Events: content-bearing socket frames a client received (one `ttft` or `itl` sample each, from
//   the shared SnapshotRecorder both engines run).
// - Window: from 3 s after the first event to 1 s before the last (the clients' joins, k6 starting
//   its VUs and the engines' stop are left out); under 8 s of it and nothing is claimed.
// - Client lag: the timer drift of the event loops that run the clients, measured the same way in
//   both engines (a timer every LAG_PROBE_EVERY_MS; lag = fire time − previous fire time − the
//   period): in each Node worker thread (loop-lag-probe.mjs) and in k6's first LAG_PROBE_VUS VUs,
//   each of which is an event loop of its own (scenarios/lib/loop-lag.ts). Socket events carry no
//   send stamp, so receive − send is not available here.
// - "Held": lag p99 < 5 ms, every client joined, chats completed and none failed (cancelled at the
//   deadline is not a failure).

import { createReadStream, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseSampleLine } from '../../src/core/samples.js';
import { LAG_LIMIT_MS, TPS } from '../engine/streams.js';
import { CHAT_INTERVAL_MS, engineCpuMs, markAt, runChild, TOKENS } from './child.js';

const PROBE = fileURLToPath(new URL('./loop-lag-probe.mjs', import.meta.url));
export const LAG_PROBE_EVERY_MS = 50;
export const LAG_PROBE_VUS = 10;
/** The k6 scenario's probe metric (scenarios/lib/loop-lag.ts). */
const K6_LOOP_LAG = 'owui_loop_lag';

export interface ChatRow {
  engine: string;
  clients: number;
  windowSeconds: number;
  /** The window was long enough to measure. */
  measured: boolean;
  /** Chats that ended other than completed or cancelled (at the deadline). */
  failedChats: number;
  /** Content-bearing socket frames received in the window. */
  events: number;
  outcomes: Record<string, number>;
  /** Joins (ws_connect_time samples: one per connect that joined, reconnects included). */
  joins: number;
  neverJoined: number;
  cpuSecondsPer1000Events: number | null;
  treeCpuSecondsPer1000Events: number | null;
  peakRssMiB: number;
  rssKiBPerClient: number;
  /** Timer-drift samples in the window and their percentiles, ms. */
  lagSamples: number;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  held: boolean;
  load1: number;
}

interface Timed {
  t: number;
  v: number;
}

/** Every sample line of `file` whose metric is in `metrics` (our NDJSON and k6's JSON alike). */
async function readPoints(file: string, metrics: ReadonlySet<string>): Promise<Map<string, Timed[]>> {
  const out = new Map<string, Timed[]>([...metrics].map((m) => [m, []]));
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.includes('"Point"')) continue;
    const s = parseSampleLine(line);
    if (!s || !metrics.has(s.metric)) continue;
    if (s.metric === 'stream_outcome')
      out.get(s.metric)!.push({ t: s.timeMs, v: outcomeCode(s.tags.outcome) });
    else out.get(s.metric)!.push({ t: s.timeMs, v: s.value });
  }
  return out;
}

const OUTCOMES: string[] = [];
function outcomeCode(o: string | undefined): number {
  const name = o ?? '?';
  let i = OUTCOMES.indexOf(name);
  if (i < 0) i = OUTCOMES.push(name) - 1;
  return i;
}

/** The Node probe's files: "<epoch ms> <lag ms>" lines. */
async function readNodeProbe(dir: string, prefix: string): Promise<Timed[]> {
  const out: Timed[] = [];
  for (const f of readdirSync(dir).filter((f) => f.startsWith(prefix))) {
    const rl = createInterface({ input: createReadStream(join(dir, f), 'utf8'), crlfDelay: Infinity });
    for await (const line of rl) {
      const [t, v] = line.split(' ').map(Number);
      if (t !== undefined && v !== undefined && Number.isFinite(t) && Number.isFinite(v)) out.push({ t, v });
    }
  }
  return out;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

export async function chatStep(
  engine: 'node' | 'k6',
  binary: string | undefined,
  label: string,
  url: string,
  credentialsFile: string,
  clients: number,
  seconds: number,
  dir: string,
): Promise<ChatRow> {
  const tag = `chat-${label.replace(/\W+/g, '-')}-${clients}`;
  const workDir = join(dir, `k6-${tag}`);
  const probePrefix = `looplag-${tag}`;
  const run = await runChild(
    {
      engine,
      workload: 'browser-chat',
      baseUrl: url,
      clients,
      durationMs: seconds * 1000,
      file: join(dir, `${tag}.ndjson`),
      workDir,
      credentialsFile,
      tokens: TOKENS,
      tokensPerSecond: TPS,
      chatIntervalMs: CHAT_INTERVAL_MS,
      k6Env: { OWUI_LOOP_LAG_PROBE: `${LAG_PROBE_EVERY_MS}:${Math.min(LAG_PROBE_VUS, clients)}` },
      ...(binary ? { binary } : {}),
    },
    label,
    engine === 'node'
      ? {
          nodeArgs: ['--require', PROBE],
          env: { OWUI_BENCH_LOOP_LAG: `${join(dir, probePrefix)}:${LAG_PROBE_EVERY_MS}` },
        }
      : {},
  );
  const points = await readPoints(
    run.file,
    new Set(['ttft', 'itl', 'stream_outcome', 'ws_connect_time', 'ws_never_joined']),
  );
  const lagPoints =
    engine === 'node'
      ? await readNodeProbe(dir, probePrefix)
      : ((await readPoints(join(workDir, 'k6-samples.json'), new Set([K6_LOOP_LAG]))).get(K6_LOOP_LAG) ?? []);
  const events = [...(points.get('ttft') ?? []), ...(points.get('itl') ?? [])]
    .map((p) => p.t)
    .sort((x, y) => x - y);
  const first = events[0];
  const last = events[events.length - 1];
  const a = first === undefined ? undefined : markAt(run.marks, first + 3000, 'after');
  const b = last === undefined ? undefined : markAt(run.marks, last - 1000, 'before');
  const ok = a !== undefined && b !== undefined && b.at - a.at >= 8000;
  const inWindow = (t: number): boolean => ok && t >= a.at && t <= b.at;
  const windowEvents = events.filter(inWindow).length;
  const lags = lagPoints
    .filter((p) => inWindow(p.t))
    .map((p) => p.v)
    .sort((x, y) => x - y);
  const outcomes: Record<string, number> = {};
  for (const p of points.get('stream_outcome') ?? []) {
    const o = OUTCOMES[p.v] ?? '?';
    outcomes[o] = (outcomes[o] ?? 0) + 1;
  }
  const joins = points.get('ws_connect_time')?.length ?? 0;
  const neverJoined = (points.get('ws_never_joined') ?? []).reduce((s, p) => s + p.v, 0);
  const cpuMs = ok ? engineCpuMs(engine, a, b) : 0;
  const per1000 = (ms: number): number | null => (windowEvents > 0 ? ms / windowEvents : null);
  const failed = Object.entries(outcomes)
    .filter(([o]) => o !== 'completed' && o !== 'cancelled')
    .reduce((s, [, c]) => s + c, 0);
  const lagP99Ms = percentile(lags, 99);
  if (!ok)
    console.log(
      `[warn] ${label} with ${clients} chatting browser clients: under 8 s of steady traffic, nothing measured`,
    );
  return {
    engine: label,
    clients,
    windowSeconds: ok ? (b.at - a.at) / 1000 : 0,
    measured: ok,
    failedChats: failed,
    events: windowEvents,
    outcomes,
    joins,
    neverJoined,
    cpuSecondsPer1000Events: ok ? per1000(cpuMs) : null,
    treeCpuSecondsPer1000Events: ok && engine === 'k6' ? per1000(b.treeMs - a.treeMs) : null,
    peakRssMiB: run.peakRssBytes / 2 ** 20,
    rssKiBPerClient: run.peakRssBytes / 1024 / clients,
    lagSamples: lags.length,
    lagP50Ms: percentile(lags, 50),
    lagP99Ms,
    lagMaxMs: lags.length > 0 ? (lags[lags.length - 1] ?? null) : null,
    held:
      ok &&
      lagP99Ms !== null &&
      lagP99Ms < LAG_LIMIT_MS &&
      joins >= clients &&
      neverJoined === 0 &&
      (outcomes['completed'] ?? 0) > 0 &&
      failed === 0,
    load1: loadavg()[0] ?? 0,
  };
}
