// capacity.html: one self-contained offline page (inline CSS + inline SVG from ../report/svg.ts, no
// scripts) rendered from capacity.json alone. Latency percentiles and error rate against offered
// load, one line per replica count (the minus-one sweep dashed, in its replica count's colour),
// each knee marked; then the table, the recommendation and every step. Data strings are escaped.

import { formatDuration } from '../clock.js';
import { decodeHistogram } from '../report/histogram.js';
import { escapeXml } from '../report/junit.js';
import { legend, lineChart, niceTicks, zeroBasedAxis, type Band, type LineSeries } from '../report/svg.js';
import {
  capacityRows,
  formatLoad,
  type CapacityDocument,
  type CapacityStep,
  type CapacitySweep,
} from './result.js';
import { primarySlo } from './step.js';

const COLORS = ['#2563eb', '#059669', '#f59e0b', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

function colorOf(doc: CapacityDocument, s: CapacitySweep): string {
  const counts = [...new Set(doc.sweeps.map((x) => x.replicas))].sort((a, b) => a - b);
  return COLORS[counts.indexOf(s.replicas) % COLORS.length] ?? COLORS[0]!;
}

function histPercentile(step: CapacityStep, metric: string, p: number): number | undefined {
  const h = step.measurement.histograms.find(
    (x) => x.metric === metric && x.phase === 'all' && x.client === 'all',
  );
  if (!h) return undefined;
  const hist = decodeHistogram(h.encoded);
  return hist.totalCount > 0 ? hist.getValueAtPercentile(p) / h.scale : undefined;
}

function errorRate(step: CapacityStep): number | undefined {
  const o = step.measurement.outcomes;
  const judged = Object.entries(o)
    .filter(([k]) => k !== 'cancelled')
    .reduce((a, [, v]) => a + v, 0);
  if (judged === 0) return undefined;
  return 1 - (o.completed ?? 0) / judged;
}

/** One point per load: the worst of its valid runs (the sweep accepts a load only if all pass). */
function points(
  s: CapacitySweep,
  value: (st: CapacityStep) => number | undefined | null,
): Array<[number, number]> {
  const byLoad = new Map<number, number>();
  for (const st of s.steps) {
    if (st.verdict === 'invalid') continue;
    const v = value(st);
    if (v === undefined || v === null || !Number.isFinite(v)) continue;
    byLoad.set(st.load, Math.max(byLoad.get(st.load) ?? Number.NEGATIVE_INFINITY, v));
  }
  return [...byLoad.entries()].sort((a, b) => a[0] - b[0]);
}

function chart(
  doc: CapacityDocument,
  title: string,
  note: string,
  cls: string,
  value: (st: CapacityStep) => number | undefined | null,
  format: (v: number) => string,
  objective?: number,
): string {
  const unit = doc.unit ?? 'chats/s';
  const series: LineSeries[] = doc.sweeps.map((s) => ({
    name: s.label,
    color: colorOf(doc, s),
    points: points(s, value),
    dashed: s.minusOne,
    width: 2,
  }));
  const maxLoad = Math.max(1, ...doc.sweeps.flatMap((s) => s.steps.map((st) => st.load)));
  const maxY = Math.max(objective ?? 0, ...series.flatMap((s) => s.points.map((p) => p[1])));
  if (objective !== undefined) {
    series.push({
      name: 'objective',
      color: '#9ca3af',
      points: [
        [0, objective],
        [maxLoad * 1.05, objective],
      ],
      dashed: true,
      width: 1,
    });
  }
  const bands: Band[] = doc.sweeps
    .filter((s) => s.result.knee !== null)
    .map((s) => ({
      x0: s.result.knee!,
      x1: s.result.knee!,
      label: `knee ${s.replicas}${s.minusOne ? '−1' : ''}: ${formatLoad(s.result.knee!, unit)}`,
      color: colorOf(doc, s),
    }));
  const svg = lineChart({
    className: `chart-capacity ${cls}`,
    series,
    bands,
    x: {
      min: 0,
      max: maxLoad * 1.05,
      ticks: niceTicks(0, maxLoad * 1.05, 6),
      format: (v) => (unit === 'users' ? `${v}` : `${v}/s`),
    },
    y: zeroBasedAxis(maxY, format),
    width: 560,
    height: 280,
    xLabel:
      unit === 'users'
        ? `connected users (each chatting every ${formatDuration(doc.chatIntervalMs ?? 0)}, ${doc.browserSchedule === 'closed' ? 'closed loop' : 'open schedule'})`
        : 'offered load (chats per second, open model)',
  });
  return `<section class="card"><h2>${escapeXml(title)}</h2><p class="note">${escapeXml(note)}</p>${svg}</section>`;
}

export function renderCapacityHtml(doc: CapacityDocument): string {
  const unit = doc.unit ?? 'chats/s';
  const primary = primarySlo(doc.slos);
  const judged = (st: CapacityStep): number | null =>
    st.measurement.slos.find((r) => primary && r.metric === primary.metric && r.stat === primary.stat)
      ?.measured ?? null;
  const ms = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);
  const rows = capacityRows(doc);
  const table = `<table class="knees"><thead><tr><th>replicas</th><th>knee</th>${doc.expectedKnees ? '<th>computed</th>' : ''}<th>throughput at knee</th><th>first SLO to break</th><th>status</th><th>steps</th><th>time</th></tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr><td>${escapeXml(r.label)}</td><td class="num">${r.knee === null ? '—' : formatLoad(r.knee, unit)}</td>${doc.expectedKnees ? `<td class="num">${r.expected === undefined ? '—' : formatLoad(r.expected, unit)}</td>` : ''}<td class="num">${r.throughput === null ? '—' : `${r.throughput.toFixed(2)}/s`}</td><td>${escapeXml(r.firstBreach)}</td><td>${escapeXml(r.status)}</td><td class="num">${r.steps}</td><td class="num">${escapeXml(formatDuration(r.durationMs))}</td></tr>`,
    )
    .join('')}</tbody></table>`;
  const steps = doc.sweeps
    .map(
      (s) =>
        `<h3>${escapeXml(s.label)}${s.downReplica ? ` (${escapeXml(s.downReplica)} down)` : ''}</h3><table class="steps"><thead><tr><th>#</th><th>load</th><th>why</th><th>verdict</th><th>${escapeXml(primary ? `${primary.metric} ${primary.stat}` : 'primary')}</th><th>samples / arrivals</th><th>half spread</th><th>generator lag p99</th><th>note</th></tr></thead><tbody>${s.steps
          .map((st) => {
            const p = st.measurement.slos.find(
              (r) => primary && r.metric === primary.metric && r.stat === primary.stat,
            );
            const c = st.measurement.confidence;
            return `<tr class="verdict-${st.verdict}"><td>${st.index + 1}</td><td class="num">${formatLoad(st.load, unit)}</td><td>${escapeXml(st.reason)}</td><td>${escapeXml(st.verdict)}</td><td class="num">${p?.measured == null ? '—' : `${p.censored ? '≥ ' : ''}${ms(p.measured)}`}</td><td class="num">${c.samples} / ${c.expected}</td><td class="num">${c.halfSpread === null ? '—' : `${Math.round(c.halfSpread * 100)} %`}</td><td class="num">${st.lag.p99Ms.toFixed(1)} ms</td><td>${escapeXml(st.note ?? '')}</td></tr>`;
          })
          .join('')}</tbody></table>`,
    )
    .join('');
  const legendHtml = legend(
    doc.sweeps.map((s) => ({ name: s.label, color: colorOf(doc, s), dashed: s.minusOne })),
  );
  const objective = primary?.lte;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>owui-chaos capacity — ${escapeXml(doc.target.name)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111827;background:#f9fafb}
h1{font-size:20px;margin:0 0 4px}h2{font-size:14px;margin:0 0 4px}h3{font-size:13px;margin:18px 0 6px}
.note{color:#6b7280;font-size:12px;margin:0 0 8px}.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px;margin:16px 0}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px}
table{border-collapse:collapse;font-size:12px;background:#fff}td,th{border:1px solid #e5e7eb;padding:4px 8px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict-fail td{background:#fef2f2}.verdict-invalid td{background:#fefce8;color:#6b7280}
.legend{display:flex;gap:14px;font-size:12px;margin:4px 0 8px}.legend-item{display:inline-flex;align-items:center;gap:5px}
.swatch{display:inline-block;width:18px;height:0;border-top:2px solid var(--c)}.swatch.dashed{border-top-style:dashed}
.recommendation{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:10px 12px;font-size:13px}
svg.chart{width:100%;height:auto}
</style></head><body>
<h1>Capacity of ${escapeXml(doc.target.name)} (${escapeXml(doc.target.url)})</h1>
<p class="note">${escapeXml(`${doc.client} clients${doc.browserShare !== undefined ? ` (${Math.round(doc.browserShare * 100)} % browser)` : ''}, ${doc.tokens} tokens per chat, ${unit === 'users' ? `load in connected users, each chatting every ${formatDuration(doc.chatIntervalMs ?? 0)} (${doc.browserSchedule === 'closed' ? 'closed loop' : 'open schedule'})` : 'open model'}; each step ${formatDuration(doc.timing.warmupMs)} warm-up + ${formatDuration(doc.timing.measureMs)} measured + ${formatDuration(doc.timing.tailMs)} tail; SLOs: ${doc.slos.map((s) => `${s.metric} ${s.stat} ${s.lte !== undefined ? `≤ ${s.lte}` : `≥ ${s.gte}`}`).join(', ')}; status ${doc.status}; ${formatDuration(doc.durationMs)} in total`)}</p>
${doc.recommendation ? `<div class="recommendation">${escapeXml(doc.recommendation.text)}</div>` : ''}
${legendHtml}
<div class="grid">
${chart(doc, `${primary ? `${primary.metric} ${primary.stat}` : 'primary SLO'} (judged)`, 'Censored: an arrival that never got its first token counts as slower than the step tail (≥).', 'chart-judged', judged, ms, objective)}
${chart(doc, 'ttft p50 / answered streams', 'Median time to first token of the streams that answered in the window.', 'chart-p50', (st) => histPercentile(st, 'ttft', 50), ms)}
${chart(doc, 'ttft p99 / answered streams', 'Tail of the answered streams.', 'chart-p99', (st) => histPercentile(st, 'ttft', 99), ms)}
${chart(doc, 'error rate', 'Streams that did not complete (our own cancellations at the step end excluded).', 'chart-errors', errorRate, (v) => `${(v * 100).toFixed(0)} %`)}
</div>
${table}
${steps}
</body></html>
`;
}
