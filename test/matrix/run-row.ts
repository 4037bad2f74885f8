// Runs one matrix row for real: a lab started with the row's misconfiguration (one per
// misconfiguration, reused across its experiments), the built CLI as a child process, and what the
// run says about itself: exit code, results.json (verdict, failing SLOs, stops, recovery,
// diagnoses) or, when it failed before any report, the error code it printed.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labDown, labUp, RUN_JS } from '../../src/lab/lab.js';
import { parseMisconfigs } from '../../src/lab/misconfig.js';
import type { RunResults } from '../../src/core/report/results.js';
import { sloFails } from '../../src/core/report/outcome.js';

export interface RowOutcome {
  exit: number | null;
  verdict: string | null;
  /** Everything that names a cause, in the catalogue's vocabulary (slo:…, stop:…, diagnosis:…). */
  names: string[];
  /** One line for the docs: the failing SLOs / stop code. */
  summary: string;
  seconds: number;
}

export async function startMatrixLab(home: string, name: string, misconfig: string): Promise<string> {
  const stateDir = join(home, 'labs', name);
  await labUp({
    name,
    stateDir,
    replicas: 3,
    ...(misconfig === 'healthy' ? {} : { misconfig: parseMisconfigs(misconfig) }),
  });
  return stateDir;
}

export async function stopMatrixLab(stateDir: string): Promise<void> {
  await labDown(stateDir);
}

export async function runRow(
  home: string,
  lab: string,
  experiment: string,
  outDir: string,
  extra: string[] = [],
  timeoutMs = 300_000,
): Promise<RowOutcome> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [RUN_JS, 'run', experiment, '--lab-name', lab, '--out', outDir, ...extra],
    { env: { ...process.env, OWUI_CHAOS_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
  const exit = await new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  clearTimeout(timer);
  const names: string[] = [];
  const summary: string[] = [];
  let verdict: string | null = null;
  const file = join(outDir, 'results.json');
  if (existsSync(file)) {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
    verdict = r.verdict;
    // The JSON file must carry the exit code the process gave (one outcome everywhere).
    if (r.exitCode !== exit) names.push(`MISMATCH:results.exitCode=${r.exitCode}`);
    for (const st of r.stops) names.push(`stop:${st.code}`);
    const failing = r.slos.filter((s) => sloFails(s) && !(s.note ?? '').includes('not reached'));
    for (const s of failing) names.push(`slo:${s.id}`);
    for (const rec of r.recovery) if (rec.reason === 'never-recovered') names.push('recovery:never');
    for (const d of r.diagnoses ?? []) names.push(`diagnosis:${d.id}`);
    summary.push(
      ...r.stops.map((s) => s.code),
      ...[...new Set(failing.map((s) => `${s.id}${s.phase === 'all' ? '' : ` (${s.phase})`}`))],
      ...r.recovery.filter((x) => x.reason === 'never-recovered').map((x) => `${x.fault}: never recovered`),
    );
  } else {
    const m = /Error \[([A-Z_]+)\]/.exec(output);
    if (m) {
      names.push(`stop:${m[1]}`);
      summary.push(`${m[1]} (preflight, no report)`);
    }
  }
  return {
    exit,
    verdict,
    names: [...new Set(names)],
    summary: summary.join('; ') || '—',
    seconds: Math.round((Date.now() - started) / 1000),
  };
}
