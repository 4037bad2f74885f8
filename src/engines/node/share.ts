// One worker's share of a load run: its API streams (closed or open model) and its browser
// clients, with their samples batched out as NDJSON (UTF-8 bytes) and counters reported for progress.
// Runs inside a worker thread (worker.ts) or inline in the engine's thread (`workers: 0`).
//
// Contract: `runShare` resolves after its deadline (`durationMs` after it was called) once every
// stream and chat has finished (in-flight ones are cancelled at the deadline and counted so) and
// every socket is closed; all samples have then been handed to `io.samples` and a final
// `io.stats` has been sent. Aborting `signal` ends the share early the same way. Never throws
// for load failures (they are samples); only for bugs.
// Live changes (`control`, a game day's load control, docs/gameday.md): a new chat VU count or
// rate goes to the workload model (workload.ts); a new browser-client list adds clients for the
// users past the current count (connected at once, the others stay connected) or lets the extra
// clients finish their chat and close.

import { setMaxListeners } from 'node:events';
import { systemClock } from '../../core/clock.js';
import type { GroundTruthDirective, WriteMode } from '../../protocol/ground-truth.js';
import { behaviourFor, parseVersion } from '../../protocol/openwebui.js';
import { runApiStream } from './api-client.js';
import { BrowserClient } from './browser-client.js';
import { ConnectionPool, createAgent, epochNow, type StreamTransport } from './http.js';
import { type LoopFigures, startLoopProbe } from './loop-probe.js';
import type { LoadUser } from './provisioning.js';
import { SampleWriter, tagsJson } from './sample-writer.js';
import type { ChatSummary } from '../measure/snapshot-recorder.js';
import type { StreamSummary } from '../measure/stream-recorder.js';
import { runUserSchedule, userPhaseMs } from './user-schedule.js';
import { LiveValue, runClosed, runOpen, type OpenRate, type Stage } from './workload.js';

export interface Pacing {
  firstTokenMs?: number;
  tokensPerSecond?: number;
  jitter?: number;
  write?: WriteMode;
}

export interface ShareSpec {
  index: number;
  baseUrl: string;
  chatPath?: string;
  model: string;
  durationMs: number;
  verify: boolean;
  pacing?: Pacing;
  version: string;
  chat?: {
    vus?: number;
    stages?: Stage[];
    startVus?: number;
    thinkTimeMs?: number;
    ratePerSecond?: number;
    phaseMs?: number;
    maxInFlight: number;
    tokens: number;
    timeoutMs: number;
  };
  sockets?: {
    /** Joined users' tokens, one per client of this share. */
    users: LoadUser[];
    /** undefined: back-to-back chats; > 0: a chat starts every interval; ≤ 0: idle (no chats). */
    chatIntervalMs?: number;
    tokens: number;
    timeoutMs: number;
    /** Spread the first connects over this long, so N sockets do not open in one tick. */
    rampMs: number;
    /** `Origin` the browser clients send (default: the base URL's origin). */
    origin?: string;
    /** A socket chat without any event this long after its accepted POST is lost. */
    eventGraceMs?: number;
    /**
     * Open schedule (user-schedule.ts): this share's clients are users firstUser… of totalUsers,
     * each chatting every chatIntervalMs from its phase; a chat still running at the next
     * intended time makes that arrival missed.
     */
    open?: { firstUser: number; totalUsers: number };
    /**
     * Closed loop: think `chatIntervalMs` after each chat ends (instead of pacing the starts);
     * with `open`, each client's first chat comes at its phase.
     */
    think?: boolean;
  };
  apiTokens: string[];
  /** HTTP connections of this share's agent. */
  connections: number;
  /** Measure this thread's event-loop delay and GC pauses (loop-probe.ts); stats then carry `loop`. */
  probeLoop?: boolean;
  /** What carries the API chat streams (http.ts); default our own HTTP/1.1 reader. */
  streamTransport?: StreamTransport;
}

export interface ShareStats {
  index: number;
  activeStreams: number;
  activeSockets: number;
  completed: number;
  errors: number;
  cancelled: number;
  unverified: number;
  missedStarts: number;
  disconnects: number;
  reconnects: number;
  /** ttft values (ms) since the previous stats message. */
  ttfts: number[];
  /** With `probeLoop`: this thread's event-loop delay and GC pauses since the previous message. */
  loop?: LoopFigures;
}

export type ShareCounters = Omit<ShareStats, 'index' | 'ttfts' | 'loop'>;

export function zeroCounters(): ShareCounters {
  return {
    activeStreams: 0,
    activeSockets: 0,
    completed: 0,
    errors: 0,
    cancelled: 0,
    unverified: 0,
    missedStarts: 0,
    disconnects: 0,
    reconnects: 0,
  };
}

/** One share's part of a live load change (what is absent stays as it is). */
export interface ShareLoad {
  chatVus?: number;
  chatRate?: OpenRate;
  /** The browser clients' users, one per client, for the new count. */
  socketUsers?: LoadUser[];
}

export interface ShareIo {
  /** An NDJSON batch (UTF-8 bytes of whole lines) that owns its ArrayBuffer. */
  samples(ndjson: Uint8Array): void;
  stats(stats: ShareStats): void;
}

export async function runShare(
  spec: ShareSpec,
  io: ShareIo,
  signal: AbortSignal,
  control?: LiveValue<ShareLoad | undefined>,
): Promise<ShareStats> {
  const agent = createAgent(spec.connections);
  // API streams: one connection each from a free list (the agent serves the browser clients).
  const streamConnections = new ConnectionPool(new URL(spec.baseUrl).origin, spec.streamTransport);
  const writer = new SampleWriter(io.samples);
  const emit = writer.emit;
  const stats: ShareStats = { index: spec.index, ...zeroCounters(), ttfts: [] };
  let clientList: BrowserClient[] = [];
  const probe = spec.probeLoop ? startLoopProbe() : undefined;
  const sendStats = (): void => {
    let disconnects = 0;
    let reconnects = 0;
    for (const c of clientList) {
      disconnects += c.disconnects;
      reconnects += c.reconnects;
    }
    stats.disconnects = disconnects;
    stats.reconnects = reconnects;
    io.stats(probe ? { ...stats, ttfts: stats.ttfts, loop: probe.take() } : { ...stats, ttfts: stats.ttfts });
    stats.ttfts = [];
  };
  const flushTimer = setInterval(() => writer.flush(), 100);
  const statsTimer = setInterval(sendStats, 250);
  const behaviour = behaviourFor(parseVersion(spec.version));
  const directive = (tokens: number): GroundTruthDirective => {
    const d: GroundTruthDirective = { seed: Math.floor(Math.random() * 0x7fffffff), tokens };
    const p = spec.pacing;
    if (p?.firstTokenMs !== undefined) d.firstTokenMs = p.firstTokenMs;
    if (p?.tokensPerSecond !== undefined) d.tokensPerSecond = p.tokensPerSecond;
    if (p?.jitter !== undefined) d.jitter = p.jitter;
    if (p?.write !== undefined) d.write = p.write;
    return d;
  };
  const account = (s: StreamSummary | ChatSummary): void => {
    if (s.ttftMs !== undefined) stats.ttfts.push(s.ttftMs);
    if (s.unverified) stats.unverified++;
    if (s.outcome === 'completed') stats.completed++;
    else if (s.outcome === 'cancelled') stats.cancelled++;
    else stats.errors++;
  };

  const work: Promise<unknown>[] = [];

  const chat = spec.chat;
  if (chat) {
    const tokens = spec.apiTokens;
    let n = 0;
    const stream = async (slot: number, sig: AbortSignal, intendedMs?: number): Promise<StreamSummary> => {
      stats.activeStreams++;
      const connection = streamConnections.acquire();
      try {
        const s = await runApiStream({
          dispatcher: connection,
          baseUrl: spec.baseUrl,
          ...(spec.chatPath !== undefined ? { path: spec.chatPath } : {}),
          token: tokens.length > 0 ? tokens[slot % tokens.length] : undefined,
          model: spec.model,
          directive: directive(chat.tokens),
          verify: spec.verify,
          ...(intendedMs !== undefined ? { startMs: intendedMs } : {}),
          timeoutMs: chat.timeoutMs,
          signal: sig,
          emit,
        });
        account(s);
        return s;
      } finally {
        streamConnections.release(connection);
        stats.activeStreams--;
      }
    };
    if (chat.ratePerSecond !== undefined) {
      const missedTags = tagsJson({ client: 'api' });
      const live = new LiveValue<OpenRate | undefined>(undefined);
      control?.subscribe((l) => l?.chatRate && live.set(l.chatRate));
      work.push(
        runOpen(
          {
            durationMs: spec.durationMs,
            ratePerSecond: chat.ratePerSecond,
            maxInFlight: chat.maxInFlight,
            phaseMs: chat.phaseMs ?? 0,
            live,
          },
          {
            clock: wallClock,
            signal,
            start: (intended, sig) => stream(spec.index + n++, sig, intended),
            missed: (intended) => {
              stats.missedStarts++;
              emit('missed_starts', intended, 1, missedTags);
            },
          },
        ),
      );
    } else {
      const live = new LiveValue<number | undefined>(undefined);
      control?.subscribe((l) => l?.chatVus !== undefined && live.set(l.chatVus));
      work.push(
        runClosed(
          {
            durationMs: spec.durationMs,
            ...(chat.vus !== undefined ? { vus: chat.vus } : {}),
            ...(chat.stages !== undefined ? { stages: chat.stages } : {}),
            ...(chat.startVus !== undefined ? { startVus: chat.startVus } : {}),
            thinkTimeMs: chat.thinkTimeMs ?? 0,
            live,
          },
          {
            clock: wallClock,
            signal,
            iterate: async (vu, sig) => {
              const s = await stream(spec.index + vu, sig);
              return s.outcome === 'completed' || s.outcome === 'cancelled';
            },
          },
        ),
      );
    }
  }

  const sockets = spec.sockets;
  const shareStart = wallClock.now();
  if (sockets) {
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    const onOuter = (): void => stop.abort();
    signal.addEventListener('abort', onOuter, { once: true });
    const deadline = setTimeout(() => stop.abort(), spec.durationMs);
    const newClient = (u: LoadUser): BrowserClient =>
      new BrowserClient({
        baseUrl: spec.baseUrl,
        token: u.token,
        dispatcher: agent,
        behaviour,
        emit,
        ...(sockets.origin !== undefined ? { origin: sockets.origin } : {}),
        ...(sockets.eventGraceMs !== undefined ? { eventGraceMs: sockets.eventGraceMs } : {}),
        onJoinedChange: (joined) => {
          stats.activeSockets += joined ? 1 : -1;
        },
      });
    const clients = sockets.users.map(newClient);
    clientList = clients;
    const n = clients.length;
    const startTimers = clients.map((c, i) =>
      setTimeout(() => c.start(), n > 1 ? (sockets.rampMs * i) / n : 0),
    );
    const interval = sockets.chatIntervalMs;
    /** Clients told to leave (a live change lowered the count): they finish their chat, then close. */
    const leaving = new Set<BrowserClient>();
    const chatLoop = async (c: BrowserClient, k: number): Promise<void> => {
      // A closed loop with phases (think): its first chat at the same time as the open schedule's.
      if (sockets.think && sockets.open && interval !== undefined && interval > 0) {
        const first =
          shareStart +
          sockets.rampMs +
          userPhaseMs(sockets.open.firstUser + k, sockets.open.totalUsers, interval);
        if (first > Date.now())
          await systemClock.sleep(first - Date.now(), stop.signal).catch(() => undefined);
      }
      for (let i = 0; !stop.signal.aborted && !leaving.has(c); i++) {
        const began = Date.now();
        stats.activeStreams++;
        let s: ChatSummary | undefined;
        try {
          s = await c.chat({
            model: spec.model,
            directive: directive(sockets.tokens),
            verify: spec.verify,
            timeoutMs: sockets.timeoutMs,
            signal: stop.signal,
            ...(spec.chatPath !== undefined ? { path: spec.chatPath } : {}),
          });
        } finally {
          stats.activeStreams--;
        }
        if (s) account(s);
        const pause =
          interval === undefined
            ? s && s.outcome !== 'completed'
              ? 1000
              : 0
            : sockets.think
              ? interval
              : interval - (Date.now() - began);
        if (pause > 0 && !stop.signal.aborted && !leaving.has(c))
          await systemClock.sleep(pause, stop.signal).catch(() => undefined);
      }
      if (leaving.has(c)) c.stop();
    };
    const open = sockets.open;
    const missedTags = tagsJson({ client: 'browser' });
    // Open schedule: time 0 once the connects have been spread (rampMs), phases over all users.
    const openLoop = async (c: BrowserClient, k: number): Promise<void> => {
      await runUserSchedule(
        {
          originMs: shareStart + sockets.rampMs,
          phaseMs: userPhaseMs(open!.firstUser + k, open!.totalUsers, interval!),
          intervalMs: interval!,
          durationMs: spec.durationMs - sockets.rampMs,
        },
        {
          clock: wallClock,
          signal: stop.signal,
          start: async (intended, sig) => {
            stats.activeStreams++;
            try {
              const s = await c.chat({
                model: spec.model,
                directive: directive(sockets.tokens),
                verify: spec.verify,
                timeoutMs: sockets.timeoutMs,
                signal: sig,
                startMs: intended,
                ...(spec.chatPath !== undefined ? { path: spec.chatPath } : {}),
              });
              if (s) account(s);
            } finally {
              stats.activeStreams--;
            }
          },
          missed: (intended) => {
            stats.missedStarts++;
            emit('missed_starts', intended, 1, missedTags);
          },
        },
      );
    };
    const idle = interval !== undefined && interval <= 0;
    const openSchedule = open !== undefined && !sockets.think && interval !== undefined && interval > 0;
    // Capacity sweeps use the open schedule and never change the load live; users a live change adds
    // (game days, paced schedule) run the paced loop.
    const loops = idle ? [] : clients.map((c, k) => (openSchedule ? openLoop(c, k) : chatLoop(c, k)));
    control?.subscribe((l) => {
      const users = l?.socketUsers;
      if (!users || stop.signal.aborted) return;
      const staying = clientList.filter((c) => !leaving.has(c));
      // Fewer: the newest clients leave (an idle one closes now, a chatting one after its chat).
      for (const c of staying.slice(users.length)) {
        leaving.add(c);
        if (idle) c.stop();
      }
      // More: new clients for the users past the current count, a few ms apart.
      users.slice(staying.length).forEach((u, k) => {
        const c = newClient(u);
        clientList = [...clientList, c];
        startTimers.push(setTimeout(() => c.start(), k * 20));
        if (!idle) loops.push(chatLoop(c, clientList.length - 1));
      });
    });
    work.push(
      (async () => {
        await new Promise<void>((resolve) =>
          stop.signal.aborted
            ? resolve()
            : stop.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        // Loops added by a live change while the others ran are awaited too.
        for (let seen = 0; seen < loops.length;) {
          const batch = loops.slice(seen);
          seen = loops.length;
          await Promise.all(batch);
        }
        clearTimeout(deadline);
        signal.removeEventListener('abort', onOuter);
        for (const t of startTimers) clearTimeout(t);
        for (const c of clientList) c.stop();
      })(),
    );
  }

  try {
    await Promise.all(work);
  } finally {
    clearInterval(flushTimer);
    clearInterval(statsTimer);
    writer.flush();
    sendStats();
    probe?.stop();
    await Promise.all([agent.close().catch(() => undefined), streamConnections.close()]);
  }
  return stats;
}

/** The workload schedulers run on the wall clock with sub-ms precision. */
const wallClock = { now: epochNow, sleep: systemClock.sleep };
