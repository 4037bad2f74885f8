// The load of a game day changed live on a real lab: 4 API VUs raised to 12 through the console's
// API — the active streams the engine reports rise — then lowered to 2 (the extra VUs finish and
// stop); the browser clients stay connected across both changes (no reconnect, same socket count)
// and follow their own change (2 → 4). Negative controls: a bad value, a kind the plan does not
// run and an unknown field are refused with a 400 naming the field, and the load is unchanged.
// Each change is in the journal and in report.html.

/* eslint-disable @typescript-eslint/no-explicit-any -- the console's JSON answers are read field by field */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestLab, waitFor, type CliRun, type TestLab } from '../app/support.js';
import { consoleApi as api, startGameday, tearDown } from './support.js';

const PLAN = resolve('test/fixtures/experiments/gameday/live-load.yaml');
let lab: TestLab | undefined;
let work: string;
const sessions: CliRun[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'owui-gd-load-'));
  lab = await startTestLab('gd-load');
}, 180_000);

afterAll(async () => {
  expect(await tearDown(sessions, lab, work)).toEqual([]);
}, 180_000);

describe('gameday: the load changed live', () => {
  let url: string;
  let cli: CliRun;
  const runDir = (): string => join(work, 'session');
  const state = async (): Promise<any> => (await api(url, '/api/state')).body;
  /** The engine's active streams, stable for 3 consecutive progress ticks within [lo, hi]. */
  const streamsWithin = (lo: number, hi: number, what: string): Promise<number> => {
    let streak = 0;
    return waitFor(
      `${what}: active streams within [${lo}, ${hi}]`,
      async () => {
        const p = (await state()).progress;
        streak = p && p.activeStreams >= lo && p.activeStreams <= hi ? streak + 1 : 0;
        return streak >= 3 ? (p.activeStreams as number) : undefined;
      },
      60_000,
      1000,
    );
  };

  beforeAll(async () => {
    const s = startGameday(lab!, runDir(), { duration: '5m', extra: ['--plan', PLAN] });
    sessions.push(s.cli);
    cli = s.cli;
    url = await s.url();
  }, 120_000);

  it('starts at the plan’s load: 4 API streams, 2 browser clients', async () => {
    expect((await state()).load).toEqual({ chatVus: 4, socketVus: 2 });
    await streamsWithin(3, 6, 'the plan’s 4 VUs');
    await waitFor(
      '2 joined sockets',
      async () => ((await state()).progress?.activeSockets === 2 ? true : undefined),
      60_000,
      500,
    );
  }, 120_000);

  it('refuses bad values with a 400 naming the field, and leaves the load as it was', async () => {
    const bad = [
      [{ chatVus: -1 }, 'chatVus'],
      [{ chatVus: 2.5 }, 'chatVus'],
      [{ chatVus: 100_000 }, 'chatVus'],
      [{ socketVus: 'many' }, 'socketVus'],
      [{ chatVus: 5, extra: 1 }, ''],
      [{}, ''],
    ] as const;
    for (const [body, field] of bad) {
      const r = await api(url, '/api/load', body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.code).toBe('INVALID_LOAD');
      if (field) expect(r.body.error.issues.map((i: any) => i.path)).toContain(field);
    }
    // A rate for a closed-model plan: the plan cannot take it.
    const kind = await api(url, '/api/load', { chatRate: 5 });
    expect(kind.status).toBe(400);
    expect(kind.body.error.code).toBe('LOAD_CHANGE_KIND');
    expect(kind.body.error.message).toMatch(/chatRate/);
    // Without the token header: refused before anything is read.
    const u = new URL(url);
    const anon = await fetch(`${u.origin}/api/load?token=${u.searchParams.get('token')}`, {
      method: 'POST',
      body: JSON.stringify({ chatVus: 12 }),
    });
    expect(anon.status).toBe(403);
    const s = await state();
    expect(s.load).toEqual({ chatVus: 4, socketVus: 2 });
    expect(s.loadChanges).toEqual([]);
    await streamsWithin(3, 6, 'still the plan’s 4 VUs');
  }, 120_000);

  it('raises 4 → 12 API VUs: the active streams rise; the sockets stay connected', async () => {
    const r = await api(url, '/api/load', { chatVus: 12 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.change).toMatchObject({
      by: 'console',
      before: { chatVus: 4, socketVus: 2 },
      after: { chatVus: 12, socketVus: 2 },
    });
    await streamsWithin(10, 14, 'raised to 12 VUs');
    const s = await state();
    expect(s.progress.activeSockets).toBe(2);
    expect(s.totals.reconnects).toBe(0);
  }, 120_000);

  it('lowers to 2 API VUs (the extra ones finish and stop) and raises the browser clients 2 → 4', async () => {
    expect((await api(url, '/api/load', { chatVus: 2 })).status).toBe(200);
    await streamsWithin(1, 3, 'lowered to 2 VUs');
    expect((await api(url, '/api/load', { socketVus: 4 })).status).toBe(200);
    await waitFor(
      '4 joined sockets',
      async () => ((await state()).progress?.activeSockets === 4 ? true : undefined),
      60_000,
      500,
    );
    const s = await state();
    expect(s.load).toEqual({ chatVus: 2, socketVus: 4 });
    expect(s.loadChanges).toHaveLength(3);
    expect(s.totals.reconnects).toBe(0);
  }, 180_000);

  it('journals every change and lists them in report.html', async () => {
    expect((await api(url, '/api/finish', {})).status).toBe(200);
    const exit = await cli.exit;
    expect(exit.code, exit.stderr).not.toBeNull();
    const journal = JSON.parse(readFileSync(join(runDir(), 'journal.json'), 'utf8'));
    expect(
      journal.loadChanges.map((c: any) => [c.by, c.before.chatVus, c.after.chatVus, c.after.socketVus]),
    ).toEqual([
      ['console', 4, 12, 2],
      ['console', 12, 2, 2],
      ['console', 2, 2, 4],
    ]);
    for (const c of journal.loadChanges) expect(c.at).toBeGreaterThan(journal.startedAt);
    const html = readFileSync(join(runDir(), 'report.html'), 'utf8');
    expect(html).toContain('Load changes during the game day');
    expect(html).toContain('12 API VUs');
    expect(exit.stdout + exit.stderr).toMatch(
      /load changed \(console\): 4 API VUs, 2 browser clients → 12 API VUs, 2 browser clients/,
    );
  }, 180_000);
});
