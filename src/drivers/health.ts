// Replica health over HTTP, as Open WebUI exposes it: `GET /health` answers 200 with JSON
// `{"status": true}`; `GET /ready` (newer versions) answers 200 when ready, and a 404 means the
// version has no readiness endpoint. Bounded by a budget and an injectable clock.

import { type Clock, systemClock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';

export interface HealthProbe {
  ok: boolean;
  /** Why not healthy, for the "did not become healthy within N s (…)" message. */
  reason: string;
}

export async function probeHealth(baseUrl: string, timeoutMs = 2000): Promise<HealthProbe> {
  const base = baseUrl.replace(/\/+$/, '');
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) return { ok: false, reason: `/health answered ${res.status}` };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {
        ok: false,
        reason: `/health answered 200 with non-JSON body ${JSON.stringify(text.slice(0, 60))}`,
      };
    }
    if (typeof body !== 'object' || body === null || (body as { status?: unknown }).status !== true) {
      return { ok: false, reason: `/health answered 200 without "status": true (${text.slice(0, 60)})` };
    }
    const ready = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    await ready.arrayBuffer();
    if (ready.status === 404 || ready.status === 200) return { ok: true, reason: '' };
    return { ok: false, reason: `/ready answered ${ready.status}` };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { ok: false, reason: `${errorMessage(err)}${cause}` };
  }
}

/** Polls until healthy; returns the last probe (ok or not) when the budget runs out. */
export async function waitHttpHealthy(
  baseUrl: string,
  budgetMs: number,
  opts: { clock?: Clock; intervalMs?: number } = {},
): Promise<HealthProbe> {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + budgetMs;
  let last: HealthProbe = { ok: false, reason: 'not probed' };
  for (let attempt = 0; attempt < 100_000; attempt++) {
    const left = deadline - clock.now();
    last = await probeHealth(baseUrl, Math.max(100, Math.min(2000, left)));
    if (last.ok || clock.now() >= deadline) return last;
    await clock.sleep(Math.min(opts.intervalMs ?? 200, Math.max(1, deadline - clock.now())));
  }
  return last;
}
