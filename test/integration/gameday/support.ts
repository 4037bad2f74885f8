// Shared scaffolding of the game-day integration tests: the `gameday` command line, a session
// started in the background with its console URL, the console's JSON API, and ending sessions.

/* eslint-disable @typescript-eslint/no-explicit-any -- the console's JSON answers are read field by field */
import { rmSync } from 'node:fs';
import { runCli, stopTestLab, waitFor, type CliRun, type TestLab } from '../app/support.js';

export interface GamedayOpts {
  duration?: string;
  /** More flags after the common ones. */
  extra?: string[];
}

/** `gameday --lab-name L --duration D --workers 0 --out DIR …` (inline engine: light on 2 cores). */
export function gamedayArgs(lab: TestLab, outDir: string, opts: GamedayOpts = {}): string[] {
  return [
    'gameday',
    '--lab-name',
    lab.name,
    '--duration',
    opts.duration ?? '5m',
    '--workers',
    '0',
    '--out',
    outDir,
    ...(opts.extra ?? []),
  ];
}

/** Starts `gameday` in the background; `url()` resolves with the console URL once it is printed. */
export function startGameday(
  lab: TestLab,
  outDir: string,
  opts: GamedayOpts & { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): { cli: CliRun; url: () => Promise<string> } {
  const cli = runCli(
    opts.env ? { ...lab, env: { ...lab.env, ...opts.env } } : lab,
    gamedayArgs(lab, outDir, opts),
    opts.timeoutMs ?? 480_000,
  );
  return {
    cli,
    url: () =>
      waitFor(
        `the console URL (output so far: ${cli.output()})`,
        () => /console: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(cli.output())?.[1],
        90_000,
        200,
      ),
  };
}

/** A console API call with the session token (GET without a body, POST with one). */
export async function consoleApi(
  url: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const u = new URL(url);
  const res = await fetch(`${u.origin}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-owui-chaos-token': u.searchParams.get('token')!, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

/** Ends sessions still running: SIGINT (they revert), SIGKILL after a minute. */
export async function endSessions(sessions: CliRun[]): Promise<void> {
  for (const s of sessions) {
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGINT');
      await Promise.race([s.exit, new Promise((r) => setTimeout(r, 60_000))]);
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  }
}

/** The end of a game-day test file: sessions ended, the lab stopped, the work dir removed; returns lab pids still alive. */
export async function tearDown(
  sessions: CliRun[],
  lab: TestLab | undefined,
  work: string,
): Promise<Array<{ part: string; pid: number }>> {
  await endSessions(sessions);
  const alive = await stopTestLab(lab);
  rmSync(work, { recursive: true, force: true });
  return alive;
}
