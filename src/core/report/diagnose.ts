// Diagnoses: from a run's symptoms to the deployment mistake that most likely causes them, named
// with the setting to fix (the HA guides' pitfalls; docs/sensitivity-matrix.md lists which
// experiment sees which). Pure. Contract: a diagnosis is only given when its symptom was measured
// (a failing SLO or counted errors with the tell-tale tags); it never changes the verdict, it
// explains it. Each names the symptom it rests on, so a reader can check it.

import type { RunResults } from './results.js';

export interface Diagnosis {
  /** Stable id, e.g. `websocket-upgrade-headers`. */
  id: string;
  /** The setting that most likely causes it, e.g. `nginx: proxy_set_header Upgrade/Connection`. */
  cause: string;
  /** What was measured. */
  symptom: string;
  /** How to fix it. */
  fix: string;
}

type Input = Pick<RunResults, 'slos' | 'counts' | 'recovery'>;

const failing = (r: Input, metric: string): boolean =>
  r.slos.some((s) => s.slo.metric === metric && s.verdict === 'breach');

export function diagnose(results: Input): Diagnosis[] {
  const out: Diagnosis[] = [];
  const connect = results.counts.connectErrorsBy ?? [];
  const sum = (pred: (e: (typeof connect)[number]) => boolean): number =>
    connect.filter(pred).reduce((s, e) => s + e.count, 0);

  const handshake = sum((e) => e.reason === 'handshake' && (e.status === '400' || e.status === '426'));
  if (handshake > 0) {
    out.push({
      id: 'websocket-upgrade-headers',
      cause: 'the proxy does not forward the websocket upgrade (Upgrade / Connection headers, HTTP/1.1)',
      symptom: `${handshake} websocket handshake(s) refused with HTTP 400/426 instead of 101`,
      fix: 'nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; in the location that serves /ws/socket.io',
    });
  }
  const origin = sum((e) => e.reason === 'origin_refused');
  if (origin > 0) {
    out.push({
      id: 'cors-allow-origin',
      cause: "Open WebUI's CORS_ALLOW_ORIGIN does not include the site's origin",
      symptom: `${origin} websocket connection(s) refused: "… is not an accepted origin."`,
      fix: 'set CORS_ALLOW_ORIGIN to the URL browsers use (scheme://host[:port]; several separated by ";") on every replica',
    });
  }
  const join = sum((e) => e.reason === 'join_refused');
  const http401 = results.counts.httpErrorsBy
    .filter((e) => e.status === '401')
    .reduce((s, e) => s + e.count, 0);
  if (join > 0 || http401 > 0) {
    out.push({
      id: 'webui-secret-key',
      cause: 'the replicas do not share WEBUI_SECRET_KEY (a token one replica signed is refused by another)',
      symptom: [
        join > 0 ? `${join} user-join(s) refused (empty ack)` : '',
        http401 > 0 ? `${http401} HTTP 401 answer(s) to signed-in clients` : '',
      ]
        .filter(Boolean)
        .join(', '),
      fix: 'give every replica the same WEBUI_SECRET_KEY (not generated per container)',
    });
  }
  const burst = results.slos.some((s) => s.slo.metric === 'burst_size' && s.verdict === 'breach');
  const ratio = failing(results, 'ttft_e2e_ratio');
  if (burst || ratio) {
    out.push({
      id: 'proxy-buffering',
      cause: 'the proxy buffers streamed responses',
      symptom: burst
        ? 'tokens arrive in large bursts per network read (burst_size)'
        : 'the first token arrives with the end of the reply (ttft ≈ e2e)',
      fix: 'nginx: proxy_buffering off (and proxy_cache off) in the location that serves /api/chat/completions, or honour X-Accel-Buffering: no',
    });
  }
  const neverRecovered = results.recovery.filter(
    (r) => r.action.startsWith('redis.') && r.evaluated !== false && r.reason === 'never-recovered',
  );
  const http5xx = results.counts.byPhase['recovery']?.httpErrors ?? 0;
  if (neverRecovered.length > 0 && http5xx > 0) {
    out.push({
      id: 'pinned-redis-master',
      cause:
        'the replicas reach Redis by a fixed address instead of through Sentinel, so they keep writing to the old master',
      symptom: `${http5xx} HTTP error(s) after the Redis failover that never stopped (${neverRecovered.map((r) => r.fault).join(', ')}: never recovered)`,
      fix: 'REDIS_URL=redis+sentinel://…, REDIS_SENTINEL_HOSTS / REDIS_SENTINEL_PORT (and WEBSOCKET_SENTINEL_HOSTS for the socket manager) on every replica',
    });
  }
  const cut = (results.counts.streams['truncated'] ?? 0) + (results.counts.streams['http_error'] ?? 0);
  const silenceSlo = results.slos.some(
    (s) => s.slo.metric === 'ttft' && s.slo.stat === 'min' && (s.slo.gte ?? 0) >= 10_000,
  );
  if (silenceSlo && (cut > 0 || failing(results, 'ws_disconnects'))) {
    out.push({
      id: 'short-read-timeout',
      cause: "the proxy's read timeout is shorter than the model's longest silence",
      symptom: `${cut} stream(s) cut during a long first-token silence${failing(results, 'ws_disconnects') ? ', idle websockets dropped' : ''}`,
      fix: 'nginx: proxy_read_timeout (and proxy_send_timeout) longer than the slowest first token and the Socket.IO ping interval, e.g. 300s',
    });
  }
  return out;
}
