import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSamples } from '../../../../src/core/report/evaluate.js';
import { renderHtml } from '../../../../src/core/report/html.js';
import { renderJunit } from '../../../../src/core/report/junit.js';
import type { RunResults } from '../../../../src/core/report/results.js';
import { renderTerminalSummary } from '../../../../src/core/report/terminal.js';
import { readResults, writeReports } from '../../../../src/core/report/write.js';
import { T0, journalWith, sample, ttftSeries } from './synthetic.js';

const run = promisify(execFile);
const XSD = join(import.meta.dirname, '../../../fixtures/reports/junit.xsd');
const HOSTILE = `kill <script>alert("x")</script> & 'co'`;

function hostileResults(): RunResults {
  const samples = [
    ...ttftSeries(T0, T0 + 60_000, (t) => (t >= T0 + 20_000 && t < T0 + 30_000 ? 900 : 100)),
    sample('http_errors', T0 + 21_000, 1, { status: '502', endpoint: '/api/<chat>&"x"' }),
  ];
  const journal = journalWith([{ name: HOSTILE, start: T0 + 20_000, end: T0 + 30_000 }]);
  journal.activities.push({
    name: 'probe',
    kind: 'probe',
    startedAt: T0 + 1,
    endedAt: T0 + 2,
    status: 'failed',
    error: '</td><img src=x onerror=alert(1)>\u0001',
  });
  return evaluateSamples(samples, {
    journal,
    slos: [
      {
        metric: 'ttft',
        stat: 'p95',
        lte: 500,
        phases: ['baseline', HOSTILE, 'recovery'],
        description: '<b>fast</b>',
      },
      { metric: 'ws_reconnect_time', stat: 'p95', lte: 6000, phases: ['all'] },
      { metric: 'stream_outcome', stat: 'rate', tags: { outcome: 'completed' }, gte: 0.99, phases: ['all'] },
    ],
    now: () => 0,
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'owui-report-render-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('junit.xml', () => {
  const results = hostileResults();
  const xml = renderJunit(results);

  it('has a run case, then one testcase per SLO × phase: breaches and gating no-data as failures', () => {
    expect(xml.match(/<testcase /g)).toHaveLength(results.slos.length + 1);
    expect(xml).toMatch(/<testcase name="run outcome" classname="owui-chaos.run"/);
    expect(xml).toMatch(/<failure message="measured 900 ms, objective ≤ 500 ms"/);
    expect(xml).toMatch(/<failure message="no data: no samples; a gating SLO without data fails/);
    expect(xml).toContain(`tests="${results.slos.length + 1}" failures="2" errors="0" skipped="0"`);
    expect(xml).not.toContain('<script>');
  });

  it('validates against the Jenkins/Surefire JUnit schema (xmllint)', async (ctx) => {
    if (!existsSync('/usr/bin/xmllint')) {
      console.warn('skipped: xmllint is not installed (Debian package libxml2-utils)');
      ctx.skip();
    }
    const paths = await writeReports(results, dir);
    const { stderr } = await run('xmllint', ['--noout', '--schema', XSD, paths.junit]);
    expect(stderr).toContain('validates');
  });

  it('the schema really rejects a malformed report (the validation can fail)', async (ctx) => {
    if (!existsSync('/usr/bin/xmllint')) ctx.skip();
    const bad = join(dir, 'bad-junit.xml');
    await (
      await import('node:fs/promises')
    ).writeFile(bad, xml.replace('<testcase ', '<testcase bogus="1" '));
    await expect(run('xmllint', ['--noout', '--schema', XSD, bad])).rejects.toThrow();
  });
});

describe('terminal summary', () => {
  const results = hostileResults();

  it('has a table per phase, recovery times, counts and paths, without colour by default', () => {
    const text = renderTerminalSummary(results, {
      paths: { resultsJson: '/r/results.json', html: '/r/report.html', junit: '/r/junit.xml' },
    });
    expect(text).toContain('Phase baseline');
    expect(text).toMatch(/metric\s+stat\s+objective\s+measured\s+verdict/);
    expect(text).toMatch(/ttft\s+p95\s+≤ 500 ms\s+900 ms\s+BREACH/);
    expect(text).toMatch(/Recovery time/);
    expect(text).toMatch(/HTTP errors: 1 \(502/);
    expect(text).toContain('report:  /r/report.html');
    expect(text).toMatch(/BREACH: 1 of \d+ SLO checks breached, 1 without data .* exit 10/);
    expect(text).not.toContain('\u001b[');
  });

  it('colours only when asked', () => {
    expect(renderTerminalSummary(results, { color: true })).toContain('\u001b[31mBREACH');
  });
});

describe('report.html', () => {
  const results = hostileResults();
  const html = renderHtml(results);

  it('is self-contained: no external script, stylesheet, font or image', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/(src|href)=["']?https?:/i);
    expect(html).not.toMatch(/@import|url\(/i);
  });

  it('escapes every string from data', () => {
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>fast</b>');
    expect(html).toContain('kill &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;co&apos;');
    expect(html).toContain('/api/&lt;chat&gt;&amp;&quot;x&quot;');
  });

  it('draws the charts and the fault windows', () => {
    expect(html.match(/<path class="series"/g)?.length ?? 0).toBeGreaterThan(5);
    expect(html.match(/class="fault-band"/g)?.length ?? 0).toBeGreaterThanOrEqual(5);
    expect(html).toContain('Metric definitions');
    expect(html).toContain('request start (intended start in the open model)');
  });

  it('round-trips through results.json: the stored document renders the same report', async () => {
    const paths = await writeReports(results, join(dir, 'rt'));
    const back = await readResults(join(dir, 'rt'));
    expect(renderHtml(back)).toBe(await readFile(paths.html, 'utf8'));
  });
});

describe('recovery without a recovery SLO', () => {
  const results = evaluateSamples(
    ttftSeries(T0, T0 + 60_000, () => 100),
    {
      journal: journalWith([{ name: 'slow', start: T0 + 20_000, end: T0 + 30_000 }]),
      slos: [{ metric: 'ttft', stat: 'p95', lte: 500, phases: ['slow'] }],
      now: () => 0,
    },
  );

  it('is "not evaluated" rather than "did not recover"', () => {
    expect(results.recovery[0]).toMatchObject({ fault: 'slow', recovered: false, evaluated: false });
    const text = renderTerminalSummary(results);
    expect(text).toContain('not evaluated');
    expect(text).not.toContain('did not recover');
    const html = renderHtml(results);
    expect(html).toContain('not evaluated');
    expect(html).not.toContain('did not recover');
  });
});
