// `gameday --annotate prometheus`: fault windows and notes as series on the real /metrics endpoint
// (prom-client over HTTP): a fault is 1 while injected and 0 after; with no fault no series is at
// 1 (the negative control); every dashboard's annotation query reads the series served here.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusMetrics } from '../../../src/app/prometheus-metrics.js';

const opened: PrometheusMetrics[] = [];
afterEach(async () => {
  for (const m of opened.splice(0)) await m.close();
});

async function scrape(): Promise<{ m: PrometheusMetrics; text: () => Promise<string> }> {
  const m = new PrometheusMetrics('run-1');
  opened.push(m);
  const url = await m.listen({ host: '127.0.0.1', port: 0 });
  return { m, text: async () => (await fetch(url)).text() };
}

const active = (text: string): string[] =>
  text.split('\n').filter((l) => l.startsWith('owui_chaos_fault_active{'));

describe('--annotate prometheus series', () => {
  it('a fault is 1 while injected and 0 once reverted; notes are counted', async () => {
    const { m, text } = await scrape();
    m.faultInjected('slow-llm', 'toxic.latency');
    expect(active(await text())).toEqual([
      'owui_chaos_fault_active{fault="slow-llm",action="toxic.latency",run="run-1"} 1',
    ]);
    m.noted('hypothesis');
    m.noted('observation');
    m.faultReverted('slow-llm', 'toxic.latency');
    const after = await text();
    expect(active(after)).toEqual([
      'owui_chaos_fault_active{fault="slow-llm",action="toxic.latency",run="run-1"} 0',
    ]);
    expect(after).toContain('owui_chaos_notes_total{kind="hypothesis",run="run-1"} 1');
    expect(after).toContain('owui_chaos_notes_total{kind="observation",run="run-1"} 1');
  });

  it('negative control: no fault, no series at 1', async () => {
    const { text } = await scrape();
    expect(active(await text()).filter((l) => l.endsWith(' 1'))).toEqual([]);
  });

  it('every dashboard has the annotation query on that series', () => {
    for (const f of ['owui-chaos-k6.json', 'nginx.json', 'redis-sentinel.json']) {
      const d = JSON.parse(readFileSync(new URL(`../../../dashboards/${f}`, import.meta.url), 'utf8')) as {
        annotations: { list: Array<{ expr?: string; datasource?: { type?: string } }> };
      };
      const q = d.annotations.list.find((a) => a.expr?.includes('owui_chaos_fault_active'));
      expect(q, f).toMatchObject({ datasource: { type: 'prometheus' } });
    }
  });
});
