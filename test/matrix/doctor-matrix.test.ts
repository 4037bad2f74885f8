// The doctor's proof table (docs/doctor.md): for every misconfiguration of the lab's catalogue
// (`lab up --misconfig NAME`, src/lab/misconfig.ts), the check that should catch it FAILs (or
// WARNs where the guides say warn) and every other check keeps its healthy status; the healthy lab
// passes every check. Each row is a fresh 2-replica lab, measured from outside through the built
// CLI. `run`'s preflight stops (exit 4, nothing started) on the two mistakes it checks for.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckId, CheckStatus, DoctorReport } from '../../src/core/doctor/report.js';
import { labDown, labUp } from '../../src/lab/lab.js';
import { parseMisconfigs } from '../../src/lab/misconfig.js';
import { fixture, runCli, type TestLab } from '../integration/app/support.js';

type Row = Record<CheckId, CheckStatus>;

const HEALTHY: Row = {
  identity: 'pass',
  auth: 'pass',
  sse: 'pass',
  websocket: 'pass',
  cors: 'pass',
  secret: 'pass',
  delivery: 'pass',
  redis: 'pass',
  timeouts: 'pass',
  limits: 'pass',
};

/** What each misconfiguration must change in the healthy row (and nothing else). */
const EXPECTED: Record<string, Partial<Row>> = {
  healthy: {},
  buffering: { sse: 'fail' },
  // On nginx 1.22 HTTP/1.0 to the upstream alone still streams (buffering off) and still upgrades
  // (the /ws/ location forwards Upgrade): nothing to catch, and nothing may fail.
  'http1.0-upstream': {},
  // The idle-socket half of the slow check cannot run without websockets.
  'no-upgrade-headers': { websocket: 'fail', timeouts: 'skip' },
  'short-read-timeout': { timeouts: 'fail' },
  // A refused token makes the checks that need one accepted everywhere skip (naming secret).
  'secret-per-replica': { secret: 'fail', sse: 'skip', delivery: 'skip', timeouts: 'skip' },
  'pinned-redis-master': { redis: 'warn' },
  'local-websocket-manager': { delivery: 'fail' },
  'cors-mismatch': { cors: 'fail' },
};

const measured: Array<{ misconfig: string; exit: number | null; seconds: number; row: Row }> = [];

async function withLab<T>(misconfig: string, fn: (lab: TestLab) => Promise<T>): Promise<T> {
  const home = mkdtempSync(join(tmpdir(), 'owui-doctor-matrix-'));
  const name = `dr-m-${process.pid}`;
  const stateDir = join(home, 'labs', name);
  const lab: TestLab = {
    home,
    name,
    stateDir,
    env: { ...process.env, OWUI_CHAOS_HOME: home },
    state: () => {
      throw new Error('not needed');
    },
  };
  try {
    await labUp({
      name,
      stateDir,
      replicas: 2,
      ...(misconfig === 'healthy' ? {} : { misconfig: parseMisconfigs(misconfig) }),
    });
    return await fn(lab);
  } finally {
    await labDown(stateDir).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}

describe('doctor × misconfiguration', () => {
  for (const [misconfig, change] of Object.entries(EXPECTED)) {
    it(`${misconfig}: ${
      Object.keys(change).length === 0
        ? 'every check keeps its healthy status'
        : Object.entries(change)
            .map(([c, s]) => `${c} ${s}`)
            .join(', ')
    }`, async () => {
      await withLab(misconfig, async (lab) => {
        const t0 = Date.now();
        const out = await runCli(
          lab,
          [
            'doctor',
            '--lab-name',
            lab.name,
            '--slow-check',
            '--silence',
            '8s',
            '--body-size',
            '1m',
            '--json',
          ],
          180_000,
        ).exit;
        const report = JSON.parse(out.stdout) as DoctorReport;
        const row = Object.fromEntries(report.checks.map((c) => [c.id, c.status])) as Row;
        measured.push({ misconfig, exit: out.code, seconds: (Date.now() - t0) / 1000, row });
        expect(row).toEqual({ ...HEALTHY, ...change });
        const failing = Object.values(change).some((s) => s === 'fail');
        expect(out.code).toBe(failing ? 10 : 0);
        for (const c of report.checks.filter((x) => x.status === 'fail' || x.status === 'warn')) {
          expect(c.fix?.action, `${c.id} has a fix`).toBeTruthy();
          expect(c.fix?.guide.url).toMatch(/^https:\/\//);
        }
        // A skip names the failed check it waits for.
        const failed = report.checks.filter((x) => x.status === 'fail').map((x) => x.id);
        for (const c of report.checks.filter((x) => x.status === 'skip'))
          expect(
            failed.some((id) => c.summary.includes(`see ${id}`)),
            `${c.id}: ${c.summary}`,
          ).toBe(true);
      });
    });
  }

  it('run stops at its preflight (exit 4) on no-upgrade-headers and secret-per-replica, naming the fix', async () => {
    for (const [misconfig, fix] of [
      ['no-upgrade-headers', 'proxy_set_header Upgrade'],
      ['secret-per-replica', 'WEBUI_SECRET_KEY'],
    ] as const) {
      await withLab(misconfig, async (lab) => {
        const out = await runCli(
          lab,
          [
            'run',
            fixture('preflight-only'),
            '--lab-name',
            lab.name,
            '--workers',
            '0',
            '--out',
            join(lab.home, 'run'),
          ],
          180_000,
        ).exit;
        expect(out.code, `${misconfig}: ${out.stderr}`).toBe(4);
        expect(out.stderr).toContain('PREFLIGHT_CHECK_FAILED');
        expect(out.stderr).toContain(fix);
      });
    }
    // and a healthy lab gets past it
    await withLab('healthy', async (lab) => {
      const out = await runCli(
        lab,
        [
          'run',
          fixture('preflight-only'),
          '--lab-name',
          lab.name,
          '--workers',
          '0',
          '--out',
          join(lab.home, 'run'),
        ],
        180_000,
      ).exit;
      expect(out.code, out.stderr).toBe(0);
    });
  }, 600_000);

  it('prints the measured table', () => {
    const ids = Object.keys(HEALTHY);
    const lines = [
      `| misconfiguration | exit | s | ${ids.join(' | ')} |`,
      `|---|---|---|${ids.map(() => '---').join('|')}|`,
    ];
    for (const m of measured)
      lines.push(
        `| ${m.misconfig} | ${m.exit} | ${m.seconds.toFixed(1)} | ${ids.map((id) => m.row[id as CheckId].toUpperCase()).join(' | ')} |`,
      );
    console.log(lines.join('\n'));
    expect(measured.length).toBe(Object.keys(EXPECTED).length);
  });
});
