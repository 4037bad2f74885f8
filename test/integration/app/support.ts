// Shared by the `owui-chaos run` / `rollback` integration tests: one real lab per test file under a
// temporary OWUI_CHAOS_HOME, the built CLI as a child process, and outside-in observers of the lab
// (Sentinel's view of the master, Toxiproxy's proxies, nginx's config bytes, replica pids and
// `/health`). Nothing here reaches into the runner: every observation is what an operator could see.
//
// A lab is an `await using` resource (test/helpers/resources.ts): `await using lab = await
// startTestLab('x')` stops it when the block ends, also when a test throws, and that stop fails
// when a lab part is left alive. `sharedTestLab` is the same lab for a whole file.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { isAlive } from '../../../src/infra/process/daemon.js';
import type { LabState } from '../../../src/infra/lab-state.js';
import { httpGet } from '../drivers/http-probe.js';
import { pollUntil } from '../../helpers/poll-until.js';
import { fileResource, resource, type Resource } from '../../helpers/resources.js';
import { startLab, stopLab } from '../../helpers/test-lab.js';
import { startCli, type CliRun } from '../../helpers/run-cli.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = resolve(HERE, '..', '..', 'fixtures', 'experiments', 'run');

export function fixture(name: string): string {
  return join(FIXTURES, `${name}.yaml`);
}

export interface TestLab {
  home: string;
  name: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  /** state.json as it is now (pids change when faults restart parts). */
  state(): LabState;
}

/**
 * Starts a 2-replica process lab named `<prefix>-<pid>` under a fresh OWUI_CHAOS_HOME. Disposing
 * it (`await using`) stops it and fails when `lab down` reported an error or a lab part is still
 * alive (test/helpers/test-lab.ts); `stopTestLab` is the same stop for callers that hold the lab
 * in beforeAll/afterAll.
 */
export async function startTestLab(prefix: string): Promise<Resource<TestLab>> {
  const home = mkdtempSync(join(tmpdir(), `owui-app-${prefix}-`));
  const name = `${prefix}-${process.pid}`;
  const stateDir = join(home, 'labs', name);
  const env = { ...process.env, OWUI_CHAOS_HOME: home };
  const started = await startLab({ name, stateDir, replicas: 2, buffering: 'off', removeDir: home });
  const lab: TestLab = { home, name, stateDir, env, state: () => started.current() };
  return resource(lab, () => started[Symbol.asyncDispose]());
}

/**
 * Stops the lab and returns the pids state.json recorded (just before `lab down`) that are still
 * alive afterwards — the caller asserts the list is empty.
 */
export async function stopTestLab(lab: TestLab | undefined): Promise<Array<{ part: string; pid: number }>> {
  if (!lab) return [];
  const left = await stopLab(lab.stateDir);
  rmSync(lab.home, { recursive: true, force: true });
  if (left.errors.length > 0) throw new Error(`lab down: ${left.errors.join('; ')}`);
  return left.alive;
}

export type { CliRun };

/** `node bin/run.js <args>` with the lab's OWUI_CHAOS_HOME; killed after `timeoutMs`. */
export function runCli(lab: TestLab, args: string[], timeoutMs = 120_000): CliRun {
  return startCli(args, { env: lab.env, timeoutMs, cwd: process.cwd() });
}

/** `owui-chaos run <fixture> --lab-name <lab> --workers 0 --out <dir>` (inline engine: light on 2 cores). */
export function runExperimentCli(
  lab: TestLab,
  experiment: string,
  outDir: string,
  extra: string[] = [],
): CliRun {
  return runCli(lab, [
    'run',
    experiment,
    '--lab-name',
    lab.name,
    '--workers',
    '0',
    '--out',
    outDir,
    ...extra,
  ]);
}

/** Polls `probe` every `intervalMs` until it returns a value other than undefined, within `budgetMs`. */
export function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  budgetMs: number,
  intervalMs = 100,
): Promise<T> {
  return pollUntil(what, probe, { budgetMs, intervalMs });
}

/** The master address (`host:port`) every Sentinel of the lab reports, deduplicated. */
export async function sentinelMasters(state: LabState): Promise<string[]> {
  const seen = new Set<string>();
  for (const s of state.redis!.sentinels) {
    const client = new Redis({
      host: '127.0.0.1',
      port: s.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined); // a refused connect rejects connect(); no unhandled event
    try {
      await client.connect();
      const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', state.redis!.masterName)) as [
        string,
        string,
      ];
      seen.add(`${reply[0]}:${reply[1]}`);
    } finally {
      client.disconnect();
    }
  }
  return [...seen];
}

/** `ROLE` of a Redis node: `master`, or `slave` with its master's port. */
export async function redisRole(port: number): Promise<{ role: string; masterPort?: number; link?: string }> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined); // a node that is down rejects connect(); no unhandled event
  try {
    await client.connect();
    const reply = (await client.call('ROLE')) as unknown[];
    const role = String(reply[0]);
    return role === 'slave' ? { role, masterPort: Number(reply[2]), link: String(reply[3]) } : { role };
  } finally {
    client.disconnect();
  }
}

export interface ProxyView {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Array<{ name: string; type: string; attributes: Record<string, number> }>;
}

/** Toxiproxy's own view (GET /proxies), as any Toxiproxy client sees it. */
export async function toxiproxyProxies(state: LabState): Promise<ProxyView[]> {
  const res = await fetch(`${state.toxiproxy!.url}/proxies`, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`GET /proxies answered ${res.status}`);
  const body = (await res.json()) as Record<string, ProxyView>;
  return Object.values(body).sort((a, b) => a.name.localeCompare(b.name));
}

/** Every proxy enabled and without toxics: what the lab looks like untouched. */
export async function toxiproxyClean(state: LabState): Promise<{ disabled: string[]; toxics: string[] }> {
  const proxies = await toxiproxyProxies(state);
  return {
    disabled: proxies.filter((p) => !p.enabled).map((p) => p.name),
    toxics: proxies.flatMap((p) => p.toxics.map((t) => `${p.name}/${t.name}`)),
  };
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Replica name → { pid alive, /health answered 200 }. */
export async function replicaHealth(
  state: LabState,
): Promise<Record<string, { pid: number | undefined; alive: boolean; health: string }>> {
  const out: Record<string, { pid: number | undefined; alive: boolean; health: string }> = {};
  for (const r of state.replicas) {
    const probe = await httpGet(`${r.url}/health`, 1000);
    out[r.name] = {
      pid: r.pid,
      alive: r.pid !== undefined && isAlive(r.pid),
      health: probe.kind === 'answered' ? String(probe.status) : probe.kind,
    };
  }
  return out;
}

/** The kernel's state letter for a pid (`T` = stopped by SIGSTOP), or `gone`. */
export function processStateLetter(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
  } catch {
    return 'gone';
  }
}

export interface JournalActivityView {
  name: string;
  kind: string;
  action?: string;
  status: string;
  startedAt: number;
  endedAt: number;
  output?: unknown;
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** One row of results.json `summary` (per metric × phase × client). */
export interface SummaryRow {
  metric: string;
  phase: string;
  client: string;
  count: number;
  p50: number | null;
  p95: number | null;
  mean: number | null;
}

export function summaryRow(runDir: string, metric: string, phase: string, client = 'api'): SummaryRow {
  const results = readJson<{ summary: SummaryRow[] }>(join(runDir, 'results.json'));
  const row = results.summary.find((s) => s.metric === metric && s.phase === phase && s.client === client);
  if (!row) throw new Error(`results.json has no ${metric} row for phase ${phase} (client ${client})`);
  return row;
}

/**
 * One lab for a whole test file: started in beforeAll, disposed in afterAll (which fails when a
 * lab part is left alive). The lab is installed by scripts/setup.sh, so a lab that does not start
 * makes the tests FAIL with the reason; it never skips them.
 */
export function sharedTestLab(prefix: string): (_ctx?: unknown) => TestLab {
  const lab = fileResource(() => startTestLab(prefix), { what: 'the lab' });
  return () => lab();
}
