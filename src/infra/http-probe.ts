// The HTTP health probes the lab and the drivers share (one meaning of "healthy" for both):
//
// - a replica is healthy when `GET /health` answers 200 with JSON `{"status": true}` and
//   `GET /ready` answers 200 — or 404, or anything 200: versions before 0.8.11 have no readiness
//   endpoint, and there `/ready` falls through to the web app (200 HTML) or to a 404
//   (docs/openwebui-protocol.md). Any other `/ready` status (503 "Startup not complete",
//   "Redis not ready") is not ready. With `instance`, both answers must come from the simulator
//   instance the lab started in that slot (the X-OWUI-Sim-Instance header), so a replica that
//   died on EADDRINUSE does not pass on another server's answer;
// - `pollHealthy` repeats a probe until it passes or the budget runs out, each probe bounded by
//   what is left of the budget, and stops early when the watched process exited. It returns the
//   last probe, so the caller's error says why (its own class and code: lab or driver).

import { type Clock, systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { isAlive } from './process/daemon.js';

/** Header the lab's Open WebUI simulator sets on every answer (its instance id). */
export const INSTANCE_HEADER = 'X-OWUI-Sim-Instance';

export interface HealthProbe {
  ok: boolean;
  /** Why not healthy (for "did not become healthy within N s (…)"); what passed when ok. */
  reason: string;
}

/**
 * Whether a response came from the replica the lab started in that slot. `expected` undefined
 * (a real Open WebUI replica, or a target the lab did not start) accepts any answer.
 */
export function answeredByInstance(
  headers: { get(name: string): string | null },
  expected?: string,
): boolean {
  return expected === undefined || headers.get(INSTANCE_HEADER) === expected;
}

const NOT_THIS_REPLICA = 'answered, but not from this replica (port taken by another server?)';
const DEFAULT_TIMEOUT_MS = 2000;

export interface ProbeOptions {
  /** Per-request timeout (default 2 s). */
  timeoutMs?: number;
  /** The simulator instance id that must have answered. */
  instance?: string | undefined;
}

/** One replica probe: `/health` `{"status": true}`, then `/ready` (see the header comment). */
export async function probeReplica(baseUrl: string, opts: ProbeOptions = {}): Promise<HealthProbe> {
  const base = baseUrl.replace(/\/+$/, '');
  const health = await probeJsonStatus(`${base}/health`, opts);
  if (!health.ok) return health;
  return guard(async () => {
    const ready = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(timeoutOf(opts)) });
    const text = await ready.text();
    if (!answeredByInstance(ready.headers, opts.instance)) return fail(`/ready ${NOT_THIS_REPLICA}`);
    if (ready.status === 200) return { ok: true, reason: '/health and /ready 200' };
    if (ready.status === 404) return { ok: true, reason: '/health 200 (this version has no /ready)' };
    return fail(`/ready answered ${ready.status} ${text.slice(0, 80)}`.trimEnd());
  });
}

/** 200 with JSON `{"status": true}` (nginx's and Open WebUI's `/health`). */
export async function probeJsonStatus(url: string, opts: ProbeOptions = {}): Promise<HealthProbe> {
  const path = pathOf(url);
  return guard(async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutOf(opts)) });
    const text = await res.text();
    if (!answeredByInstance(res.headers, opts.instance)) return fail(`${path} ${NOT_THIS_REPLICA}`);
    if (res.status !== 200) return fail(`${path} answered ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail(`${path} answered 200 with non-JSON body ${JSON.stringify(text.slice(0, 60))}`);
    }
    if (typeof body !== 'object' || body === null || (body as { status?: unknown }).status !== true) {
      return fail(`${path} answered 200 without "status": true (${text.slice(0, 60)})`);
    }
    return { ok: true, reason: `${path} 200` };
  });
}

/** Any 2xx (the mock LLM's `/v1/models`, Toxiproxy's `/version`). */
export async function probeHttpOk(url: string, opts: ProbeOptions = {}): Promise<HealthProbe> {
  const path = pathOf(url);
  return guard(async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutOf(opts)) });
    await res.arrayBuffer();
    return res.ok ? { ok: true, reason: `${path} ${res.status}` } : fail(`${path} answered ${res.status}`);
  });
}

/** What `pollHealthy` watches besides the probe: a pid, and/or a "gone" check (containers). */
export interface ProbeWatch {
  pid?: number | undefined;
  /** Resolves to why the part is gone (e.g. "container exited"), undefined while it is there. */
  gone?: () => Promise<string | undefined>;
}

export interface PollOptions {
  clock?: Clock;
  /** Pause between probes (default 200 ms). */
  intervalMs?: number;
  /** The longest one probe may take (default 2 s; a real Open WebUI starting up wants more). */
  probeTimeoutMs?: number;
  watch?: ProbeWatch;
}

/**
 * Probes until one passes or `budgetMs` runs out; each probe gets at most what is left (between
 * 100 ms and `probeTimeoutMs`). Returns the last probe, ok or not; a watched process that exited ends the wait
 * at once with that reason.
 */
export async function pollHealthy(
  probe: (timeoutMs: number) => Promise<HealthProbe>,
  budgetMs: number,
  opts: PollOptions = {},
): Promise<HealthProbe> {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + budgetMs;
  let last: HealthProbe = { ok: false, reason: 'not probed' };
  for (let attempt = 0; attempt < 100_000; attempt++) {
    const pid = opts.watch?.pid;
    if (pid !== undefined && !isAlive(pid)) return { ok: false, reason: `process ${pid} exited` };
    const gone = await opts.watch?.gone?.().catch(() => undefined);
    if (gone !== undefined) return { ok: false, reason: gone };
    const left = deadline - clock.now();
    last = await probe(Math.max(100, Math.min(opts.probeTimeoutMs ?? DEFAULT_TIMEOUT_MS, left)));
    if (last.ok || clock.now() >= deadline) return last;
    await clock.sleep(Math.min(opts.intervalMs ?? 200, Math.max(1, deadline - clock.now())));
  }
  return last;
}

function timeoutOf(opts: ProbeOptions): number {
  return opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
}

function fail(reason: string): HealthProbe {
  return { ok: false, reason };
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/** A refused connection or a time-out is an unhealthy probe with its cause, never a throw. */
async function guard(fn: () => Promise<HealthProbe>): Promise<HealthProbe> {
  try {
    return await fn();
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return fail(`${errorMessage(err)}${cause}`);
  }
}
