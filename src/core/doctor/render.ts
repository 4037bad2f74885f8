// Terminal rendering of a doctor report: one line per check (status, check, what was found), the
// evidence under it, and for every WARN/FAIL the fix and the guide. Pure: returns text.

import type { CheckResult, DoctorReport } from './report.js';

const LABEL: Record<CheckResult['status'], string> = {
  pass: 'PASS',
  warn: 'WARN',
  fail: 'FAIL',
  skip: 'SKIP',
};

export function renderCheck(c: CheckResult, opts: { evidence?: boolean } = {}): string {
  const lines = [`${LABEL[c.status]}  ${c.id.padEnd(9)} ${c.summary}  (${formatMs(c.durationMs)})`];
  if (opts.evidence !== false) {
    const entries = Object.entries(c.evidence);
    if (entries.length > 0)
      lines.push(
        `      evidence: ${entries.map(([k, v]) => `${k}: ${v === null ? '—' : String(v)}`).join(' · ')}`,
      );
  }
  if (c.fix && (c.status === 'warn' || c.status === 'fail')) {
    lines.push(`      fix: ${c.fix.action}`);
    lines.push(`      see: ${c.fix.guide.title} — ${c.fix.guide.url}`);
  }
  return lines.join('\n');
}

export function renderDoctorReport(r: DoctorReport): string {
  const lines = [`owui-chaos doctor — ${r.target.name} (${r.target.url})`, ''];
  for (const c of r.checks) lines.push(renderCheck(c));
  lines.push('');
  lines.push(`Result: ${r.summary} in ${formatMs(r.durationMs)} → exit ${r.exitCode}`);
  return lines.join('\n') + '\n';
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
