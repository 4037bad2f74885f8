// capacity.html in headless Chromium (Debian `chromium` via playwright-core, offline): the page
// renders one line per sweep in every chart (the minus-one one dashed), the knee markers, the
// table; and the lines really reach the screen — the judged-latency chart is rasterised in the page
// and each sweep's colour is counted in its pixels. A full-page screenshot is kept in the temp dir
// (printed) when KEEP_REPORT_SCREENSHOT=1.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderCapacityHtml } from '../../../src/core/capacity/html.js';
import {
  CAPACITY_SCHEMA_VERSION,
  type CapacityDocument,
  type CapacityStep,
} from '../../../src/core/capacity/result.js';
import { summarise } from '../../../src/core/capacity/run-sweep.js';
import { measureStep } from '../../../src/core/capacity/step.js';
import { DEFAULT_SWEEP } from '../../../src/core/capacity/sweep.js';
import type { Sample } from '../../../src/core/samples.js';
import type { SloSpec } from '../../../src/core/slo/spec.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`skipped: ${CHROMIUM} not found (Debian package chromium)`);

const SLOS: SloSpec[] = [
  { metric: 'ttft', stat: 'p95', lte: 400, phases: ['all'] },
  { metric: 'stream_outcome', stat: 'rate', tags: { outcome: 'completed' }, gte: 0.99, phases: ['all'] },
];
const T0 = 1_700_000_000_000;

/** A step at `load` against a target whose capacity is `knee`: queueing grows above it. */
function step(index: number, load: number, knee: number): CapacityStep {
  const samples: Sample[] = [];
  const rho = load / knee;
  for (let k = 0; k * (1000 / load) < 5000; k++) {
    const intended = T0 + k * (1000 / load);
    const ttft = 40 + (k % 7) * 3 + Math.max(0, rho - 1) * (intended - T0);
    samples.push({ metric: 'ttft', timeMs: intended + ttft, value: ttft, tags: { client: 'api' } });
    const outcome = rho > 1.3 && k % 9 === 0 ? 'truncated' : 'completed';
    samples.push({
      metric: 'stream_outcome',
      timeMs: intended + ttft + 300,
      value: 1,
      tags: { client: 'api', outcome },
    });
  }
  const window = { startMs: T0 + 1000, endMs: T0 + 4000, deadlineMs: T0 + 5000 };
  const measurement = measureStep({
    samples,
    window,
    arrivals: { ratePerSecond: load, anchorMs: T0 },
    slos: SLOS,
  });
  return {
    index,
    load,
    reason: index === 0 ? 'start' : 'bisect',
    verdict: measurement.verdict,
    stoppedEarly: false,
    startedAt: T0,
    durationMs: 5000,
    lag: { p99Ms: 12, maxMs: 20, limitMs: 100 },
    missedStarts: 0,
    measurement,
  };
}

function sweep(replicas: number, minusOne: boolean, knee: number) {
  const loads = [0.5, 0.8, 0.95, 1.2, 1.6].map((f) => Number((f * knee).toPrecision(3)));
  const steps = loads.map((l, i) => step(i, l, knee));
  const pass = steps.filter((s) => s.verdict === 'pass').map((s) => s.load);
  const fail = steps.filter((s) => s.verdict === 'fail').map((s) => s.load);
  return summarise(
    { replicas, minusOne },
    steps,
    { status: 'found', knee: Math.max(...pass), firstFail: Math.min(...fail), steps: steps.length },
    SLOS,
    25_000,
  );
}

function document(): CapacityDocument {
  return {
    schemaVersion: CAPACITY_SCHEMA_VERSION,
    generatedAt: T0,
    target: { name: 'lab', url: 'http://127.0.0.1:8080', kind: 'lab' },
    client: 'api',
    tokens: 10,
    slos: SLOS,
    sweep: { ...DEFAULT_SWEEP, startLoad: 1, maxLoad: 200 },
    timing: { warmupMs: 1000, measureMs: 3000, tailMs: 1000 },
    expectedKnees: { '1': 7.5, '2': 15, '3': 22.5 },
    sweeps: [sweep(1, false, 7.5), sweep(2, false, 15), sweep(3, false, 22.5), sweep(3, true, 15)],
    status: 'complete',
    durationMs: 100_000,
  };
}

describe.skipIf(!haveChromium)('capacity.html in headless Chromium', () => {
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'owui-capacity-html-'));
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
    if (process.env['KEEP_REPORT_SCREENSHOT'] !== '1') await rm(dir, { recursive: true, force: true });
  });

  it('draws one line per sweep in every chart, marks every knee, and the lines reach the pixels', async () => {
    const doc = document();
    // The synthetic sweeps must have the knees they were built with (else the page shows nothing useful).
    expect(doc.sweeps.map((s) => s.result.knee)).toEqual([7.13, 14.3, 21.4, 14.3]);
    const file = join(dir, 'capacity.html');
    await writeFile(file, renderCapacityHtml(doc));
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);

    const charts = await page.$$eval('svg.chart-capacity', (svgs) =>
      svgs.map((svg) => ({
        cls: svg.getAttribute('class') ?? '',
        width: svg.getBoundingClientRect().width,
        lines: [...svg.querySelectorAll('path.series')].map((p) => ({
          name: p.getAttribute('data-series'),
          dashed: p.getAttribute('stroke-dasharray') !== null,
          length: (p as unknown as { getTotalLength(): number }).getTotalLength(),
        })),
        knees: [...svg.querySelectorAll('rect.fault-band title')].map((t) => t.textContent),
      })),
    );
    expect(charts).toHaveLength(4);
    for (const c of charts) {
      expect(c.width, c.cls).toBeGreaterThan(400);
      const sweeps = c.lines.filter((l) => l.name !== 'objective');
      expect(
        sweeps.map((l) => l.name),
        c.cls,
      ).toEqual(['1 replica', '2 replicas', '3 replicas', '3 replicas, 1 down']);
      expect(
        sweeps.map((l) => l.dashed),
        c.cls,
      ).toEqual([false, false, false, true]);
      for (const l of sweeps) expect(l.length, `${c.cls} ${l.name}`).toBeGreaterThan(50);
      expect(c.knees, c.cls).toEqual([
        'knee 1: 7.13/s',
        'knee 2: 14.3/s',
        'knee 3: 21.4/s',
        'knee 3−1: 14.3/s',
      ]);
    }
    expect(charts[0]!.lines.some((l) => l.name === 'objective')).toBe(true);

    // Rasterise the judged chart in the page and count each sweep's colour.
    // (A string, so this file needs no DOM types.)
    const colours = await page.evaluate<Record<string, number>>(`(async () => {
      const svg = document.querySelector('svg.chart-judged');
      const rect = svg.getBoundingClientRect();
      const img = new Image();
      const xml = new XMLSerializer().serializeToString(svg);
      img.src = \`data:image/svg+xml;base64,\${btoa(unescape(encodeURIComponent(xml)))}\`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = Math.round(rect.width);
      canvas.height = Math.round(rect.height);
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const want = {
        '#2563eb': [0x25, 0x63, 0xeb],
        '#059669': [0x05, 0x96, 0x69],
        '#f59e0b': [0xf5, 0x9e, 0x0b],
      };
      const counts = {};
      for (const [name, [r, g, b]] of Object.entries(want)) {
        let n = 0;
        for (let i = 0; i < data.length; i += 4)
          if (
            Math.abs(data[i] - r) < 24 &&
            Math.abs(data[i + 1] - g) < 24 &&
            Math.abs(data[i + 2] - b) < 24
          )
            n++;
        counts[name] = n;
      }
      return counts;
        })()`);
    for (const [colour, n] of Object.entries(colours)) expect(n, colour).toBeGreaterThan(60);

    // The table: computed beside found, and no request left the page (self-contained).
    const rows = await page.$$eval('table.knees tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows).toHaveLength(4);
    expect(rows[0]).toContain('7.5/s');
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);

    const screenshot = join(dir, 'capacity.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect((await stat(screenshot)).size).toBeGreaterThan(40_000);
    console.log(`capacity screenshot: ${screenshot}`);
    await page.close();
  });
});
