// Limits checks of the doctor (docs/doctor.md): proxy timeouts, body size, TLS expiry.

import { FIXES } from '../fixes.js';
import type { EvidenceValue, Fix } from '../report.js';
import { round, verdict, type Verdict } from './verdict.js';

// ─── timeouts ────────────────────────────────────────────────────────────────────────────────────

export interface TimeoutsMeasure {
  /** The silence asked of the first token, ms (≥ 60 s: nginx's default proxy_read_timeout). */
  firstTokenDelayMs: number;
  slowStream: { outcome: string; status?: string; ttftMs?: number; e2eMs?: number };
  /** Absent when the socket could not be tried (`idleSocketSkipped` says why). */
  idleSocket?: { heldMs: number; disconnects: number; joined: boolean };
  idleSocketSkipped?: string;
}

export function judgeTimeouts(m: TimeoutsMeasure): Verdict {
  const s = m.slowStream;
  const ev: Record<string, EvidenceValue> = {
    'first token asked after ms': m.firstTokenDelayMs,
    'slow stream': `${s.outcome}${s.status ? ` HTTP ${s.status}` : ''}${s.ttftMs !== undefined ? `, ttft ${Math.round(s.ttftMs)} ms` : ''}`,
    'idle socket': m.idleSocket
      ? `${m.idleSocket.joined ? 'joined' : 'never joined'}, held ${Math.round(m.idleSocket.heldMs / 1000)} s, ${m.idleSocket.disconnects} disconnect(s)`
      : `not measured: ${m.idleSocketSkipped ?? 'no socket'}`,
  };
  const problems: string[] = [];
  if (s.outcome !== 'completed')
    problems.push(
      `a stream whose first token takes ${Math.round(m.firstTokenDelayMs / 1000)} s ended ${s.outcome}${s.status ? ` (HTTP ${s.status})` : ''}`,
    );
  if (m.idleSocket && !m.idleSocket.joined) problems.push('the idle socket never joined');
  else if (m.idleSocket && m.idleSocket.disconnects > 0)
    problems.push(
      `an idle socket was dropped ${m.idleSocket.disconnects} time(s) in ${Math.round(m.idleSocket.heldMs / 1000)} s`,
    );
  if (problems.length > 0)
    return verdict(
      'timeouts',
      'fail',
      `${problems.join('; ')}: the proxy's read timeout is too short`,
      ev,
      FIXES.readTimeout,
    );
  if (!m.idleSocket)
    return verdict(
      'timeouts',
      'skip',
      `a ${Math.round(m.firstTokenDelayMs / 1000)} s silence before the first token survives; the idle socket was not measured (${m.idleSocketSkipped ?? 'no socket'})`,
      ev,
    );
  return verdict(
    'timeouts',
    'pass',
    `a ${Math.round(m.firstTokenDelayMs / 1000)} s silence before the first token and a ${Math.round((m.idleSocket?.heldMs ?? 0) / 1000)} s idle socket both survive`,
    ev,
  );
}

// ─── limits ──────────────────────────────────────────────────────────────────────────────────────

export interface LimitsMeasure {
  body?: { bytes: number; status: number; error?: string };
  tls?: { daysLeft: number; notAfter: string; subject: string } | { error: string };
  https: boolean;
}

export const TLS_WARN_DAYS = 14;

export function judgeLimits(m: LimitsMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = {};
  const fails: Array<{ text: string; fix: Fix }> = [];
  const warns: Array<{ text: string; fix: Fix }> = [];
  if (m.body) {
    const mb = round(m.body.bytes / (1024 * 1024), 1);
    ev['upload of'] =
      `${mb} MB → ${m.body.status === 0 ? `no answer (${m.body.error ?? ''})` : `HTTP ${m.body.status}`}`;
    if (m.body.status === 413)
      fails.push({ text: `an upload of ${mb} MB is refused (413)`, fix: FIXES.bodySize });
    else if (m.body.status === 0)
      fails.push({
        text: `an upload of ${mb} MB got no answer (${m.body.error ?? ''})`,
        fix: FIXES.bodySize,
      });
  } else ev['upload'] = 'not tried (opt-in: --body-size SIZE)';
  if (m.https && m.tls) {
    if ('error' in m.tls) {
      ev['tls'] = m.tls.error;
      fails.push({ text: `TLS certificate check failed: ${m.tls.error}`, fix: FIXES.tlsExpiry });
    } else {
      ev['tls expires'] = `${m.tls.notAfter} (${m.tls.daysLeft} days)`;
      if (m.tls.daysLeft < 0)
        fails.push({ text: `the TLS certificate expired ${-m.tls.daysLeft} days ago`, fix: FIXES.tlsExpiry });
      else if (m.tls.daysLeft < TLS_WARN_DAYS)
        warns.push({ text: `the TLS certificate expires in ${m.tls.daysLeft} days`, fix: FIXES.tlsExpiry });
    }
  } else ev['tls'] = 'plain http: no certificate';
  ev['sign-in rate limit'] = 'not probed (it would lock the test user out for 3 minutes)';
  if (fails.length > 0)
    return verdict('limits', 'fail', fails.map((f) => f.text).join('; '), ev, fails[0]!.fix);
  if (warns.length > 0)
    return verdict('limits', 'warn', warns.map((f) => f.text).join('; '), ev, warns[0]!.fix);
  if (!m.body && !m.https)
    return verdict('limits', 'skip', 'nothing to check: plain http and no --body-size', ev);
  return verdict(
    'limits',
    'pass',
    [
      m.body
        ? `an upload of ${round(m.body.bytes / (1024 * 1024), 1)} MB passes the proxy (no 413; HTTP ${m.body.status} from behind it for the probe path)`
        : '',
      m.https ? `TLS certificate valid until ${ev['tls expires']}` : '',
    ]
      .filter(Boolean)
      .join('; '),
    ev,
  );
}
