// Renders report.html in headless Chromium (Debian `chromium` via playwright-core, offline) and
// checks that the charts drew: SVG paths with real geometry in every chart, fault bands, tables.
// A full-page screenshot is saved under the test's temp dir (its path is printed).
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSamples } from '../../../src/core/report/evaluate.js';
import { writeReports } from '../../../src/core/report/write.js';
import type { Sample } from '../../../src/core/samples.js';
import { T0, journalWith, sample } from '../../unit/core/report/synthetic.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`skipped: ${CHROMIUM} not found (Debian package chromium)`);

function failoverRun(): Sample[] {
  const out: Sample[] = [];
  const hurt = (t: number): boolean => t >= T0 + 40_000 && t < T0 + 58_000;
  for (let t = T0; t < T0 + 120_000; t += 40) {
    const wave = Math.sin(t / 3000);
    out.push(
      sample('ttft', t, (hurt(t) ? 1800 : 250) + wave * 60 + (t % 997) / 5, {
        client: t % 3 ? 'api' : 'browser',
      }),
    );
    out.push(sample('itl', t, (hurt(t) ? 90 : 25) + (t % 13), { client: 'api' }));
    if (t % 200 === 0) {
      out.push(sample('e2e', t, (hurt(t) ? 9000 : 4000) + wave * 400 + (t % 1999), { client: 'api' }));
      out.push(
        sample('stream_outcome', t, 1, {
          client: 'api',
          outcome: hurt(t) && t % 1000 === 0 ? 'truncated' : 'completed',
        }),
      );
    }
  }
  for (let t = T0; t < T0 + 120_000; t += 1000) {
    out.push(sample('active_streams', t, hurt(t) ? 22 : 40 + (t % 3000) / 1000));
    out.push(
      sample('active_sockets', t, t >= T0 + 41_000 && t < T0 + 47_000 ? 8 : 20, { client: 'browser' }),
    );
    if (t >= T0 + 41_000 && t < T0 + 47_000) {
      out.push(sample('ws_reconnects', t, 2, { client: 'browser' }));
      out.push(sample('ws_reconnect_time', t, 2500 + (t % 5000) / 2, { client: 'browser' }));
      out.push(sample('http_errors', t, 1, { status: '502', endpoint: '/api/chat/completions' }));
    }
  }
  return out;
}

describe.skipIf(!haveChromium)('report.html in headless Chromium', () => {
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'owui-report-html-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    // Keep the screenshot for a human to look at when asked to.
    if (process.env['KEEP_REPORT_SCREENSHOT'] !== '1') await rm(dir, { recursive: true, force: true });
  });

  it('draws every chart with fault windows, at 1440×900, offline', async () => {
    const results = evaluateSamples(failoverRun(), {
      journal: journalWith([
        { name: 'redis-failover', action: 'redis.failover', start: T0 + 40_000, end: T0 + 46_000 },
        { name: 'kill-replica-2', action: 'replica.kill', start: T0 + 44_000, end: T0 + 58_000 },
      ]),
      slos: [
        { metric: 'ttft', stat: 'p95', lte: 1000, phases: ['baseline', 'fault', 'recovery'] },
        {
          metric: 'stream_outcome',
          stat: 'rate',
          tags: { outcome: 'completed' },
          gte: 0.99,
          phases: ['all'],
        },
        { metric: 'ws_reconnect_time', stat: 'p95', lte: 6000, phases: ['all'] },
        { metric: 'garbled_token_rate', stat: 'max', lte: 0, phases: ['all'] },
      ],
    });
    const paths = await writeReports(results, dir);
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(paths.html).href);

    const charts = await page.$$eval('svg.chart', (svgs) =>
      svgs.map((svg) => ({
        cls: svg.getAttribute('class') ?? '',
        width: svg.getBoundingClientRect().width,
        paths: [...svg.querySelectorAll('path.series')].map((p) => ({
          segments: ((p.getAttribute('d') ?? '').match(/[ML]/g) ?? []).length,
          length: (p as unknown as { getTotalLength(): number }).getTotalLength(),
        })),
        bands: svg.querySelectorAll('rect.fault-band').length,
      })),
    );
    // 3 latency + gauges + events + 3 distributions.
    expect(charts).toHaveLength(8);
    for (const chart of charts) {
      expect(chart.paths.length, chart.cls).toBeGreaterThan(0);
      expect(Math.max(...chart.paths.map((p) => p.segments)), chart.cls).toBeGreaterThan(5);
      expect(Math.max(...chart.paths.map((p) => p.length)), chart.cls).toBeGreaterThan(100);
      expect(chart.width, chart.cls).toBeGreaterThan(300);
    }
    for (const chart of charts.filter((c) => !c.cls.includes('distribution')))
      expect(chart.bands, chart.cls).toBe(2);

    // Fits the laptop screen: nothing overflows horizontally.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.locator('.slo-table .v-breach').count()).toBeGreaterThan(0);
    expect(await page.locator('.slo-table .v-no-data').count()).toBeGreaterThan(0);
    expect(requests).toEqual([]);

    const screenshot = join(dir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect((await stat(screenshot)).size).toBeGreaterThan(50_000);
    console.log(`report screenshot: ${screenshot}`);
    await page.close();
  });
});
