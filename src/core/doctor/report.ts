// The doctor's result model (docs/doctor.md): one result per check — PASS / WARN / FAIL / SKIP —
// with the evidence measured and, for every WARN and FAIL, the fix and the guide section that
// explains it. Pure: no I/O, no printing. The verdict is a function of the results alone: exit 10
// when any check failed, else 0. A SKIP is never a pass and always carries its reason; a report
// in which every check was skipped says so in its summary.

export const CHECK_IDS = [
  'identity',
  'auth',
  'sse',
  'websocket',
  'cors',
  'secret',
  'delivery',
  'redis',
  'timeouts',
  'limits',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export const CHECK_TITLES: Record<CheckId, string> = {
  identity: 'reachability and identity',
  auth: 'sign-in',
  sse: 'SSE through the proxy',
  websocket: 'WebSocket through the proxy',
  cors: 'CORS origin check',
  secret: 'shared WEBUI_SECRET_KEY',
  delivery: 'cross-replica socket delivery',
  redis: 'Redis / Sentinel',
  timeouts: 'proxy timeouts',
  limits: 'limits',
};

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface Guide {
  title: string;
  url: string;
}

export interface Fix {
  /** What to change, exactly: an nginx directive, an Open WebUI env var, a Sentinel setting. */
  action: string;
  guide: Guide;
}

export type EvidenceValue = string | number | boolean | null;

export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** One line: what was found (or, for SKIP, why the check did not run). */
  summary: string;
  /** The measurements behind the verdict, by name. */
  evidence: Record<string, EvidenceValue>;
  /** Present on every WARN and FAIL. */
  fix?: Fix;
  durationMs: number;
}

export interface DoctorReport {
  target: { name: string; url: string };
  startedAt: string;
  durationMs: number;
  checks: CheckResult[];
  counts: Record<CheckStatus, number>;
  verdict: 'pass' | 'fail';
  exitCode: 0 | 10;
  summary: string;
}

/** Exit code of a doctor run: 10 when any check failed (DESIGN §7's "check failed"), else 0. */
export const DOCTOR_FAILED_EXIT = 10;

export function buildReport(
  target: { name: string; url: string },
  checks: CheckResult[],
  startedAtMs: number,
  endedAtMs: number,
): DoctorReport {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  const failed = counts.fail > 0;
  const parts = [
    `${counts.pass} passed`,
    `${counts.warn} warned`,
    `${counts.fail} failed`,
    `${counts.skip} skipped`,
  ];
  const nothingRan = checks.length > 0 && counts.skip === checks.length;
  return {
    target,
    startedAt: new Date(startedAtMs).toISOString(),
    durationMs: endedAtMs - startedAtMs,
    checks,
    counts,
    verdict: failed ? 'fail' : 'pass',
    exitCode: failed ? DOCTOR_FAILED_EXIT : 0,
    summary: `${parts.join(', ')}${nothingRan ? ' — nothing was checked' : ''}`,
  };
}

/** Parses `--only a,b`; unknown names are reported, not ignored. */
export function parseOnly(text: string | undefined): { ids: CheckId[]; unknown: string[] } {
  if (text === undefined || text.trim() === '') return { ids: [...CHECK_IDS], unknown: [] };
  const ids: CheckId[] = [];
  const unknown: string[] = [];
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if ((CHECK_IDS as readonly string[]).includes(name)) {
      if (!ids.includes(name as CheckId)) ids.push(name as CheckId);
    } else unknown.push(name);
  }
  return { ids: CHECK_IDS.filter((id) => ids.includes(id)), unknown };
}
