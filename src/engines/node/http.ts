// HTTP plumbing shared by the clients: one undici Agent per worker sized for the concurrency
// (keep-alive connections reused across streams, no pipelining so a slow stream never blocks
// another), a sub-millisecond epoch clock, and small JSON helpers that never send
// Accept-Encoding (Open WebUI compresses when asked; we read raw SSE bytes, §3.4).

import { performance } from 'node:perf_hooks';
import { Agent, Client, type Dispatcher } from 'undici';
import { StreamConnection } from './stream-connection.js';

/** Epoch ms with sub-ms precision; comparable with the mock LLM's `sent_at` (same construction). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The SSE parser's line decoder on Node: Buffer's native UTF-8 decoding, which replaces invalid
 * bytes with U+FFFD exactly as the WHATWG decoder (and the portable one) does, ~10× faster.
 */
export function nodeLineDecoder(bytes: Uint8Array, start: number, end: number): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('utf8', start, end);
}

const fanOut = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `fn` once when `signal` aborts (at once if it already has); returns the unsubscribe.
 * Thousands of streams listen on one run signal: EventTarget's add/removeEventListener walk the
 * listener list (O(n) each), so one real listener per signal fans out to a Set instead.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn();
    return () => undefined;
  }
  let set = fanOut.get(signal);
  if (set === undefined) {
    const listeners = new Set<() => void>();
    set = listeners;
    fanOut.set(signal, listeners);
    signal.addEventListener(
      'abort',
      () => {
        fanOut.delete(signal);
        for (const f of [...listeners]) f();
      },
      { once: true },
    );
  }
  const listeners = set;
  const once = (): void => {
    listeners.delete(once);
    fn();
  };
  listeners.add(once);
  return () => void listeners.delete(once);
}

const CONNECTION_OPTIONS = {
  pipelining: 1,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 60_000,
  // Streams are long and bounded by our own timeouts, not undici's defaults (300 s).
  headersTimeout: 0,
  bodyTimeout: 0,
  connect: { timeout: 10_000 },
} as const;

/** What carries the API chat streams: our own HTTP/1.1 reader (default) or undici's Client. */
export type StreamTransport = 'builtin' | 'undici';

/** The part of a connection the API client uses (both transports have it). */
export type StreamDispatcher = Pick<Dispatcher, 'dispatch'> & { close(): Promise<unknown> };

/**
 * One keep-alive connection per concurrent stream, handed out from a free list: O(1) per
 * stream, where undici's Pool looks for a free client by scanning all of them (thousands here).
 * A connection that broke reconnects on its next request (both transports do that themselves).
 * `undici` is kept for A/B benches (bench/engine/variants.ts) and as a fallback for a server
 * our reader mishandles (engine option `streamTransport`).
 */
export class ConnectionPool {
  private readonly free: StreamDispatcher[] = [];
  private readonly all: StreamDispatcher[] = [];

  constructor(
    private readonly origin: string,
    private readonly transport: StreamTransport = 'builtin',
  ) {}

  acquire(): StreamDispatcher {
    const c = this.free.pop();
    if (c !== undefined) return c;
    const created: StreamDispatcher =
      this.transport === 'undici'
        ? new Client(this.origin, CONNECTION_OPTIONS)
        : new StreamConnection(this.origin);
    this.all.push(created);
    return created;
  }

  release(c: StreamDispatcher): void {
    this.free.push(c);
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((c) => c.close().catch(() => undefined)));
  }
}

export function createAgent(connections: number): Agent {
  return new Agent({
    connections: Math.max(1, connections),
    pipelining: 1,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    // Streams are long and bounded by our own timeouts, not undici's defaults (300 s).
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: 10_000 },
  });
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** A small JSON request; the whole body is read (these are not streams). */
export async function requestJson(
  dispatcher: Dispatcher,
  url: string,
  opts: {
    method?: 'GET' | 'POST';
    token?: string;
    body?: unknown;
    signal?: AbortSignal;
    timeoutMs?: number;
  } = {},
): Promise<JsonResponse> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const res = await dispatcher.request({
    origin: u.origin,
    path: u.pathname + u.search,
    method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    body: body ?? null,
    signal,
  });
  const text = await res.body.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: parsed, text };
}

/** The replica that served a response: nginx's `X-Upstream`, or the simulator's `X-OWUI-Replica`. */
export function replicaOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const v = headers['x-upstream'] ?? headers['x-owui-replica'];
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  return s === undefined || s === '' ? undefined : s;
}
