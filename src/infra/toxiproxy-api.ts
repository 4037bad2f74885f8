// The Toxiproxy HTTP API calls the lab and the Toxiproxy driver share: reading the proxies and
// creating one. Speaks to the real `toxiproxy-server` and to the lab's compatible server alike.
//
// Contract: every request is bounded (default 5 s); an answer other than the expected status is a
// ToxiproxyHttpError carrying the status and Toxiproxy's error text; a proxy's toxics come back as
// ToxicSpecs (numeric attributes only, the stream `downstream` unless it says `upstream`).

import type { ProxyInfo, ToxicSpec } from '../core/ports.js';

export class ToxiproxyHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(message);
    this.name = 'ToxiproxyHttpError';
  }
}

interface RawToxic {
  name: string;
  type: string;
  stream: string;
  toxicity: number;
  attributes?: Record<string, unknown> | null;
}

interface RawProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics?: RawToxic[] | null;
}

export interface NewProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled?: boolean;
}

const TIMEOUT_MS = 5000;

async function request(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  expect: number,
  body?: unknown,
): Promise<unknown> {
  const url = `${base.replace(/\/+$/, '')}${path}`;
  const res = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status !== expect) {
    throw new ToxiproxyHttpError(
      `Toxiproxy answered ${method} ${path} with HTTP ${res.status}: ${text.trim().slice(0, 200)}`,
      res.status,
      text,
    );
  }
  return JSON.parse(text) as unknown;
}

/** Every proxy, by name order. */
export async function listProxies(base: string): Promise<ProxyInfo[]> {
  const raw = (await request(base, 'GET', '/proxies', 200)) as Record<string, RawProxy> | null;
  return Object.values(raw ?? {})
    .map(toProxyInfo)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export async function getProxy(base: string, name: string): Promise<ProxyInfo> {
  return toProxyInfo((await request(base, 'GET', `/proxies/${encodeURIComponent(name)}`, 200)) as RawProxy);
}

/** Creates a proxy (201); returns it as Toxiproxy recorded it (the bound `listen`). */
export async function createProxy(base: string, p: NewProxy): Promise<ProxyInfo> {
  const created = await request(base, 'POST', '/proxies', 201, { ...p, enabled: p.enabled ?? true });
  return toProxyInfo(created as RawProxy);
}

function toProxyInfo(raw: RawProxy): ProxyInfo {
  return {
    name: raw.name,
    listen: raw.listen,
    upstream: raw.upstream,
    enabled: raw.enabled,
    toxics: (raw.toxics ?? []).map((t) => ({
      name: t.name,
      type: t.type as ToxicSpec['type'],
      stream: t.stream === 'upstream' ? 'upstream' : 'downstream',
      toxicity: t.toxicity,
      attributes: Object.fromEntries(
        Object.entries(t.attributes ?? {}).filter((e): e is [string, number] => typeof e[1] === 'number'),
      ),
    })),
  };
}

/**
 * Bytes that have entered `proxy` so far, both directions (`toxiproxy_proxy_received_bytes_total`,
 * counted before any toxic acts, so a stalling toxic still shows what reached it). undefined when
 * the server keeps no proxy metrics: `toxiproxy-server` without `-proxy-metrics` answers 404.
 */
export async function proxyReceivedBytes(base: string, proxy: string): Promise<number | undefined> {
  const res = await fetch(`${base.replace(/\/+$/, '')}/metrics`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  if (res.status === 404) return undefined;
  if (res.status !== 200) {
    throw new ToxiproxyHttpError(
      `Toxiproxy answered GET /metrics with HTTP ${res.status}: ${text.trim().slice(0, 200)}`,
      res.status,
      text,
    );
  }
  return receivedBytesOf(text, proxy);
}

const RECEIVED = /^toxiproxy_proxy_received_bytes_total\{([^}]*)\}\s+(\S+)/;

/** Sums `toxiproxy_proxy_received_bytes_total` of one proxy in a Prometheus text exposition (0: none yet). */
export function receivedBytesOf(exposition: string, proxy: string): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    const m = RECEIVED.exec(line);
    if (!m) continue;
    const name = /(?:^|,)proxy="((?:[^"\\]|\\.)*)"/.exec(m[1]!)?.[1];
    if (name === proxy) total += Number(m[2]);
  }
  return total;
}
