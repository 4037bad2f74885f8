// Structural checks of the Grafana dashboards in `dashboards/` (DESIGN §2): they parse, their uids
// and panel ids are unique, panels tile a 24-column grid without overlapping, every PromQL
// expression is balanced and names only metrics that exist — for the k6 dashboard, the catalogue
// of src/core/metrics.ts as k6's Prometheus remote-write output names it for the kind each metric
// has in scenarios/lib/metrics.ts — and every `$variable` it uses is defined or a Grafana built-in.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES, type MetricName } from '../../../src/core/metrics.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const DASHBOARDS_DIR = join(ROOT, 'dashboards');

// ---------------------------------------------------------------------------------------------
// Grafana JSON model, as far as these checks read it.

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title?: string;
  gridPos: GridPos;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Array<{ name: string; datasource?: { type?: string; uid?: string } }> };
}

function loadDashboards(): Map<string, Dashboard> {
  const out = new Map<string, Dashboard>();
  for (const file of readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    out.set(file, JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard);
  }
  return out;
}

/** Every panel, with the children of collapsed rows (Grafana nests those inside the row). */
function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

function exprs(d: Dashboard): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      if (t.expr !== undefined)
        out.push({ where: `panel ${p.id} "${p.title ?? ''}" ${t.refId ?? ''}`, expr: t.expr });
    }
  }
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    out.push({ where: `variable $${v.name}`, expr: q });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A small PromQL reader: not a parser, but enough to find metric names and label names.

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/** Balanced (), [], {} outside string literals. */
function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let inString = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '(' || c === '[' || c === '{') stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0 && !inString;
}

/** Metric names: identifiers outside strings, selectors, ranges and groupings, not called as functions. */
function metricNames(expr: string): string[] {
  const labelValues = /^label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(expr.trim());
  if (labelValues) return [labelValues[1]!];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of stripped.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call || PROMQL_KEYWORDS.has(name!.toLowerCase())) continue;
    names.push(name!);
  }
  return names;
}

/** Label names used in selectors and in by/without/on/ignoring groupings. */
function labelNames(expr: string): string[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names: string[] = [];
  for (const sel of noStrings.matchAll(/\{([^}]*)\}/g)) {
    for (const m of sel[1]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) names.push(m[1]!);
  }
  for (const g of noStrings.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    names.push(
      ...g[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
  }
  return names;
}

/** `$x`, `${x}`, `${x:format}`, `[[x]]` references. */
function variableRefs(text: string): string[] {
  const refs = [...text.matchAll(/\$\{?([a-zA-Z_]\w*)/g)].map((m) => m[1]!);
  refs.push(...[...text.matchAll(/\[\[([a-zA-Z_]\w*)/g)].map((m) => m[1]!));
  return refs;
}

const GRAFANA_BUILTIN_VARIABLES = new Set([
  '__rate_interval',
  '__interval',
  '__interval_ms',
  '__range',
  '__range_s',
  '__range_ms',
  '__from',
  '__to',
  '__dashboard',
  '__org',
  '__user',
]);

// ---------------------------------------------------------------------------------------------
// k6 experimental-prometheus-rw naming (pkg/remotewrite of grafana/xk6-output-prometheus-remote):
// prefix `k6_`; Counter → `_total`; Gauge → no suffix; Rate → `_rate`; Trend → one gauge per
// configured stat (`_p99`, `_max`, … — p(95) becomes p95; values of time trends in seconds) or,
// with K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM, one native histogram named with the base unit
// (`_seconds` for time trends, nothing for plain ones).

type K6Kind = 'time-trend' | 'trend' | 'counter' | 'gauge' | 'rate';

/** The k6 kind of each catalogue metric, read from the scenarios so a kind change breaks this test. */
function k6Kinds(): Map<string, K6Kind> {
  const src = readFileSync(join(ROOT, 'scenarios/lib/metrics.ts'), 'utf8');
  const kinds = new Map<string, K6Kind>();
  const helpers: Record<string, K6Kind> = { time: 'time-trend', plain: 'trend' };
  for (const m of src.matchAll(/^\s*(\w+):\s*(time|plain)\('(\w+)'\)/gm)) kinds.set(m[3]!, helpers[m[2]!]!);
  for (const m of src.matchAll(/new (Counter|Gauge|Rate|Trend)\('(\w+)'(,\s*true)?\)/g)) {
    const k = m[1]!;
    kinds.set(m[2]!, k === 'Trend' ? (m[3] ? 'time-trend' : 'trend') : (k.toLowerCase() as K6Kind));
  }
  return kinds;
}

const TREND_STAT = /^(p\d+|min|max|avg|med|count|sum)$/;

/** Which catalogue metric a Prometheus name belongs to, or null. */
function catalogueMetricFor(promName: string, kinds: Map<string, K6Kind>): MetricName | null {
  if (!promName.startsWith('k6_')) return null;
  const rest = promName.slice(3);
  for (const metric of METRIC_NAMES) {
    const kind = kinds.get(metric);
    if (kind === undefined) continue;
    const ok = (() => {
      switch (kind) {
        case 'counter':
          return rest === `${metric}_total`;
        case 'gauge':
          return rest === metric;
        case 'rate':
          return rest === `${metric}_rate`;
        case 'time-trend':
        case 'trend': {
          if (rest === (kind === 'time-trend' ? `${metric}_seconds` : metric)) return true;
          return rest.startsWith(`${metric}_`) && TREND_STAT.test(rest.slice(metric.length + 1));
        }
      }
    })();
    if (ok) return metric;
  }
  return null;
}

/**
 * k6 built-in metrics the chaos-run dashboard uses on purpose: the VU count (the k6 stand-in for
 * active streams, which the scenarios do not record) and dropped_iterations (k6's missed starts).
 */
const K6_BUILTINS_USED = new Set(['k6_vus', 'k6_dropped_iterations_total']);

/** Tags the scenarios put on samples (plus k6's own `scenario` and the `testid` convention). */
const K6_LABELS = new Set([
  'testid',
  'client',
  'outcome',
  'status',
  'endpoint',
  'scenario',
  'replica',
  'reason',
]);

// Exporter metrics the other dashboards may use, as oliver006/redis_exporter and
// nginx/nginx-prometheus-exporter (stub_status) name them.
const REDIS_EXPORTER_METRICS = new Set([
  'redis_up',
  'redis_instance_info',
  'redis_connected_clients',
  'redis_connected_slaves',
  'redis_master_link_up',
  'redis_master_repl_offset',
  'redis_commands_processed_total',
  'redis_pubsub_channels',
  'redis_pubsub_patterns',
  'redis_db_keys',
  'redis_key_size',
  'redis_sentinel_masters',
  'redis_sentinel_tilt',
  'redis_sentinel_master_status',
  'redis_sentinel_master_ok_sentinels',
  'redis_sentinel_master_ok_slaves',
  'redis_sentinel_master_config_epoch',
]);
const NGINX_EXPORTER_METRICS = new Set([
  'nginx_up',
  'nginx_connections_active',
  'nginx_connections_accepted',
  'nginx_connections_handled',
  'nginx_connections_reading',
  'nginx_connections_writing',
  'nginx_connections_waiting',
  'nginx_http_requests_total',
]);

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// ---------------------------------------------------------------------------------------------

const dashboards = loadDashboards();
const EXPECTED_FILES = ['nginx.json', 'owui-chaos-k6.json', 'redis-sentinel.json'];

describe('dashboards/', () => {
  it('holds the three dashboards, each valid JSON with the Grafana basics', () => {
    expect([...dashboards.keys()]).toEqual(EXPECTED_FILES);
    for (const [file, d] of dashboards) {
      expect(d.title, file).toEqual(expect.any(String));
      expect(d.uid, file).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(d.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(Array.isArray(d.panels), file).toBe(true);
    }
  });

  it('gives every dashboard a unique uid', () => {
    const uids = [...dashboards.values()].map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  it('is described in dashboards/README.md', () => {
    const readme = readFileSync(join(DASHBOARDS_DIR, 'README.md'), 'utf8');
    for (const [file, d] of dashboards) {
      expect(readme, file).toContain(file);
      expect(readme, file).toContain(d.uid);
    }
  });
});

describe.each([...dashboards.entries()])('%s', (file, d) => {
  const panels = allPanels(d);
  const defined = new Set(d.templating.list.map((v) => v.name));

  it('has unique panel ids', () => {
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('places every panel inside the 24-column grid, without overlaps', () => {
    for (const p of panels) {
      const g = p.gridPos;
      const where = `panel ${p.id} "${p.title ?? ''}"`;
      for (const v of [g.x, g.y, g.w, g.h]) expect(Number.isInteger(v), where).toBe(true);
      expect(g.x, where).toBeGreaterThanOrEqual(0);
      expect(g.y, where).toBeGreaterThanOrEqual(0);
      expect(g.w, where).toBeGreaterThanOrEqual(1);
      expect(g.h, where).toBeGreaterThanOrEqual(1);
      expect(g.x + g.w, where).toBeLessThanOrEqual(24);
      if (p.type === 'row') expect(g, where).toMatchObject({ x: 0, w: 24, h: 1 });
    }
    const clashes: string[] = [];
    for (let i = 0; i < panels.length; i++) {
      for (let j = i + 1; j < panels.length; j++) {
        if (overlaps(panels[i]!.gridPos, panels[j]!.gridPos))
          clashes.push(`${panels[i]!.id} × ${panels[j]!.id}`);
      }
    }
    expect(clashes).toEqual([]);
  });

  it('queries Prometheus through the templated `datasource` variable', () => {
    const ds = d.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const p of panels.filter((p) => p.targets !== undefined)) {
      expect(p.datasource, `panel ${p.id}`).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets ?? []) expect(t.datasource?.uid, `panel ${p.id}`).toBe('${datasource}');
    }
  });

  it('writes balanced PromQL', () => {
    const bad = exprs(d).filter((e) => e.expr.trim() === '' || !balanced(e.expr));
    expect(bad).toEqual([]);
  });

  it('uses only defined template variables or Grafana built-ins', () => {
    const undefinedRefs: string[] = [];
    const texts = [
      ...exprs(d).map((e) => ({ where: e.where, text: e.expr })),
      ...panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ where: `panel ${p.id} datasource`, text: t.datasource?.uid ?? '' })),
      ),
    ];
    for (const { where, text } of texts) {
      for (const ref of variableRefs(text)) {
        if (!defined.has(ref) && !GRAFANA_BUILTIN_VARIABLES.has(ref)) undefinedRefs.push(`${where}: $${ref}`);
      }
    }
    expect(undefinedRefs).toEqual([]);
  });

  it('draws owui-chaos fault windows from Grafana annotations tagged owui-chaos-fault', () => {
    const a = d.annotations.list.find((x) => x.name === 'owui-chaos fault windows') as
      { datasource?: { uid?: string }; target?: { type?: string; tags?: string[] } } | undefined;
    expect(a?.datasource?.uid).toBe('-- Grafana --');
    expect(a?.target).toMatchObject({ type: 'tags', tags: ['owui-chaos-fault'] });
  });
});

describe('owui-chaos-k6.json', () => {
  const d = dashboards.get('owui-chaos-k6.json')!;
  const kinds = k6Kinds();

  it('knows the k6 kind of every catalogue metric from scenarios/lib/metrics.ts', () => {
    expect(METRIC_NAMES.filter((m) => !kinds.has(m))).toEqual([]);
    // The kinds the dashboard's queries were written for.
    expect(
      Object.fromEntries(
        ['ttft', 'garbled_token_rate', 'burst_size', 'stream_outcome', 'active_streams'].map((m) => [
          m,
          kinds.get(m),
        ]),
      ),
    ).toEqual({
      ttft: 'time-trend',
      garbled_token_rate: 'trend',
      burst_size: 'trend',
      stream_outcome: 'counter',
      active_streams: 'gauge',
    });
  });

  it('maps Prometheus names to catalogue metrics by the remote-write naming of their kind', () => {
    const valid = [
      'k6_ttft_seconds',
      'k6_ttft_p99',
      'k6_ttft_max',
      'k6_burst_size',
      'k6_burst_size_p50',
      'k6_stream_outcome_total',
      'k6_active_streams',
    ];
    expect(valid.map((n) => catalogueMetricFor(n, kinds))).toEqual([
      'ttft',
      'ttft',
      'ttft',
      'burst_size',
      'burst_size',
      'stream_outcome',
      'active_streams',
    ]);
    // Wrong suffix for the kind: a time trend has no bare name, a plain trend no `_seconds`, a
    // counter no bare name, and the 0–1 per-stream ratios are Trends, never `_rate`.
    const invalid = [
      'k6_ttft',
      'k6_burst_size_seconds',
      'k6_stream_outcome',
      'k6_garbled_token_rate_rate',
      'k6_ttft_p99_total',
      'ttft_p99',
      'k6_unknown_total',
    ];
    expect(invalid.map((n) => catalogueMetricFor(n, kinds))).toEqual(invalid.map(() => null));
  });

  it('references only k6_ names of catalogue metrics, or the listed k6 built-ins', () => {
    const unknown: string[] = [];
    for (const { where, expr } of exprs(d)) {
      for (const name of metricNames(expr)) {
        if (K6_BUILTINS_USED.has(name)) continue;
        if (catalogueMetricFor(name, kinds) === null) unknown.push(`${where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('shows every catalogue metric somewhere', () => {
    const used = new Set<string>();
    for (const { expr } of exprs(d)) {
      for (const name of metricNames(expr)) {
        const metric = catalogueMetricFor(name, kinds);
        if (metric) used.add(metric);
      }
    }
    expect(METRIC_NAMES.filter((m) => !used.has(m))).toEqual([]);
  });

  it('filters and groups only by tags the samples carry', () => {
    const unknown = exprs(d).flatMap(({ where, expr }) =>
      labelNames(expr)
        .filter((l) => !K6_LABELS.has(l))
        .map((l) => `${where}: ${l}`),
    );
    expect(unknown).toEqual([]);
  });

  it('filters every catalogue-metric selector by $testid and $client', () => {
    const missing: string[] = [];
    for (const { where, expr } of exprs(d).filter((e) => !e.where.startsWith('variable'))) {
      for (const m of expr.matchAll(/(k6_\w+)(\{[^}]*\})?/g)) {
        if (K6_BUILTINS_USED.has(m[1]!)) continue;
        const sel = m[2] ?? '';
        if (!sel.includes('testid=~"$testid"') || !sel.includes('client=~"$client"'))
          missing.push(`${where}: ${m[0]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('defines the testid and client variables', () => {
    const names = d.templating.list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['datasource', 'testid', 'client']));
  });
});

describe.each([
  ['redis-sentinel.json', REDIS_EXPORTER_METRICS],
  ['nginx.json', NGINX_EXPORTER_METRICS],
])('%s', (file, known) => {
  it('references only metrics its exporter exports', () => {
    const d = dashboards.get(file)!;
    const unknown = exprs(d).flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((n) => !known.has(n))
        .map((n) => `${where}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });
});

describe('metricNames (the PromQL reader the checks rely on)', () => {
  it('finds selectors and skips functions, labels, strings, ranges, groupings and keywords', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (client) (rate(k6_ttft_seconds{testid=~"$testid", x="a{b}"}[$__rate_interval]))) / on (client) group_left k6_e2e_p99 or vector(0)',
      ),
    ).toEqual(['k6_ttft_seconds', 'k6_e2e_p99']);
    expect(metricNames('label_values(k6_stream_outcome_total, testid)')).toEqual(['k6_stream_outcome_total']);
    expect(metricNames('count(redis_master_link_up{instance=~"$instance"} == 0) or vector(0)')).toEqual([
      'redis_master_link_up',
    ]);
  });
});
