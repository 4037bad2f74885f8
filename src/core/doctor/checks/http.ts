// Identity (health, version, readiness) and auth checks of the doctor (docs/doctor.md).

import { FIXES } from '../fixes.js';
import type { EvidenceValue } from '../report.js';
import { isObj, verdict, type Verdict } from './verdict.js';

// ─── identity ────────────────────────────────────────────────────────────────────────────────────

/** One HTTP GET as the doctor saw it. `status` 0 = no answer (then `error` says why). */
export interface HttpProbe {
  status: number;
  contentType?: string;
  /** Parsed JSON body, when the body was JSON. */
  json?: unknown;
  error?: string;
  ms?: number;
}

export interface IdentityMeasure {
  url: string;
  health: HttpProbe;
  version: HttpProbe;
  replicas: Array<{ name: string; url: string; health: HttpProbe; ready: HttpProbe; version: HttpProbe }>;
}

function statusText(p: HttpProbe): string {
  if (p.status === 0) return `no answer (${p.error ?? 'unreachable'})`;
  return `${p.status}${p.contentType ? ` ${p.contentType.split(';')[0]}` : ''}`;
}

function healthOk(p: HttpProbe): boolean {
  return p.status === 200 && isObj(p.json) && p.json['status'] === true;
}

function versionOf(p: HttpProbe): { version?: string; deploymentId?: string } {
  if (p.status !== 200 || !isObj(p.json)) return {};
  const v = p.json['version'];
  const d = p.json['deployment_id'];
  return {
    ...(typeof v === 'string' ? { version: v } : {}),
    ...(typeof d === 'string' ? { deploymentId: d } : {}),
  };
}

export function judgeIdentity(m: IdentityMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = {
    'lb /health': statusText(m.health),
    'lb /api/version': statusText(m.version),
  };
  if (m.health.status === 0) {
    return verdict('identity', 'fail', `${m.url} does not answer: ${m.health.error ?? 'unreachable'}`, ev, {
      action: `check that ${m.url} is the load balancer's address and that it is up (curl -sS ${m.url}/health)`,
      guide: FIXES.notOpenWebui.guide,
    });
  }
  if (!healthOk(m.health)) {
    const html = (m.health.contentType ?? '').includes('text/html');
    return verdict(
      'identity',
      'fail',
      `${m.url} is not Open WebUI: GET /health answered ${statusText(m.health)}${html ? ' (a web page, not {"status":true})' : ' instead of {"status":true}'}`,
      ev,
      FIXES.notOpenWebui,
    );
  }
  const lb = versionOf(m.version);
  if (lb.version !== undefined) ev['version'] = lb.version;
  if (lb.deploymentId !== undefined)
    ev['deployment_id'] = lb.deploymentId === '' ? '(empty)' : lb.deploymentId;
  if (lb.version === undefined) {
    return verdict(
      'identity',
      'fail',
      `${m.url} answers /health but not /api/version (${statusText(m.version)}): is this Open WebUI?`,
      ev,
      FIXES.notOpenWebui,
    );
  }
  if (m.replicas.length === 0) {
    return verdict(
      'identity',
      'pass',
      `Open WebUI ${lb.version} answers through ${m.url}; replicas not checked one by one (the target lists no \`openwebui.replicas\`)`,
      { ...ev, replicas: 'not listed' },
    );
  }
  const down: string[] = [];
  const notReady: string[] = [];
  const versions = new Map<string, string[]>();
  const deployments = new Map<string, string[]>();
  for (const r of m.replicas) {
    const v = versionOf(r.version);
    ev[`${r.name}`] =
      `/health ${statusText(r.health)}, /ready ${readyText(r.ready)}, version ${v.version ?? '?'}` +
      (v.deploymentId !== undefined
        ? `, deployment_id ${v.deploymentId === '' ? '(empty)' : v.deploymentId}`
        : '');
    if (!healthOk(r.health)) {
      down.push(r.name);
      continue;
    }
    // /ready exists from 0.8.11; a 404 there is an older version, not a failure.
    if (r.ready.status !== 404 && !healthOk(r.ready)) notReady.push(`${r.name} (${readyText(r.ready)})`);
    if (v.version !== undefined) versions.set(v.version, [...(versions.get(v.version) ?? []), r.name]);
    if (v.deploymentId !== undefined)
      deployments.set(v.deploymentId, [...(deployments.get(v.deploymentId) ?? []), r.name]);
  }
  if (down.length > 0) {
    return verdict(
      'identity',
      'fail',
      `replica(s) ${down.join(', ')} do not answer /health directly`,
      ev,
      FIXES.replicaDown,
    );
  }
  if (notReady.length > 0) {
    return verdict('identity', 'fail', `replica(s) not ready: ${notReady.join(', ')}`, ev, FIXES.replicaDown);
  }
  if (versions.size > 1) {
    return verdict(
      'identity',
      'fail',
      `replicas run different versions: ${[...versions].map(([v, names]) => `${v} on ${names.join(', ')}`).join('; ')}`,
      ev,
      FIXES.versionMismatch,
    );
  }
  if (deployments.size > 1) {
    return verdict(
      'identity',
      'warn',
      `replicas report different deployment ids (${deployments.size}); browsers reload when they reconnect to another replica`,
      ev,
      FIXES.deploymentIdMismatch,
    );
  }
  return verdict(
    'identity',
    'pass',
    `Open WebUI ${lb.version} through ${m.url}; ${m.replicas.length} replica(s) healthy, ready and alike`,
    ev,
  );
}

function readyText(p: HttpProbe): string {
  if (p.status === 404) return '404 (no /ready before 0.8.11)';
  const detail = isObj(p.json) && typeof p.json['detail'] === 'string' ? ` "${p.json['detail']}"` : '';
  return `${statusText(p)}${detail}`;
}

// ─── auth ────────────────────────────────────────────────────────────────────────────────────────

export interface AuthMeasure {
  /** How the doctor got a user token: `signed in as x`, `provisioned x`, … */
  how: string;
  ok: boolean;
  error?: string;
  code?: string;
  /** A JWT for sockets (API keys cannot authenticate a socket). */
  hasUserToken: boolean;
}

export function judgeAuth(m: AuthMeasure): Verdict {
  const ev = { how: m.how, 'user token': m.hasUserToken };
  if (!m.ok) {
    return verdict(
      'auth',
      'fail',
      `${m.how} failed: ${m.error ?? 'unknown error'}`,
      { ...ev, code: m.code ?? null },
      FIXES.credentials,
    );
  }
  return verdict(
    'auth',
    'pass',
    m.hasUserToken ? `${m.how}` : `${m.how} (API key only: socket checks skip)`,
    ev,
  );
}
