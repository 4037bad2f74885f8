// The console's single page: HTML, CSS and a small script, with uPlot inlined (no network). It
// polls the session's JSON API every second; fault windows are drawn as bands on every chart,
// notes as dashed markers and live load changes as solid purple markers. `window.__gd` exposes what the page shows (tests read it).

import type { CatalogueAction } from '../core/gameday/hand-fault.js';

export interface ConsolePageInput {
  uplotJs: string;
  uplotCss: string;
  trends: string[];
  percentiles: number[];
  catalogue: CatalogueAction[];
  title: string;
  /** For the hypothesis check form. */
  metrics: string[];
  stats: string[];
  outcomes: string[];
}

/** JSON safe inside a <script> element. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function consolePage(input: ConsolePageInput): string {
  const charts = [
    ...input.trends.map((m) => ({
      id: m,
      title: `${m} (ms)`,
      series: input.percentiles.map((q) => `${m}_p${q}`),
    })),
    { id: 'load', title: 'active streams and sockets', series: ['streams', 'sockets'] },
    {
      id: 'events',
      title: 'per second: completed, errors, reconnects, garbled',
      series: ['completed', 'errors', 'reconnects', 'garbled'],
    },
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>owui-chaos game day</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${input.uplotCss}</style>
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#222}
header{display:flex;gap:1em;align-items:center;padding:.6em 1em;background:#1f2a37;color:#fff;flex-wrap:wrap}
header h1{font-size:1.1em;margin:0}
header .meta{opacity:.8;font-size:.9em}
#revert-all{margin-left:auto;background:#c62828;color:#fff;border:0;font-size:1.1em;font-weight:700;padding:.6em 1.2em;border-radius:6px;cursor:pointer}
main{display:grid;grid-template-columns:minmax(0,3fr) minmax(320px,1fr);gap:1em;padding:1em}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:.7em .9em;margin-bottom:1em}
.card h2{font-size:1em;margin:.1em 0 .5em}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1em}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border-bottom:1px solid #eee;padding:.25em .4em;text-align:left}
.held{color:#1b7f3b;font-weight:600}.broken{color:#c62828;font-weight:700}
.check{display:grid;grid-template-columns:repeat(3,1fr);gap:.2em .4em}
.pending{color:#888}.pass{color:#1b7f3b;font-weight:600}.breach{color:#c62828;font-weight:700}.no-data{color:#888}
label{display:block;font-size:.85em;margin:.35em 0 .1em;color:#444}
input,select,textarea{width:100%;box-sizing:border-box;padding:.3em;font:inherit}
button{font:inherit;padding:.35em .8em;cursor:pointer}
.errors{color:#c62828;font-size:.9em;white-space:pre-wrap}
.muted{color:#888}
#windows li[data-state=open]{color:#c62828;font-weight:600}
.note-hypothesis{border-left:3px solid #2a6;padding-left:.4em;margin:.3em 0}
.note-observation{border-left:3px solid #36c;padding-left:.4em;margin:.3em 0}
</style></head>
<body>
<header><h1>Game day: ${esc(input.title)}</h1><span class="meta" id="meta">connecting…</span>
<button id="revert-all" title="revert every injected fault now">REVERT EVERYTHING</button></header>
<main>
<section>
<div class="charts" id="charts"></div>
<div class="card"><h2>Hypotheses</h2><div id="hypotheses" class="muted">none yet</div></div>
<div class="card"><h2>SLOs per phase so far</h2><div id="slos" class="muted">evaluating…</div></div>
<div class="card"><h2>Fault windows</h2><ul id="windows"></ul></div>
</section>
<aside>
<div class="card"><h2>Injected now</h2><div id="active" class="muted">nothing</div></div>
<div class="card"><h2>Load</h2><div id="load-now" class="muted">…</div>
<form id="load-form"><div id="load-fields"></div>
<button type="submit" id="load-apply">Change the load</button><div class="errors" id="load-errors"></div></form></div>
<div class="card"><h2>Inject a fault</h2>
<form id="inject-form"><label>action<select name="action" id="action"></select></label>
<label>name<input name="name" placeholder="automatic"></label>
<label>for (reverted after; empty = until reverted)<input name="for" placeholder="e.g. 30s"></label>
<div id="params"></div><p class="muted" id="facts"></p>
<button type="submit" id="inject">Inject</button><div class="errors" id="inject-errors"></div></form></div>
<div class="card"><h2>Notes</h2>
<form id="note-form"><select name="kind" id="note-kind"><option value="hypothesis">hypothesis (before)</option><option value="observation">observation (after)</option></select>
<textarea name="text" id="note-text" rows="3" placeholder="we expect streams to fail over within 5 s"></textarea>
<details id="check-box"><summary>measurable check (hypotheses): judged held / broken / no data</summary><div class="check">
<label>metric<select id="check-metric"><option value="">(no check)</option></select></label>
<label>stat<select id="check-stat"></select></label>
<label>client<select id="check-client"><option value="">any</option><option>api</option><option>browser</option></select></label>
<label>outcome<select id="check-outcome"><option value="">–</option></select></label>
<label>objective<select id="check-op"><option value="lte">≤</option><option value="gte">≥</option></select></label>
<label>value<input id="check-value" placeholder="e.g. 3000"></label>
<label>during<input id="check-during" value="next-fault" title="next-fault, baseline, fault, recovery, all or a fault name"></label>
</div></details>
<button type="submit" id="add-note">Add note</button><div class="errors" id="note-errors"></div></form>
<div id="notes"></div></div>
<div class="card"><h2>Totals</h2><div id="totals" class="muted"></div></div>
</aside></main>
<script>${input.uplotJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>
"use strict";
const CATALOGUE = ${inlineJson(input.catalogue)};
const CHARTS = ${inlineJson(charts)};
const METRICS = ${inlineJson(input.metrics)}, STATS = ${inlineJson(input.stats)}, OUTCOMES = ${inlineJson(input.outcomes)};
const token = new URLSearchParams(location.search).get('token') || '';
const H = { 'X-Owui-Chaos-Token': token, 'content-type': 'application/json' };
async function api(path, body) {
  const r = await fetch(path, body === undefined ? { headers: H } : { method: 'POST', headers: H, body: JSON.stringify(body) });
  return { ok: r.ok, status: r.status, body: await r.json() };
}
const gd = (window.__gd = { points: [], windows: [], notes: [], loadChanges: [], state: null, charts: [], updates: 0 });
const COLORS = ['#1f77b4', '#ff7f0e', '#d62728', '#2ca02c'];
const $ = (id) => document.getElementById(id);
const el = (tag, props, ...kids) => { const e = Object.assign(document.createElement(tag), props || {}); for (const k of kids) e.append(k); return e; };

function bands() {
  return { hooks: { draw: [(u) => {
    const ctx = u.ctx, { top, height } = u.bbox, dpr = devicePixelRatio || 1;
    for (const w of gd.windows) {
      const x0 = u.valToPos(w.start / 1000, 'x', true), x1 = u.valToPos((w.end ?? Date.now()) / 1000, 'x', true);
      ctx.save(); ctx.fillStyle = w.end === null ? 'rgba(214,39,40,0.18)' : 'rgba(255,127,14,0.13)';
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
      ctx.fillStyle = '#a11'; ctx.font = (11 * dpr) + 'px sans-serif'; ctx.fillText(w.name, x0 + 3 * dpr, top + 12 * dpr); ctx.restore();
    }
    for (const n of gd.notes) {
      const x = u.valToPos(n.at / 1000, 'x', true);
      ctx.save(); ctx.strokeStyle = n.kind === 'hypothesis' ? '#2a6' : '#36c'; ctx.lineWidth = 2 * dpr; ctx.setLineDash([5 * dpr, 4 * dpr]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke(); ctx.restore();
    }
    for (const c of gd.loadChanges) {
      const x = u.valToPos(c.at / 1000, 'x', true);
      ctx.save(); ctx.strokeStyle = '#7b3fb3'; ctx.lineWidth = 2 * dpr;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      ctx.fillStyle = '#7b3fb3'; ctx.font = (11 * dpr) + 'px sans-serif'; ctx.fillText('load ' + levelText(c.after), x + 3 * dpr, top + height - 4 * dpr); ctx.restore();
    }
  }] } };
}

for (const c of CHARTS) {
  const box = el('div', { className: 'card', id: 'chart-' + c.id }, el('h2', { textContent: c.title }));
  $('charts').append(box);
  const opts = { width: Math.max(380, box.clientWidth - 20), height: 200, plugins: [bands()],
    scales: { x: { time: true } }, series: [{}, ...c.series.map((s, i) => ({ label: s, stroke: COLORS[i % 4], width: 1.5, spanGaps: true }))],
    axes: [{}, { size: 55 }] };
  const chart = new uPlot(opts, [[], ...c.series.map(() => [])], box);
  gd.charts.push({ id: c.id, series: c.series, chart });
}

function redraw() {
  const x = gd.points.map((p) => p.t / 1000);
  for (const c of gd.charts) c.chart.setData([x, ...c.series.map((s) => gd.points.map((p) => p[s]))]);
  gd.updates++;
}

// The server numbers its points; asking from the next number (not from how many we hold) means an
// answer that arrives late or twice cannot duplicate or skip points.
let nextPoint = 0;
async function pollSeries() {
  const asked = nextPoint;
  const r = await api('/api/series?since=' + asked);
  if (!r.ok || nextPoint !== asked) return;
  for (const p of r.body.points) gd.points.push(p);
  nextPoint = r.body.from + r.body.points.length;
}

function fmtT(ms) { return new Date(ms).toLocaleTimeString(); }
const LOAD_FIELDS = { chatVus: 'API chat VUs (closed model)', chatRate: 'API chats per second (open model)', socketVus: 'browser clients' };
function levelText(l) { return Object.entries(l).map(([k, v]) => v + ' ' + (k === 'chatVus' ? 'API VUs' : k === 'chatRate' ? '/s' : 'browser')).join(', '); }
let loadFieldsFor = '';
function renderLoad(s) {
  $('load-now').textContent = 'now: ' + (levelText(s.load) || 'no load') + (s.loadChanges.length ? ' · ' + s.loadChanges.length + ' change(s)' : '');
  const kinds = Object.keys(s.load).join(',');
  if (kinds === loadFieldsFor) return; // keep what is being typed
  loadFieldsFor = kinds; const box = $('load-fields'); box.replaceChildren();
  for (const k of Object.keys(s.load)) box.append(el('label', { textContent: LOAD_FIELDS[k] || k }, el('input', { name: k, id: 'load-' + k, placeholder: String(s.load[k]) })));
}

function renderState(s) {
  gd.state = s; gd.windows = s.windows; gd.notes = s.notes; gd.loadChanges = s.loadChanges || [];
  if (s.load) renderLoad(s);
  const left = Math.max(0, Math.round((s.endsAt - Date.now()) / 1000));
  const p = s.progress;
  $('meta').textContent = s.target + ' · ' + (s.finished ? 'finished' : left + ' s left') + (p ? ' · streams ' + p.activeStreams + ' · sockets ' + p.activeSockets + ' · completed ' + p.completed + ' · errors ' + p.errors : '') + ' · ' + s.runDir;
  const active = $('active'); active.replaceChildren();
  if (s.active.length === 0) active.textContent = 'nothing';
  else {
    const t = el('table', {}, el('tr', {}, el('th', { textContent: 'name' }), el('th', { textContent: 'what' }), el('th', { textContent: 'since' }), el('th')));
    for (const a of s.active) {
      const b = el('button', { textContent: 'Revert', className: 'revert' }); b.dataset.name = a.name;
      b.onclick = async () => { b.disabled = true; const r = await api('/api/revert', { name: a.name }); if (!r.ok) alert(r.body.error.message); refresh(); };
      t.append(el('tr', { className: 'active-fault' }, el('td', { textContent: a.name }), el('td', { textContent: a.description + (a.status !== 'injected' ? ' (' + a.status + (a.error ? ': ' + a.error : '') + ')' : '') + (a.until ? ' · until ' + fmtT(a.until) : '') }), el('td', { textContent: fmtT(a.since) }), el('td', {}, b)));
    }
    active.append(t);
  }
  const wl = $('windows'); wl.replaceChildren();
  for (const w of s.windows) { const li = el('li', { textContent: w.name + ' (' + w.action + '): ' + fmtT(w.start) + ' → ' + (w.end === null ? 'now' : fmtT(w.end)) }); li.dataset.name = w.name; li.dataset.state = w.end === null ? 'open' : 'closed'; wl.append(li); }
  const nl = $('notes'); nl.replaceChildren();
  for (const n of [...s.notes].reverse()) nl.append(el('div', { className: 'note note-' + n.kind, textContent: fmtT(n.at) + ' ' + n.kind + (n.faults.length ? ' [' + n.faults.join(', ') + ']' : '') + ': ' + n.text }));
  const tot = s.totals;
  $('totals').textContent = 'streams ' + tot.streams + ' · completed ' + tot.completed + ' · failed ' + tot.errors + ' · reconnects ' + tot.reconnects + ' · garbled ' + tot.garbled + ' · HTTP errors by status: ' + (Object.entries(s.errorsByStatus).map(([k, v]) => k + '=' + v).join(' ') || 'none');
}

let refreshing = false;
async function refresh() {
  if (refreshing) return; // a slow answer must not overlap the next tick
  refreshing = true;
  try {
    const [st] = await Promise.all([api('/api/state'), pollSeries()]);
    if (st.ok) renderState(st.body);
    redraw();
  } catch (e) { $('meta').textContent = 'console unreachable: ' + e; }
  finally { refreshing = false; }
}

async function refreshSlos() {
  const r = await api('/api/slos'); if (!r.ok) return;
  const t = el('table', {}, el('tr', {}, ...['SLO', 'phase', 'objective', 'measured', 'samples', 'verdict'].map((h) => el('th', { textContent: h }))));
  for (const s of r.body.slos) t.append(el('tr', {}, el('td', { textContent: s.id }), el('td', { textContent: s.phase }), el('td', { textContent: s.objective }), el('td', { textContent: s.measured === null ? '–' : String(Math.round(s.measured * 1000) / 1000) }), el('td', { textContent: String(s.samples) }), el('td', { textContent: s.verdict, className: s.verdict })));
  $('slos').replaceChildren(t); $('slos').className = '';
  const hs = r.body.hypotheses || []; gd.hypotheses = hs;
  if (hs.length === 0) { $('hypotheses').textContent = 'none yet: write a hypothesis note with a check'; return; }
  const ht = el('table', {}, el('tr', {}, ...['hypothesis', 'checks', 'verdict', 'why'].map((h) => el('th', { textContent: h }))));
  for (const h of hs) {
    const row = el('tr', { className: 'hypothesis' }, el('td', { textContent: (h.at ? fmtT(h.at) + ' ' : '(plan) ') + h.text }), el('td', { textContent: h.checks.map((c) => c.check + ' in ' + c.phase).join('; ') || '–' }), el('td', { textContent: h.verdict === 'no-data' ? 'no data' : h.verdict, className: h.verdict }), el('td', { textContent: h.reason }));
    row.dataset.id = h.id; row.dataset.verdict = h.verdict; ht.append(row);
  }
  $('hypotheses').replaceChildren(ht); $('hypotheses').className = '';
}
for (const m of METRICS) $('check-metric').append(el('option', { value: m, textContent: m }));
for (const st of STATS) $('check-stat').append(el('option', { value: st, textContent: st }));
for (const o of OUTCOMES) $('check-outcome').append(el('option', { value: o, textContent: o }));
function checkOf() {
  const m = $('check-metric').value; if (!m) return undefined;
  const c = { metric: m, stat: $('check-stat').value, during: $('check-during').value.trim() || 'next-fault' };
  const v = $('check-value').value.trim(); c[$('check-op').value] = v === '' ? NaN : Number(v);
  if ($('check-client').value) c.client = $('check-client').value;
  if ($('check-outcome').value) c.outcome = $('check-outcome').value;
  return c;
}

const actionSel = $('action');
for (const a of CATALOGUE) actionSel.append(el('option', { value: a.action, textContent: a.action }));
function renderParams() {
  const a = CATALOGUE.find((x) => x.action === actionSel.value); const box = $('params'); box.replaceChildren();
  for (const p of a.params) {
    let input;
    if (p.type === 'enum' || p.type === 'boolean') {
      input = el('select', { name: p.name });
      if (!p.required) input.append(el('option', { value: '', textContent: p.default !== undefined ? '(default ' + p.default + ')' : '' }));
      for (const o of p.type === 'boolean' ? ['true', 'false'] : p.options) input.append(el('option', { value: o, textContent: o }));
    } else input = el('input', { name: p.name, placeholder: p.default !== undefined ? 'default ' + p.default : (p.description || (p.required ? 'required' : '')) });
    input.dataset.type = p.type;
    box.append(el('label', { textContent: p.name + (p.required ? ' *' : '') + (p.description ? ' — ' + p.description : '') }, input));
  }
  const f = a.facts; $('facts').textContent = (f.destructive ? 'destructive (needs safety.allowDestructive) · ' : '') + (f.replicas ? 'takes replicas down (safety.maxUnavailable) · ' : '') + (f.inverse ? 'revert: ' + f.inverse : 'no inverse (instantaneous)');
}
actionSel.onchange = renderParams; renderParams();

$('inject-form').onsubmit = async (ev) => {
  ev.preventDefault(); const errs = $('inject-errors'); errs.textContent = '';
  const params = {};
  for (const i of $('params').querySelectorAll('input,select')) {
    const v = i.value.trim(); if (v === '') continue;
    const t = i.dataset.type;
    params[i.name] = t === 'boolean' ? v === 'true' : (t === 'number' || t === 'duration') && /^-?\\d+(\\.\\d+)?$/.test(v) ? Number(v) : v;
  }
  const f = ev.target; const body = { action: actionSel.value, params };
  if (f.name.value.trim()) body.name = f.name.value.trim();
  if (f.for.value.trim()) body.for = /^\\d+$/.test(f.for.value.trim()) ? Number(f.for.value.trim()) : f.for.value.trim();
  $('inject').disabled = true;
  try {
    const r = await api('/api/inject', body);
    if (!r.ok) errs.textContent = r.body.error.message + (r.body.error.issues ? '\\n' + r.body.error.issues.map((i) => '• ' + (i.path ? i.path + ': ' : '') + i.message).join('\\n') : '');
  } finally { $('inject').disabled = false; refresh(); }
};
$('note-form').onsubmit = async (ev) => {
  ev.preventDefault(); const text = $('note-text').value.trim(); $('note-errors').textContent = '';
  const body = { kind: $('note-kind').value, text }; const check = checkOf();
  if (check && body.kind === 'hypothesis') body.check = check;
  const r = await api('/api/note', body);
  if (!r.ok) $('note-errors').textContent = r.body.error.message + (r.body.error.issues ? '\\n' + r.body.error.issues.map((i) => '• ' + (i.path ? i.path + ': ' : '') + i.message).join('\\n') : '');
  else { $('note-text').value = ''; $('check-metric').value = ''; }
  refresh(); refreshSlos();
};
$('load-form').onsubmit = async (ev) => {
  ev.preventDefault(); const errs = $('load-errors'); errs.textContent = '';
  const body = {};
  for (const i of $('load-fields').querySelectorAll('input')) { const v = i.value.trim(); if (v !== '') body[i.name] = /^-?\\d+(\\.\\d+)?$/.test(v) ? Number(v) : v; }
  $('load-apply').disabled = true;
  try {
    const r = await api('/api/load', body);
    if (!r.ok) errs.textContent = r.body.error.message + (r.body.error.issues ? '\\n' + r.body.error.issues.map((i) => '• ' + (i.path ? i.path + ': ' : '') + i.message).join('\\n') : '');
    else for (const i of $('load-fields').querySelectorAll('input')) { i.value = ''; }
  } finally { $('load-apply').disabled = false; loadFieldsFor = ''; refresh(); }
};
$('revert-all').onclick = async () => { $('revert-all').disabled = true; try { const r = await api('/api/revert-all', {}); if (r.body.failed && r.body.failed.length) alert('still injected: ' + r.body.failed.join(', ')); } finally { $('revert-all').disabled = false; refresh(); } };

refresh(); refreshSlos();
setInterval(refresh, 1000); setInterval(refreshSlos, 5000);
</script></body></html>`;
}
