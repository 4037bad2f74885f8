// Cluster checks of the doctor (docs/doctor.md): shared secret, cross-replica delivery, Redis / Sentinel.

import { FIXES } from '../fixes.js';
import type { EvidenceValue } from '../report.js';
import { verdict, type Verdict } from './verdict.js';

// ─── shared secret ───────────────────────────────────────────────────────────────────────────────

export interface SecretMeasure {
  /** The replica that issued the token (signed in directly there). */
  issuer: string;
  /** Status of `GET /api/v1/auths/` with that token on every replica. */
  checks: Array<{ replica: string; status: number; error?: string }>;
}

export function judgeSecret(m: SecretMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = { 'token issued by': m.issuer };
  for (const c of m.checks)
    ev[c.replica] = c.status === 0 ? `no answer (${c.error ?? ''})` : `HTTP ${c.status}`;
  const refused = m.checks.filter((c) => c.status === 401 || c.status === 403);
  const unanswered = m.checks.filter((c) => c.status === 0 || c.status >= 500);
  if (refused.length > 0) {
    return verdict(
      'secret',
      'fail',
      `a token issued by ${m.issuer} is refused by ${refused.map((c) => c.replica).join(', ')} (HTTP ${refused[0]!.status}): the replicas sign with different WEBUI_SECRET_KEYs`,
      ev,
      FIXES.secret,
    );
  }
  if (unanswered.length > 0) {
    return verdict(
      'secret',
      'fail',
      `${unanswered.map((c) => c.replica).join(', ')} did not answer the token check`,
      ev,
      FIXES.replicaDown,
    );
  }
  return verdict(
    'secret',
    'pass',
    `a token issued by ${m.issuer} is accepted by all ${m.checks.length} replicas`,
    ev,
  );
}

// ─── cross-replica delivery ──────────────────────────────────────────────────────────────────────

export interface DeliveryMeasure {
  postedTo: string;
  socketOn: string;
  joined: boolean;
  outcome?: string;
  ttftMs?: number;
  e2eMs?: number;
  /** HTTP status of the socket-mode POST. */
  httpStatus?: string;
  waitedMs: number;
  garbledRate?: number;
}

export function judgeDelivery(m: DeliveryMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = {
    'chat posted to': m.postedTo,
    'socket held by': m.socketOn,
    joined: m.joined,
    outcome: m.outcome ?? 'none',
  };
  if (m.ttftMs !== undefined) ev['first frame ms'] = Math.round(m.ttftMs);
  if (m.e2eMs !== undefined) ev['done ms'] = Math.round(m.e2eMs);
  if (m.garbledRate !== undefined) ev['garbled'] = m.garbledRate;
  if (!m.joined) {
    return verdict(
      'delivery',
      'fail',
      `the socket on ${m.socketOn} never joined (no user-join ack within ${Math.round(m.waitedMs / 1000)} s)`,
      ev,
      FIXES.websocketManager,
    );
  }
  if (m.outcome === 'completed') {
    return verdict(
      'delivery',
      'pass',
      `a socket-mode chat sent to ${m.postedTo} reached the socket on ${m.socketOn} (done after ${ev['done ms'] ?? '?'} ms)`,
      ev,
    );
  }
  if (m.outcome === 'http_error') {
    return verdict(
      'delivery',
      'fail',
      `the socket-mode chat POST to ${m.postedTo} failed (HTTP ${m.httpStatus ?? '?'})`,
      ev,
      m.httpStatus === '401' ? FIXES.secret : FIXES.websocketManager,
    );
  }
  return verdict(
    'delivery',
    'fail',
    `a socket-mode chat sent to ${m.postedTo} never reached the socket on ${m.socketOn} within ${Math.round(m.waitedMs / 1000)} s (${m.outcome ?? 'no events'}): events stay on the replica that runs the chat`,
    ev,
    FIXES.websocketManager,
  );
}

// ─── Redis / Sentinel ────────────────────────────────────────────────────────────────────────────

export interface SentinelView {
  address: string;
  reachable: boolean;
  error?: string;
  master?: string;
  quorum?: number;
  otherSentinels?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  flags?: string;
  ckquorum?: string;
  ckquorumOk?: boolean;
}

export interface RedisMeasure {
  masterName: string;
  sentinels: SentinelView[];
  /** INFO replication of the master Sentinel names. */
  master?: {
    address: string;
    role?: string;
    error?: string;
    offset?: number;
    replicas: Array<{ address: string; state: string; offset: number; lagS: number }>;
  };
  /**
   * How Open WebUI is configured to reach Redis, when the doctor can see it (the lab's replica env;
   * a real deployment's env is not visible from outside, and then this is absent).
   */
  configured?: { redisUrl: string; sentinelHosts: string | undefined; source: string };
}

export const REDIS_THRESHOLDS = { maxReplicaLagS: 10, maxOffsetGapBytes: 1024 * 1024 } as const;

export function judgeRedis(m: RedisMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = { 'master name': m.masterName };
  for (const s of m.sentinels) {
    ev[`sentinel ${s.address}`] = s.reachable
      ? `master ${s.master ?? '?'}, quorum ${s.quorum ?? '?'}, other sentinels ${s.otherSentinels ?? '?'}, ${s.ckquorum ?? ''}`.trim()
      : `unreachable (${s.error ?? ''})`;
  }
  const up = m.sentinels.filter((s) => s.reachable && s.master !== undefined);
  const first = up[0];
  if (first?.downAfterMs !== undefined) ev['down-after-milliseconds'] = first.downAfterMs;
  if (first?.failoverTimeoutMs !== undefined) ev['failover-timeout'] = first.failoverTimeoutMs;
  if (m.master) {
    ev['master role'] = m.master.role ?? `? (${m.master.error ?? ''})`;
    ev['replicas'] =
      m.master.replicas.length === 0
        ? 'none connected'
        : m.master.replicas
            .map(
              (r) =>
                `${r.address} ${r.state} lag ${r.lagS} s offset gap ${(m.master!.offset ?? r.offset) - r.offset}`,
            )
            .join('; ');
  }
  const pinned = m.configured ? pinnedAddress(m.configured, m.masterName) : undefined;
  ev['Open WebUI REDIS_URL'] = m.configured
    ? `${redact(m.configured.redisUrl)}${m.configured.sentinelHosts ? ` with REDIS_SENTINEL_HOSTS ${m.configured.sentinelHosts}` : ', no REDIS_SENTINEL_HOSTS'} (${m.configured.source})`
    : 'not visible from outside (pinned-address check not run)';
  if (up.length === 0) {
    return verdict(
      'redis',
      'fail',
      `no Sentinel of ${m.sentinels.length} answers for master \`${m.masterName}\``,
      ev,
      FIXES.sentinelQuorum,
    );
  }
  const masters = new Set(up.map((s) => s.master));
  if (masters.size > 1) {
    return verdict(
      'redis',
      'fail',
      `the Sentinels disagree on the master: ${[...masters].join(' vs ')}`,
      ev,
      FIXES.sentinelDisagree,
    );
  }
  const noQuorum = up.filter((s) => s.ckquorumOk === false);
  const quorum = first?.quorum ?? 0;
  if (noQuorum.length > 0 || up.length < quorum) {
    return verdict(
      'redis',
      'fail',
      `the quorum (${quorum}) is not reachable: ${noQuorum[0]?.ckquorum ?? `${up.length} Sentinel(s) answer`}`,
      ev,
      FIXES.sentinelQuorum,
    );
  }
  if (m.master && m.master.role !== undefined && m.master.role !== 'master') {
    return verdict(
      'redis',
      'fail',
      `${m.master.address}, the master Sentinel names, reports role ${m.master.role}`,
      ev,
      FIXES.sentinelDisagree,
    );
  }
  const lagging = (m.master?.replicas ?? []).filter(
    (r) =>
      r.state !== 'online' ||
      r.lagS > REDIS_THRESHOLDS.maxReplicaLagS ||
      (m.master?.offset ?? r.offset) - r.offset > REDIS_THRESHOLDS.maxOffsetGapBytes,
  );
  if (m.master && m.master.replicas.length === 0) {
    return verdict(
      'redis',
      'fail',
      `the master ${m.master.address} has no connected replica: a failover has nothing to promote`,
      ev,
      FIXES.replicaSync,
    );
  }
  if (lagging.length > 0) {
    return verdict(
      'redis',
      'fail',
      `replica ${lagging[0]!.address} is not in sync (${lagging[0]!.state}, lag ${lagging[0]!.lagS} s)`,
      ev,
      FIXES.replicaSync,
    );
  }
  const master = [...masters][0]!;
  if (pinned !== undefined) {
    return verdict(
      'redis',
      'warn',
      `Open WebUI is pinned to the Redis address ${pinned} instead of following Sentinel's master \`${m.masterName}\` (now ${master}): it breaks at the first failover`,
      ev,
      FIXES.pinnedMaster,
    );
  }
  if (first?.downAfterMs !== undefined && first.downAfterMs > 30_000) {
    return verdict(
      'redis',
      'warn',
      `down-after-milliseconds is ${first.downAfterMs}: a dead master goes unnoticed for ${Math.round(first.downAfterMs / 1000)} s`,
      ev,
      {
        action: `Sentinel: \`sentinel down-after-milliseconds ${m.masterName} 5000\` (5–30 s is usual)`,
        guide: FIXES.sentinelQuorum.guide,
      },
    );
  }
  return verdict(
    'redis',
    'pass',
    `${up.length} Sentinel(s) agree on ${master}, quorum ${quorum} reachable, ${m.master?.replicas.length ?? 0} replica(s) in sync`,
    ev,
  );
}

/** The host:port Open WebUI is pinned to, or undefined when it resolves the master through Sentinel. */
export function pinnedAddress(
  c: { redisUrl: string; sentinelHosts: string | undefined },
  masterName: string,
): string | undefined {
  let host: string;
  let port: string;
  try {
    const u = new URL(c.redisUrl);
    host = u.hostname;
    port = u.port || '6379';
  } catch {
    return c.redisUrl;
  }
  // With Sentinel the URL's host is the master-set name (openwebui-protocol.md §6.3).
  if (c.sentinelHosts && c.sentinelHosts.trim() !== '' && host === masterName) return undefined;
  return `${host}:${port}`;
}

function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
