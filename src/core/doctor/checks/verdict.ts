// What every doctor check returns, and the small helpers the checks share (docs/doctor.md).

import { CHECK_TITLES, type CheckId, type CheckResult, type EvidenceValue, type Fix } from '../report.js';

export type Verdict = Omit<CheckResult, 'durationMs'>;

export function verdict(
  id: CheckId,
  status: CheckResult['status'],
  summary: string,
  evidence: Record<string, EvidenceValue>,
  fix?: Fix,
): Verdict {
  return { id, title: CHECK_TITLES[id], status, summary, evidence, ...(fix ? { fix } : {}) };
}

export function skipped(id: CheckId, reason: string, evidence: Record<string, EvidenceValue> = {}): Verdict {
  return verdict(id, 'skip', reason, evidence);
}

export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function truncate(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
