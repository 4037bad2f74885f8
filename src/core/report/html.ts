// report.html: ONE self-contained file that works offline — inline CSS and inline SVG drawn here,
// no scripts or fonts from anywhere. Rendered from `results.json` alone, so `report show` can
// re-render old runs. Every string that comes from data (names, tags, errors, journal output) is
// escaped. Laid out for a 1440×900 laptop screen: key figures, then charts in a 3-column grid,
// then the tables.

import { formatDuration } from '../clock.js';
import { METRICS, isMetricName } from '../metrics.js';
import { formatObjective, formatSeconds, formatValue, selectorLabel } from './format.js';
import { escapeXml } from './junit.js';
import type { MetricPhaseSummary, RunResults, SeriesPoint } from './results.js';
import { legend, lineChart, niceTicks, zeroBasedAxis, type Axis, type Band, type LineSeries } from './svg.js';
import { sloFails, verdictText } from './outcome.js';
import { verdictLabel } from './terminal.js';

export const escapeHtml = escapeXml;

const PCT_COLORS = { p50: '#2563eb', p95: '#f59e0b', p99: '#dc2626' } as const;
const PHASE_COLORS = ['#059669', '#dc2626', '#f97316', '#a855f7', '#db2777', '#0891b2', '#65a30d'];

interface TimeFrame {
  origin: number;
  end: number;
  axis: Axis;
  bands: Band[];
}

function timeFrame(results: RunResults): TimeFrame {
  const origin = results.run.startedAt ?? results.input.firstSampleAt ?? 0;
  const lastSample = results.input.lastSampleAt ?? origin;
  const end = Math.max(origin + 1000, lastSample + 1000, ...results.faults.map((f) => f.end));
  const spanS = (end - origin) / 1000;
  const ticks = niceTicks(0, spanS, 6).map((s) => origin + s * 1000);
  return {
    origin,
    end,
    axis: { min: origin, max: end, ticks, format: (t) => `${Math.round((t - origin) / 1000)} s` },
    bands: results.faults.map((f) => ({ x0: f.start, x1: f.end, label: f.name })),
  };
}

function seriesOf(results: RunResults, metric: string): SeriesPoint[] {
  return results.series[metric] ?? [];
}

function latencyChart(results: RunResults, frame: TimeFrame, metric: string): string {
  const points = seriesOf(results, metric);
  const lines: LineSeries[] = (['p50', 'p95', 'p99'] as const).map((p) => ({
    name: `${metric} ${p}`,
    color: PCT_COLORS[p],
    maxGap: 2500,
    points: points.filter((pt) => pt[p] !== undefined).map((pt) => [pt.t + 500, pt[p] ?? 0]),
  }));
  const max = Math.max(0, ...points.map((p) => p.p99 ?? 0));
  return card(
    `${metric} over time`,
    definitionOf(metric),
    legend((['p50', 'p95', 'p99'] as const).map((p) => ({ name: p, color: PCT_COLORS[p] }))) +
      lineChart({
        className: `chart-latency chart-${metric}`,
        series: lines,
        bands: frame.bands,
        x: frame.axis,
        y: zeroBasedAxis(max, (v) => formatValue(metric, v)),
        xLabel: 'time since start',
      }),
  );
}

/** Counter series filled with zeros for seconds without events, so quiet periods read as 0. */
function perSecondSums(points: SeriesPoint[], frame: TimeFrame): Array<[number, number]> {
  const bySecond = new Map(points.map((p) => [p.t, p.sum]));
  const out: Array<[number, number]> = [];
  const first = Math.floor(frame.origin / 1000) * 1000;
  for (let t = first, i = 0; t < frame.end && i < 200_000; t += 1000, i++)
    out.push([t + 500, bySecond.get(t) ?? 0]);
  return out;
}

function gaugeChart(results: RunResults, frame: TimeFrame): string {
  const defs = [
    { metric: 'active_streams', color: '#2563eb', name: 'active streams' },
    { metric: 'active_sockets', color: '#059669', name: 'active sockets' },
  ];
  const series: LineSeries[] = defs.map((d) => ({
    name: d.name,
    color: d.color,
    maxGap: 2500,
    points: seriesOf(results, d.metric).map((p) => [p.t + 500, p.mean]),
  }));
  const max = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
  return card(
    'Streams and sockets over time',
    'mean of the per-second gauge samples',
    legend(defs) +
      lineChart({
        className: 'chart-gauges',
        width: 700,
        height: 220,
        series,
        bands: frame.bands,
        x: frame.axis,
        y: zeroBasedAxis(max, (v) => String(Math.round(v))),
        xLabel: 'time since start',
      }),
  );
}

function eventsChart(results: RunResults, frame: TimeFrame): string {
  const defs = [
    { metric: 'ws_reconnects', color: '#7c3aed', name: 'socket reconnects / s' },
    { metric: 'ws_disconnects', color: '#a3a3a3', name: 'socket disconnects / s', dashed: true },
    { metric: 'http_errors', color: '#dc2626', name: 'HTTP errors / s' },
  ];
  const series: LineSeries[] = defs.map((d) => ({
    name: d.name,
    color: d.color,
    dashed: d.dashed ?? false,
    points: perSecondSums(seriesOf(results, d.metric), frame),
  }));
  const max = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
  return card(
    'Reconnects and errors over time',
    'events per second',
    legend(defs) +
      lineChart({
        className: 'chart-events',
        width: 700,
        height: 220,
        series,
        bands: frame.bands,
        x: frame.axis,
        y: zeroBasedAxis(max, (v) => String(Number(v.toFixed(1)))),
        xLabel: 'time since start',
      }),
  );
}

/** x = "nines": 0 → 0 %, 1 → 90 %, 2 → 99 %, 3 → 99.9 %, 4 → 99.99 %. */
function nines(p: number): number {
  return p >= 100 ? 4.3 : -Math.log10(1 - p / 100);
}

function distributionChart(results: RunResults, metric: string): string {
  const phases = distributionPhases(results);
  const entries = phases
    .map((phase, i) => ({
      phase,
      color: PHASE_COLORS[i % PHASE_COLORS.length] ?? '#333',
      summary: results.summary.find((s) => s.metric === metric && s.phase === phase && s.client === 'all'),
    }))
    .filter(
      (e): e is { phase: string; color: string; summary: MetricPhaseSummary } =>
        e.summary?.distribution !== undefined,
    );
  const series: LineSeries[] = entries.map((e) => ({
    name: `${metric} ${e.phase}`,
    color: e.color,
    points: (e.summary.distribution ?? []).filter((d) => d.p < 100).map((d) => [nines(d.p), d.value]),
  }));
  const max = Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1])));
  const labels: Record<number, string> = { 0: '0%', 1: '90%', 2: '99%', 3: '99.9%', 4: '99.99%' };
  return card(
    `${metric} percentiles per phase`,
    'HDR histogram percentile curve; x axis in "nines"',
    legend(entries.map((e) => ({ name: e.phase, color: e.color }))) +
      lineChart({
        className: `chart-distribution chart-dist-${metric}`,
        series,
        x: { min: 0, max: 4.15, ticks: [0, 1, 2, 3, 4], format: (v) => labels[v] ?? '' },
        y: zeroBasedAxis(max, (v) => formatValue(metric, v)),
        xLabel: 'percentile',
      }),
  );
}

function distributionPhases(results: RunResults): string[] {
  const names = results.phases.map((p) => p.name);
  // The union `fault` and `all` repeat the other curves; show them only when there is nothing else.
  const specific = names.filter((n) => n !== 'fault' && n !== 'all');
  return specific.length > 0 ? specific : names;
}

function definitionOf(metric: string): string {
  return isMetricName(metric) ? METRICS[metric].definition : '';
}

function card(title: string, subtitle: string, body: string, className = ''): string {
  return `<section class="card ${className}"><h3>${escapeHtml(title)}</h3>${subtitle ? `<p class="sub">${escapeHtml(subtitle)}</p>` : ''}${body}</section>`;
}

function table(headers: string[], rows: string[][], className = ''): string {
  return `<table class="${className}"><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const td = (text: string, cls = ''): string => `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(text)}</td>`;

function sloTable(results: RunResults): string {
  if (results.slos.length === 0) return '<p class="muted">No SLOs were given.</p>';
  const rows = results.slos.map((s) => [
    td(s.phase),
    td(selectorLabel(s.slo)),
    td(s.slo.stat),
    td(formatObjective(s.slo), 'num'),
    td(formatValue(s.slo.metric, s.measured, s.slo.stat), 'num'),
    td(String(s.samples), 'num'),
    `<td><span class="verdict v-${s.verdict}">${escapeHtml(verdictLabel(s.verdict))}</span></td>`,
    td(s.note ?? s.slo.description ?? '', 'muted'),
  ]);
  return table(
    ['phase', 'metric', 'stat', 'objective', 'measured', 'samples', 'verdict', 'note'],
    rows,
    'slo-table',
  );
}

function percentileTable(results: RunResults): string {
  const metrics = ['ttft', 'itl', 'e2e', 'tpot', 'ws_reconnect_time'].filter((m) =>
    results.summary.some((s) => s.metric === m),
  );
  const rows: string[][] = [];
  for (const metric of metrics) {
    for (const phase of results.phases.map((p) => p.name)) {
      const s = results.summary.find((x) => x.metric === metric && x.phase === phase && x.client === 'all');
      if (!s) continue;
      rows.push([
        td(metric),
        td(phase),
        td(String(s.count), 'num'),
        ...(['p50', 'p90', 'p95', 'p99', 'p99.9'] as const).map((p) => td(formatValue(metric, s[p]), 'num')),
        td(formatValue(metric, s.max), 'num'),
      ]);
    }
  }
  if (rows.length === 0) return '<p class="muted">No latency samples.</p>';
  return table(['metric', 'phase', 'samples', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'], rows);
}

function recoveryTable(results: RunResults, origin: number): string {
  if (results.recovery.length === 0) return '<p class="muted">No fault was injected in this run.</p>';
  return table(
    ['fault', 'action', 'injected', 'reverted', 'time to impact', 'recovery time', 'note'],
    results.recovery.map((r) => [
      td(r.fault),
      td(r.action),
      td(`+${formatSeconds(r.injectedAt - origin)}`, 'num'),
      td(`+${formatSeconds(r.revertedAt - origin)}`, 'num'),
      td(
        r.evaluated === false || r.timeToImpactMs === undefined
          ? '–'
          : r.timeToImpactMs === null
            ? 'no impact'
            : formatSeconds(r.timeToImpactMs),
        'num',
      ),
      r.recovered && r.recoveryTimeMs !== null
        ? td(formatSeconds(r.recoveryTimeMs), 'num')
        : r.evaluated === false
          ? td('not evaluated', 'num muted')
          : r.reason === 'observation-too-short'
            ? td('not measured', 'num muted')
            : `<td class="num"><span class="verdict v-breach">never recovered</span></td>`,
      td(r.note ?? '', 'muted'),
    ]),
  );
}

function countsTable(results: RunResults): string {
  const outcomes = Object.keys(results.counts.streams);
  const rows = results.phases.map((p) => {
    const c = results.counts.byPhase[p.name];
    return [
      td(p.name),
      ...outcomes.map((o) => td(String(c?.streams[o] ?? 0), 'num')),
      td(String(c?.reconnects ?? 0), 'num'),
      td(String(c?.disconnects ?? 0), 'num'),
      td(String(c?.missedDone ?? 0), 'num'),
      td(String(c?.httpErrors ?? 0), 'num'),
    ];
  });
  const errors =
    results.counts.httpErrorsBy.length === 0
      ? '<p class="muted">No HTTP errors.</p>'
      : table(
          ['status', 'endpoint', 'count'],
          results.counts.httpErrorsBy.map((e) => [td(e.status), td(e.endpoint), td(String(e.count), 'num')]),
        );
  return (
    table(
      [
        'phase',
        ...outcomes.map((o) => `streams ${o}`),
        'reconnects',
        'disconnects',
        'missed done',
        'HTTP errors',
      ],
      rows,
    ) + `<h4>HTTP errors by status and endpoint</h4>${errors}`
  );
}

function journalTable(results: RunResults, origin: number): string {
  const j = results.journal;
  if (!j) return '<p class="muted">No journal: the samples were reported on directly, as one phase.</p>';
  const head = `<p class="muted">run ${escapeHtml(j.runId)} · ${escapeHtml(j.experiment.title)} · target ${escapeHtml(j.target.name)} ${escapeHtml(
    j.target.url,
  )} · engine ${escapeHtml(j.engine)} · status ${escapeHtml(j.status)}${j.deviated ? ' · deviated' : ''}</p>`;
  return (
    head +
    table(
      ['activity', 'kind', 'action', 'start', 'duration', 'status', 'error / output'],
      j.activities.map((a) => [
        td(a.name),
        td(a.kind),
        td(a.action ?? ''),
        td(`+${formatSeconds(a.startedAt - origin)}`, 'num'),
        td(formatDuration(Math.max(0, a.endedAt - a.startedAt)), 'num'),
        `<td><span class="status s-${escapeHtml(a.status)}">${escapeHtml(a.status)}</span></td>`,
        td(a.error ?? (a.output === undefined ? '' : truncate(JSON.stringify(a.output), 300)), 'muted mono'),
      ]),
    )
  );
}

/**
 * Game days (DESIGN §9): each fault window with the notes that belong to it — hypotheses written in
 * the two minutes before it began, and every note written while it was injected — then any others.
 */
function notesTable(results: RunResults, origin: number): string {
  const notes = results.journal?.notes ?? [];
  const at = (t: number): string => `+${formatSeconds(t - origin)}`;
  const line = (n: (typeof notes)[number]): string =>
    `<div class="note-${escapeHtml(n.kind)}"><span class="muted">${escapeHtml(at(n.at))}</span> <b>${escapeHtml(n.kind)}</b>: ${escapeHtml(n.text)}</div>`;
  const used = new Set<number>();
  const rows = results.faults.map((f) => {
    const mine = notes.filter(
      (n, i) =>
        (n.faults.includes(f.name) ||
          (n.kind === 'hypothesis' && n.at <= f.start && n.at >= f.start - 120_000)) &&
        used.add(i) !== undefined,
    );
    return [
      td(f.name),
      td(f.action, 'mono'),
      td(`${at(f.start)} → ${at(f.end)}`, 'num'),
      `<td>${mine.map(line).join('') || '<span class="muted">no notes</span>'}</td>`,
    ];
  });
  const others = notes.filter((_, i) => !used.has(i));
  if (others.length > 0)
    rows.push([td('(no fault)'), td(''), td(''), `<td>${others.map(line).join('')}</td>`]);
  return table(['fault', 'action', 'window', 'notes (hypotheses before, observations during)'], rows);
}

/** Game days: each live load change with its time and the load before and after. */
function loadChangesTable(results: RunResults, origin: number): string {
  const level = (l: { chatVus?: number; chatRate?: number; socketVus?: number }): string =>
    [
      ...(l.chatVus !== undefined ? [`${l.chatVus} API VUs`] : []),
      ...(l.chatRate !== undefined ? [`${l.chatRate}/s API chats`] : []),
      ...(l.socketVus !== undefined ? [`${l.socketVus} browser clients`] : []),
    ].join(', ');
  const rows = (results.journal?.loadChanges ?? []).map((c) => [
    td(`+${formatSeconds(c.at - origin)}`, 'num'),
    td(c.by),
    td(level(c.before)),
    td(level(c.after)),
  ]);
  return table(['at', 'by', 'before', 'after'], rows);
}

/** Game days: each hypothesis with its checks and verdict (no data is never shown as held). */
function hypothesesTable(results: RunResults): string {
  const v = { held: 'pass', broken: 'breach', 'no-data': 'no-data', pending: 'no-data' } as const;
  const rows = (results.journal?.hypotheses ?? []).map((h) => [
    td(`${h.source === 'plan' ? '(plan) ' : ''}${h.text}`),
    td(
      h.checks
        .map(
          (c) =>
            `${c.check} in ${c.phase}: ${c.measured === null ? '–' : String(Math.round(c.measured * 1000) / 1000)}`,
        )
        .join('; ') || '–',
      'mono',
    ),
    `<td><span class="verdict v-${v[h.verdict]}">${escapeHtml(h.verdict === 'no-data' ? 'no data' : h.verdict)}</span></td>`,
    td(h.reason, 'muted'),
  ]);
  return table(['hypothesis', 'checks (measured)', 'verdict', 'why'], rows);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function definitionsTable(results: RunResults): string {
  return table(
    ['metric', 'kind', 'unit', 'definition'],
    results.metrics.map((m) => [td(m.name, 'mono'), td(m.kind), td(m.unit), td(m.definition)]),
  );
}

/** The run's one outcome in words; a run that stopped early says why (same text as junit/terminal). */
function outcomeBanner(results: RunResults): string {
  const stops = results.stops
    .map(
      (st) =>
        `<li><b>${escapeHtml(st.reason)}</b> (${escapeHtml(st.code)}): ${escapeHtml(st.message)}${st.suggestions
          .map((x) => `<br><code>${escapeHtml(x)}</code>`)
          .join('')}</li>`,
    )
    .join('');
  const causes = (results.diagnoses ?? [])
    .map(
      (d) =>
        `<li><b>${escapeHtml(d.cause)}</b><br>seen: ${escapeHtml(d.symptom)}<br>fix: <code>${escapeHtml(d.fix)}</code></li>`,
    )
    .join('');
  return `<div class="outcome ${results.exitCode === 0 ? 'good' : 'bad'}"><p><b>${escapeHtml(verdictText(results.verdict))}</b>: ${escapeHtml(results.headline)} → exit ${results.exitCode}</p>${stops ? `<p>Stopped early:</p><ul>${stops}</ul>` : ''}${causes ? `<p>Likely causes:</p><ul>${causes}</ul>` : ''}</div>`;
}

function keyFigures(results: RunResults): string {
  const met = results.slos.filter((s) => s.verdict === 'pass').length;
  const failing = results.slos.filter((s) => sloFails(s)).length;
  const streams = Object.values(results.counts.streams).reduce((a, b) => a + b, 0);
  const completed = results.counts.streams['completed'] ?? 0;
  // Faults without a recovery SLO were not measured; they neither recover nor fail to.
  const measuredRecovery = results.recovery.filter((r) => r.evaluated !== false);
  const recovered = measuredRecovery.filter((r) => r.recovered);
  const worst = recovered.length > 0 ? Math.max(...recovered.map((r) => r.recoveryTimeMs ?? 0)) : null;
  const figures: Array<[string, string, string]> = [
    [
      'verdict',
      `${verdictText(results.verdict)} → exit ${results.exitCode}`,
      results.exitCode === 0 ? 'good' : 'bad',
    ],
    ['SLO checks', `${met} / ${results.slos.length} met`, failing ? 'bad' : 'good'],
    [
      'streams completed',
      streams ? `${completed} / ${streams}` : '—',
      streams && completed < streams ? 'warn' : '',
    ],
    ['socket reconnects', String(results.counts.reconnects), ''],
    ['HTTP errors', String(results.counts.httpErrors), results.counts.httpErrors ? 'warn' : ''],
    [
      'recovery time (worst)',
      measuredRecovery.length === 0
        ? '—'
        : recovered.length < measuredRecovery.length
          ? 'never recovered'
          : formatSeconds(worst ?? 0),
      recovered.length < measuredRecovery.length ? 'bad' : '',
    ],
  ];
  return `<div class="figures">${figures
    .map(
      ([k, v, cls]) =>
        `<div class="figure ${cls}"><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div></div>`,
    )
    .join('')}</div>`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;background:#f3f4f6}
header{background:#111827;color:#f9fafb;padding:14px 28px;display:flex;align-items:baseline;gap:18px;flex-wrap:wrap}
header h1{font-size:19px;margin:0;font-weight:600}
header .meta{color:#9ca3af;font-size:12.5px}
main{max-width:1400px;margin:0 auto;padding:16px 20px 40px}
h2{font-size:16px;margin:26px 4px 10px;color:#374151}
h3{font-size:14px;margin:0 0 2px}
h4{font-size:13px;margin:14px 0 6px;color:#374151}
.sub{margin:0 0 4px;color:#6b7280;font-size:11.5px;min-height:16px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.figures{display:grid;grid-template-columns:repeat(6,1fr);gap:12px}
.figure{background:#fff;border-radius:10px;padding:10px 14px;box-shadow:0 1px 2px rgba(0,0,0,.06);border-left:4px solid #d1d5db}
.figure .k{color:#6b7280;font-size:11.5px;text-transform:uppercase;letter-spacing:.04em}
.figure .v{font-size:20px;font-weight:600;margin-top:2px}
.figure.good{border-left-color:#10b981}.figure.bad{border-left-color:#ef4444}.figure.warn{border-left-color:#f59e0b}
.figure.bad .v{color:#b91c1c}
.grid{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:14px}
.grid.two{grid-template-columns:repeat(2,minmax(0,1fr))}
.card{background:#fff;border-radius:10px;padding:12px 14px 8px;box-shadow:0 1px 2px rgba(0,0,0,.06);min-width:0}
.chart{width:100%;height:auto;display:block}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:11.5px;color:#374151;margin:2px 0}
.legend-item{display:inline-flex;align-items:center;gap:5px}
.swatch{display:inline-block;width:16px;height:3px;background:var(--c);border-radius:2px}
.swatch.dashed{background:repeating-linear-gradient(90deg,var(--c) 0 4px,transparent 4px 7px)}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
.tablecard{background:#fff;border-radius:10px;padding:8px 14px 12px;box-shadow:0 1px 2px rgba(0,0,0,.06);overflow-x:auto}
th{text-align:left;font-weight:600;color:#4b5563;border-bottom:1px solid #e5e7eb;padding:6px 10px;font-size:12px;white-space:nowrap}
td{border-bottom:1px solid #f3f4f6;padding:5px 10px;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.muted,.muted{color:#6b7280}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all}
.outcome{margin:10px 0;padding:8px 14px;border-radius:8px;border:1px solid #d1d5db}.outcome.bad{border-color:#dc2626;background:#fef2f2}.outcome.good{border-color:#16a34a;background:#f0fdf4}
.verdict{display:inline-block;padding:1px 8px;border-radius:999px;font-size:11.5px;font-weight:600;white-space:nowrap}
.v-pass{background:#d1fae5;color:#065f46}.v-breach{background:#fee2e2;color:#991b1b}.v-no-data{background:#fef3c7;color:#92400e}
.status{font-size:12px}.s-failed{color:#b91c1c;font-weight:600}.s-succeeded{color:#047857}.s-skipped{color:#6b7280}
footer{color:#9ca3af;font-size:11.5px;text-align:center;margin-top:28px}
`;

export function renderHtml(results: RunResults): string {
  const frame = timeFrame(results);
  const title = results.run.title ?? 'owui-chaos report';
  const meta = [
    results.run.runId ? `run ${results.run.runId}` : '',
    results.run.target ? `target ${results.run.target}` : '',
    results.run.engine ? `engine ${results.run.engine}` : '',
    results.input.firstSampleAt !== null
      ? new Date(results.input.firstSampleAt)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' UTC')
      : '',
    `${results.input.samples} samples`,
  ].filter(Boolean);
  const latency = ['ttft', 'itl', 'e2e'];
  const body = [
    keyFigures(results),
    outcomeBanner(results),
    '<h2>Latency over time</h2>',
    `<div class="grid">${latency.map((m) => latencyChart(results, frame, m)).join('')}</div>`,
    '<h2>Load and connection health</h2>',
    `<div class="grid two">${gaugeChart(results, frame)}${eventsChart(results, frame)}</div>`,
    '<h2>Percentile distributions per phase</h2>',
    `<div class="grid">${latency.map((m) => distributionChart(results, m)).join('')}</div>`,
    '<h2>SLOs</h2>',
    `<div class="tablecard">${sloTable(results)}</div>`,
    `<h2>Recovery time <span class="muted" style="font-weight:400;font-size:13px">(first ${escapeHtml(
      formatSeconds(results.recoveryWindowMs),
    )} window after injection in which every SLO holds)</span></h2>`,
    `<div class="tablecard">${recoveryTable(results, frame.origin)}</div>`,
    ...(results.journal?.hypotheses?.length
      ? [
          '<h2>Hypotheses: held, broken or no data</h2>',
          `<div class="tablecard">${hypothesesTable(results)}</div>`,
        ]
      : []),
    ...(results.journal?.loadChanges?.length
      ? [
          '<h2>Load changes during the game day</h2>',
          `<div class="tablecard">${loadChangesTable(results, frame.origin)}</div>`,
        ]
      : []),
    ...(results.journal?.notes?.length
      ? [
          '<h2>Game-day notes beside the fault windows</h2>',
          `<div class="tablecard">${notesTable(results, frame.origin)}</div>`,
        ]
      : []),
    '<h2>Latency percentiles per phase</h2>',
    `<div class="tablecard">${percentileTable(results)}</div>`,
    '<h2>Streams, reconnects and errors per phase</h2>',
    `<div class="tablecard">${countsTable(results)}</div>`,
    '<h2>Journal</h2>',
    `<div class="tablecard">${journalTable(results, frame.origin)}</div>`,
    '<h2>Metric definitions</h2>',
    `<div class="tablecard">${definitionsTable(results)}</div>`,
    results.input.warnings.length > 0
      ? `<h2>Warnings</h2><div class="tablecard"><ul>${results.input.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>`
      : '',
    `<footer>owui-chaos · results schema v${results.schemaVersion} · percentiles from HDR histograms (3 significant digits), merged across sample files</footer>`,
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)} — owui-chaos</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(title)}</h1><span class="meta">${meta.map(escapeHtml).join(' · ')}</span></header>
<main>
${body}
</main>
</body>
</html>
`;
}
