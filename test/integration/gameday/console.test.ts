// The game-day console end to end: `owui-chaos gameday` on a real lab, driven by Debian's Chromium
// through playwright-core (fresh profile, offline flags). What is checked is what a person sees or
// an operator can observe from outside: the page refuses a browser without the token, its charts
// fill every second, a latency toxic injected from the form shows up in Toxiproxy, as an open
// band and as higher ttft; a note lands in the journal and the report; reverting closes the band
// and removes the toxic. Then a second session is SIGKILLed mid-fault and `owui-chaos rollback`
// must restore the lab (toxic removed, killed replica back).

/* eslint-disable @typescript-eslint/no-explicit-any -- the console's JSON answers and the page's
   `window.__gd` are read field by field in the assertions below */
import { request } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  replicaHealth,
  runCli,
  startTestLab,
  toxiproxyClean,
  toxiproxyProxies,
  waitFor,
  type CliRun,
  type TestLab,
} from '../app/support.js';
import { consoleApi, startGameday, tearDown } from './support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
const SHOTS = join(ROOT, '.owui-chaos');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let lab: TestLab | undefined;
let work: string;
const contexts: BrowserContext[] = [];
const sessions: CliRun[] = [];

async function browser(): Promise<BrowserContext> {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(work, 'profile-')), {
    executablePath: CHROMIUM,
    args: FLAGS,
    viewport: { width: 1600, height: 1300 },
  });
  contexts.push(ctx);
  return ctx;
}

/** Starts `gameday` and resolves with its console URL and run directory once it prints them. */
async function startSession(
  outDir: string,
  duration = '6m',
): Promise<{ cli: CliRun; url: string; runDir: string }> {
  const s = startGameday(lab!, outDir, { duration });
  sessions.push(s.cli);
  return { cli: s.cli, url: await s.url(), runDir: outDir };
}

const api = consoleApi;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'owui-gd-ui-'));
  mkdirSync(SHOTS, { recursive: true });
  lab = await startTestLab('gd-ui');
}, 180_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  expect(await tearDown(sessions, lab, work)).toEqual([]);
}, 180_000);

describe('the game-day console in Chromium', () => {
  let url: string;
  let runDir: string;
  let cli: CliRun;
  let page: Page;
  let injectedAt: number;
  let baselineTtft: number;

  beforeAll(async () => {
    ({ url, runDir, cli } = await startSession(join(work, 'session-1')));
  }, 120_000);

  it('refuses a browser without the token, with a wrong token, and a foreign Host', async () => {
    const ctx = await browser();
    const p = await ctx.newPage();
    const origin = new URL(url).origin;
    const bare = await p.goto(`${origin}/`);
    expect(bare?.status()).toBe(403);
    expect(await p.textContent('body')).toMatch(/needs the session token/);
    const wrong = await p.goto(`${origin}/?token=not-the-token`);
    expect(wrong?.status()).toBe(403);
    expect((await fetch(`${origin}/api/state`)).status).toBe(403);
    // DNS rebinding: the right token under another Host name is refused too.
    const status = await new Promise<number>((res, rej) => {
      const u = new URL(url);
      const req = request(
        {
          host: '127.0.0.1',
          port: u.port,
          path: `/${u.search}`,
          headers: { host: `evil.example:${u.port}` },
        },
        (r) => {
          r.resume();
          res(r.statusCode ?? 0);
        },
      );
      req.on('error', rej);
      req.end();
    });
    expect(status).toBe(421);
    await p.close();
  });

  it('opens and draws live charts every second', async () => {
    const ctx = await browser();
    page = await ctx.newPage();
    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    // Five uPlot charts, each with a canvas.
    await page.waitForSelector('.uplot canvas');
    expect(await page.locator('.uplot canvas').count()).toBe(5);
    await page.waitForFunction(() => (globalThis as any).__gd.points.length >= 6, undefined, {
      timeout: 60_000,
    });
    const drawn = await page.evaluate(() => {
      const gd = (globalThis as any).__gd;
      return {
        ttftPoints: gd.charts[0].chart.data[1].filter((v: number | null) => v !== null).length,
        xs: gd.charts[0].chart.data[0].length,
        updates: gd.updates,
      };
    });
    expect(drawn.xs).toBeGreaterThanOrEqual(6);
    expect(drawn.ttftPoints).toBeGreaterThan(2);
    // It keeps updating.
    const before = drawn.updates;
    await page.waitForFunction((n) => (globalThis as any).__gd.updates >= n + 2, before, { timeout: 15_000 });
    baselineTtft = median(
      await page.evaluate(() =>
        (globalThis as any).__gd.points.map((p: any) => p.ttft_p50).filter((v: number | null) => v !== null),
      ),
    );
    expect(baselineTtft).toBeGreaterThan(0);
    expect(baselineTtft).toBeLessThan(1500);
  });

  it('shows the file-style error for an invalid fault and injects nothing', async () => {
    await page.selectOption('#action', 'toxic.latency');
    await page.fill('#params input[name=proxy]', 'llm');
    await page.fill('#params input[name=latency]', '');
    await page.click('#inject');
    await page.waitForFunction(
      () => (globalThis as any).document.getElementById('inject-errors').textContent.length > 0,
    );
    expect(await page.textContent('#inject-errors')).toMatch(/params\.latency.*is missing/);
    expect((await toxiproxyClean(lab!.state())).toxics).toEqual([]);
  });

  it('injects a latency toxic from the form: Toxiproxy has it, its band opens and ttft rises', async () => {
    await page.fill('#inject-form input[name=name]', 'slow-llm');
    await page.fill('#params input[name=latency]', '1500');
    injectedAt = Date.now();
    await page.click('#inject');
    await page.waitForSelector('#windows li[data-name="slow-llm"][data-state="open"]', { timeout: 30_000 });
    await page.waitForSelector('.active-fault');
    const llm = (await toxiproxyProxies(lab!.state())).find((p) => p.name === 'llm')!;
    // The toxic carries the session's run tag (docs/safety.md), as `run`'s do.
    expect(llm.toxics.map((t) => [t.name, t.type, t.attributes.latency])).toEqual([
      [expect.stringMatching(/^owui-chaos-slow-llm--run-[0-9a-f]{8}$/), 'latency', 1500],
    ]);
    // ttft of chats started after the injection rises by about the injected latency.
    const during = await waitFor(
      'ttft p50 to rise by ≥ 1 s after the injection',
      async () => {
        const vals: number[] = await page.evaluate(
          (t0) =>
            (globalThis as any).__gd.points
              .filter((p: any) => p.t >= t0 + 3000 && p.ttft_p50 !== null)
              .map((p: any) => p.ttft_p50),
          injectedAt,
        );
        return vals.length >= 3 && median(vals) > baselineTtft + 1000 ? median(vals) : undefined;
      },
      90_000,
      1000,
    );
    expect(during).toBeGreaterThan(baselineTtft + 1000);
    await page.screenshot({ path: join(SHOTS, 'gameday-console-mid-fault.png'), fullPage: true });
  });

  it('writes a note into the journal, tied to the fault injected now', async () => {
    await page.selectOption('#note-kind', 'observation');
    await page.fill('#note-text', 'ttft rose by about 1.5 s; streams kept completing');
    await page.click('#add-note');
    await page.waitForSelector('.note-observation');
    expect(await page.textContent('#notes')).toMatch(/\[slow-llm\].*ttft rose by about 1\.5 s/);
    const state = await api(url, '/api/state');
    expect(state.body.notes).toEqual([
      expect.objectContaining({
        kind: 'observation',
        faults: ['slow-llm'],
        text: expect.stringMatching(/^ttft rose/),
      }),
    ]);
    await page.screenshot({ path: join(SHOTS, 'gameday-console-note.png'), fullPage: true });
  });

  it('judges a hypothesis written with a check on the page (the fault in breaks it)', async () => {
    await page.selectOption('#note-kind', 'hypothesis');
    await page.fill('#note-text', 'chats start within 100 ms even now');
    await page.click('#check-box summary');
    await page.selectOption('#check-metric', 'ttft');
    await page.selectOption('#check-stat', 'p50');
    await page.selectOption('#check-op', 'lte');
    await page.fill('#check-value', '100');
    await page.fill('#check-during', 'slow-llm');
    await page.click('#add-note');
    const row = await page.waitForSelector('tr.hypothesis[data-verdict="broken"]', { timeout: 60_000 });
    expect(await row.textContent()).toMatch(/chats start within 100 ms.*ttft p50 ≤ 100 in slow-llm.*broken/);
    await page.screenshot({ path: join(SHOTS, 'gameday-console-hypothesis.png'), fullPage: true });
  });

  it('refuses, with the safety rule, a second replica down beyond maxUnavailable', async () => {
    const r = await api(url, '/api/inject', { action: 'replica.kill', params: { count: 2 } });
    expect(r.status).toBe(400);
    expect(r.body.error.issues[0].message).toMatch(/safety\.maxUnavailable/);
    expect(Object.values(await replicaHealth(lab!.state())).every((h) => h.health === '200')).toBe(true);
  });

  it('reverts from the page: the band closes and the toxic is gone', async () => {
    await page.click('button.revert[data-name="slow-llm"]');
    await page.waitForSelector('#windows li[data-name="slow-llm"][data-state="closed"]', { timeout: 30_000 });
    expect(await toxiproxyClean(lab!.state())).toEqual({ disabled: [], toxics: [] });
    expect(await page.textContent('#active')).toBe('nothing');
    await page.screenshot({ path: join(SHOTS, 'gameday-console-reverted.png'), fullPage: true });
  });

  it('changes the load from the form: a bad value names the field, 8 → 12 VUs raises the streams and draws a marker', async () => {
    await page.waitForSelector('#load-chatVus');
    await page.fill('#load-chatVus', '-2');
    await page.click('#load-apply');
    await page.waitForFunction(
      () => (globalThis as any).document.getElementById('load-errors').textContent.length > 0,
    );
    expect(await page.textContent('#load-errors')).toMatch(/chatVus/);
    expect((await api(url, '/api/state')).body.load).toEqual({ chatVus: 8, socketVus: 8 });
    await page.fill('#load-chatVus', '12');
    await page.click('#load-apply');
    await page.waitForFunction(() => (globalThis as any).__gd.loadChanges.length === 1, undefined, {
      timeout: 30_000,
    });
    expect(await page.textContent('#load-errors')).toBe('');
    expect(await page.textContent('#load-now')).toMatch(/12 API VUs/);
    // Socket chats add a few streams of their own: 12 API VUs put the total at 11 or more.
    await waitFor(
      'active streams ≥ 11 after raising to 12 VUs',
      async () => ((await api(url, '/api/state')).body.progress.activeStreams >= 11 ? true : undefined),
      60_000,
      1000,
    );
    const s = (await api(url, '/api/state')).body;
    expect(s.progress.activeSockets).toBe(8);
    expect(s.totals.reconnects).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'gameday-console-load-change.png'), fullPage: true });
  });

  it('ends on request and writes results.json, report.html (with the note) and junit.xml', async () => {
    expect((await api(url, '/api/finish', {})).status).toBe(200);
    const exit = await cli.exit;
    expect(exit.code, exit.stdout + exit.stderr).not.toBeNull();
    for (const f of ['results.json', 'report.html', 'junit.xml', 'journal.json', 'reverts.json'])
      expect(existsSync(join(runDir, f)), f).toBe(true);
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8'));
    expect(results.faults.map((f: any) => f.name)).toEqual(['slow-llm']);
    expect(results.journal.notes[0].text).toMatch(/^ttft rose/);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).toMatch(/Game-day notes beside the fault windows/);
    expect(html).toMatch(/ttft rose by about 1\.5 s/);
    expect(html).toMatch(/Load changes during the game day/);
    const stack = JSON.parse(readFileSync(join(runDir, 'reverts.json'), 'utf8'));
    expect(stack.entries.map((e: any) => [e.name, e.status])).toEqual([['slow-llm', 'reverted']]);
  });
});

describe('a game day killed mid-fault', () => {
  it('leaves its faults on the persisted stack, and `rollback` restores the lab', async () => {
    const { cli, url, runDir } = await startSession(join(work, 'session-2'));
    const toxic = await api(url, '/api/inject', {
      name: 'slow-llm-2',
      action: 'toxic.latency',
      params: { proxy: 'llm', latency: 800 },
    });
    expect(toxic.status, JSON.stringify(toxic.body)).toBe(200);
    const kill = await api(url, '/api/inject', {
      name: 'kill-1',
      action: 'replica.kill',
      params: { replica: 'owui-1' },
    });
    expect(kill.status, JSON.stringify(kill.body)).toBe(200);
    cli.child.kill('SIGKILL');
    await cli.exit;
    // Still injected after the crash, as an operator sees it.
    expect((await toxiproxyClean(lab!.state())).toxics).toEqual([
      expect.stringMatching(/^llm\/owui-chaos-slow-llm-2--run-[0-9a-f]{8}$/),
    ]);
    expect((await replicaHealth(lab!.state()))['owui-1']!.alive).toBe(false);
    const stack = JSON.parse(readFileSync(join(runDir, 'reverts.json'), 'utf8'));
    expect(stack.entries.map((e: any) => [e.name, e.status])).toEqual([
      ['slow-llm-2', 'pending'],
      ['kill-1', 'pending'],
    ]);

    const rollback = runCli(lab!, ['rollback', '--run', runDir], 120_000);
    const done = await rollback.exit;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toMatch(/Rolled back 2 fault/);
    expect(await toxiproxyClean(lab!.state())).toEqual({ disabled: [], toxics: [] });
    const health = await replicaHealth(lab!.state());
    expect(Object.entries(health).map(([n, h]) => [n, h.health])).toEqual([
      ['owui-1', '200'],
      ['owui-2', '200'],
    ]);
    // A second rollback finds nothing to do.
    const again = await runCli(lab!, ['rollback', '--run', runDir], 60_000).exit;
    expect(again.stdout).toMatch(/Nothing to roll back/);
  }, 300_000);
});
