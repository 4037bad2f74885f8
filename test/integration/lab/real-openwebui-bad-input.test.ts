// Bad input for the real Open WebUI lab fails at once, naming the step and the fix, and leaves
// nothing behind: a version that is not installed, a version PyPI does not have, docker mode, and
// a replica that crashes at start (after Postgres and Redis are up, so `lab down` has everything
// to clean up).

import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, PreflightError } from '../../../src/core/errors.js';
import { labPids, labPorts, labUp } from '../../../src/lab/lab.js';
import {
  DEFAULT_OPENWEBUI_VERSION,
  findOpenWebui,
  installOpenWebui,
} from '../../../src/lab/openwebui/install.js';
import { isAlive, sleep, tcpOpen } from '../../../src/infra/process/daemon.js';
import { readLabState } from '../../../src/infra/lab-state.js';

const home = mkdtempSync(join(tmpdir(), 'owui-real-bad-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function processesIn(dir: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/cwd`).startsWith(dir) && isAlive(Number(e))) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

async function rejection(p: Promise<unknown>): Promise<PreflightError> {
  try {
    await p;
  } catch (err) {
    return err as PreflightError;
  }
  throw new Error('expected a rejection');
}

describe('real Open WebUI lab: bad input', () => {
  it('a version that is not installed fails before anything starts, naming the install command', async () => {
    const stateDir = join(home, 'labs', 'not-installed');
    const started = Date.now();
    const err = await rejection(
      labUp({ name: 'not-installed', stateDir, openwebui: 'real', openwebuiVersion: '0.0.1' }),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err.code).toBe('OPENWEBUI_NOT_INSTALLED');
    expect(err.exitCode).toBe(ExitCode.preflightFailed);
    expect(err.message).toContain('Open WebUI 0.0.1 is not installed');
    expect(err.suggestions).toContain('owui-chaos lab install --openwebui-version 0.0.1');
    expect(readLabState(stateDir)).toBeUndefined();
  });

  it('a version string that is not a release is a usage error', async () => {
    const err = await rejection(
      labUp({
        name: 'bad-v',
        stateDir: join(home, 'labs', 'bad-v'),
        openwebui: 'real',
        openwebuiVersion: 'latest',
      }),
    );
    expect(err.code).toBe('OPENWEBUI_VERSION_INVALID');
    expect(err.exitCode).toBe(ExitCode.usage);
  });

  it('docker mode for real replicas is refused with the process-mode command', async () => {
    const err = await rejection(
      labUp({ name: 'd', stateDir: join(home, 'labs', 'd'), openwebui: 'real', replicasIn: 'docker' }),
    );
    expect(err.code).toBe('LAB_REAL_DOCKER_UNSUPPORTED');
    expect(err.exitCode).toBe(ExitCode.usage);
  });

  it('installing a version PyPI does not have fails in the pip step, says so, and leaves no half venv', async () => {
    const cache = join(home, 'cache');
    const err = await rejection(
      installOpenWebui('9.9.9', { env: { ...process.env, OWUI_CHAOS_CACHE: cache } }),
    );
    expect(err.code).toBe('LAB_INSTALL_FAILED');
    expect(err.message).toMatch(
      /^Could not install open-webui==9\.9\.9 from PyPI: .*no version of open-webui==9\.9\.9/,
    );
    expect(err.suggestions.join('\n')).toContain('--openwebui-version');
    expect(readdirSync(join(cache, 'openwebui'))).toEqual([]);
  }, 60_000);

  describe.skipIf(!findOpenWebui(DEFAULT_OPENWEBUI_VERSION))('with Open WebUI installed', () => {
    it('a replica that crashes at start fails `lab up` with its last log lines, and everything is cleaned up', async () => {
      const name = 'crash';
      const stateDir = join(home, 'labs', name);
      const progress: string[] = [];
      let recorded: ReturnType<typeof readLabState>;
      const err = await rejection(
        labUp({
          name,
          stateDir,
          replicas: 2,
          openwebui: 'real',
          // Open WebUI refuses a database it does not support at import time.
          replicaEnv: { DATABASE_URL: 'mysql://nobody@127.0.0.1:1/none' },
          onProgress: (m) => {
            progress.push(m);
            recorded ??= m.startsWith('starting Open WebUI') ? readLabState(stateDir) : undefined;
          },
        }),
      );
      expect(err.code).toBe('LAB_PART_UNHEALTHY');
      expect(err.message).toMatch(/Open WebUI replica owui-1 did not become ready .*exited/);
      expect(String((err.cause as Error).message)).toMatch(
        /last log lines of owui-1:\n[\s\S]*(Error|Traceback)/,
      );
      expect(err.suggestions[0]).toMatch(/tail -n 80 .*owui-1\.log/);
      // The second replica was never started: replica 1 failed first.
      expect(progress.some((m) => m.includes('owui-2'))).toBe(false);
      // lab up cleaned up what it started: Postgres, Redis, Toxiproxy, mock LLM.
      expect(recorded?.postgres).toBeDefined();
      const pids = labPids(recorded!).map((p) => p.pid);
      for (let i = 0; i < 50 && pids.some((p) => isAlive(p)); i++) await sleep(100);
      expect(pids.filter((p) => isAlive(p))).toEqual([]);
      expect(processesIn(stateDir)).toEqual([]);
      const open: number[] = [];
      for (const port of labPorts(recorded!)) if (await tcpOpen(port)) open.push(port);
      expect(open).toEqual([]);
      expect(readLabState(stateDir)).toBeUndefined();
    }, 300_000);
  });
});
