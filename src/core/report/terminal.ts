// The terminal summary (pure: returns a string, the command prints it). Per phase a table —
// metric, stat, objective, measured, verdict — then recovery times, stream outcomes, reconnects
// and errors, the report paths and the verdict line. ANSI colour only when asked.

import type { Comparison } from './compare.js';
import { formatObjective, formatOffset, formatSeconds, formatValue, selectorLabel } from './format.js';
import { verdictText as runVerdictText } from './outcome.js';
import type { MetricSummary } from './metric-summary.js';
import type { RunResults, SloResult } from './results.js';
import { METRICS, isMetricName } from '../metrics.js';
import { escapeTerminal } from '../terminal-text.js';

export interface TerminalOptions {
  color?: boolean;
  paths?: { resultsJson?: string; html?: string; junit?: string };
}

const ANSI = {
  red: '\u001b[31m',
  green: '\u001b[32m',
  yellow: '\u001b[33m',
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  reset: '\u001b[0m',
};

export function verdictLabel(verdict: SloResult['verdict']): string {
  return verdict === 'pass' ? 'PASS' : verdict === 'breach' ? 'BREACH' : 'NO DATA';
}

export interface TableOptions {
  /** Prefix of every line; default two spaces. */
  indent?: string;
  /** A `───` rule under the header; default on. */
  rule?: boolean;
  /** Right-align these columns (numbers); the rest are left-aligned. */
  right?: readonly number[];
}

/** Every table the CLI prints: columns padded to their widest cell (ANSI colour not counted). */
export function renderTable(headers: string[], rows: string[][], options: TableOptions = {}): string[] {
  const indent = options.indent ?? '  ';
  const right = new Set(options.right ?? []);
  const columns = Math.max(headers.length, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max((headers[i] ?? '').length, ...rows.map((r) => stripAnsi(r[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    indent +
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - stripAnsi(c).length));
        return right.has(i) ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  // No headers: just the aligned rows (lab endpoints, lab status).
  if (headers.length === 0) return rows.map(line);
  return [
    line(headers),
    ...(options.rule === false ? [] : [indent + widths.map((w) => '─'.repeat(w)).join('  ')]),
    ...rows.map(line),
  ];
}

function table(headers: string[], rows: string[][], indent = '  '): string[] {
  return renderTable(headers, rows, { indent });
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

export function renderTerminalSummary(results: RunResults, options: TerminalOptions = {}): string {
  const paint = (code: keyof typeof ANSI, text: string): string =>
    options.color ? `${ANSI[code]}${text}${ANSI.reset}` : text;
  const verdictText = (v: SloResult['verdict']): string =>
    paint(v === 'pass' ? 'green' : v === 'breach' ? 'red' : 'yellow', verdictLabel(v));
  const origin = results.run.startedAt ?? results.input.firstSampleAt ?? 0;
  const out: string[] = [];

  const title = results.run.title
    ? `${results.run.title}${results.run.runId ? ` (${results.run.runId})` : ''}`
    : 'owui-chaos report';
  out.push(paint('bold', escapeTerminal(title)));
  if (results.run.target) out.push(`target ${escapeTerminal(results.run.target)}`);
  out.push(
    `${results.input.samples} samples ` +
      (results.input.sampleFiles.length > 0
        ? `from ${results.input.sampleFiles.length} file${results.input.sampleFiles.length === 1 ? '' : 's'}`
        : 'in memory') +
      (results.input.firstSampleAt !== null && results.input.lastSampleAt !== null
        ? `, ${formatSeconds(results.input.lastSampleAt - results.input.firstSampleAt)} of load`
        : '') +
      (results.input.malformedLines ? `, ${results.input.malformedLines} malformed line(s) skipped` : ''),
  );

  const phaseOrder = [...results.phases.map((p) => p.name)];
  for (const s of results.slos) if (!phaseOrder.includes(s.phase)) phaseOrder.push(s.phase);
  const unreached: string[] = [];
  let unreachedChecks = 0;
  for (const phase of phaseOrder) {
    const rows = results.slos.filter((s) => s.phase === phase);
    if (rows.length === 0) continue;
    // A run that stopped early never reached these phases: one line, not a table of NO DATA.
    if (
      results.stops.length > 0 &&
      rows.every((s) => s.verdict === 'no-data' && (s.note ?? '').includes('not reached'))
    ) {
      unreached.push(phase);
      unreachedChecks += rows.length;
      continue;
    }
    const info = results.phases.find((p) => p.name === phase);
    const span =
      info && info.start !== null && info.end !== null
        ? ` ${formatOffset(info.start, origin)} → ${formatOffset(info.end, origin)}`
        : '';
    out.push(
      '',
      paint('bold', `Phase ${phase}`) + paint('dim', `${span}${info ? `, ${info.samples} samples` : ''}`),
    );
    out.push(
      ...table(
        ['metric', 'stat', 'objective', 'measured', 'verdict'],
        rows.map((s) => [
          selectorLabel(s.slo),
          s.slo.stat,
          formatObjective(s.slo),
          formatValue(s.slo.metric, s.measured, s.slo.stat),
          verdictText(s.verdict) +
            (s.verdict === 'no-data'
              ? paint(
                  s.slo.allowNoData === true || s.slo.notMeasured !== undefined || results.stops.length > 0
                    ? 'dim'
                    : 'red',
                  s.slo.notMeasured !== undefined
                    ? ' (does not gate)'
                    : s.slo.allowNoData === true
                      ? ' (allowed)'
                      : results.stops.length > 0 && (s.note ?? '').includes('not reached')
                        ? ''
                        : ' (fails: no data is not a pass)',
                )
              : '') +
            (s.note ? paint('dim', ` (${s.note})`) : ''),
        ]),
      ),
    );
  }
  if (unreached.length > 0) {
    out.push(
      '',
      paint('bold', `Phases ${unreached.join(', ')}`) +
        paint('dim', `: not reached (the run stopped early), ${unreachedChecks} SLO checks not evaluated`),
    );
  }
  if (results.slos.length === 0) out.push('', 'No SLOs were given: nothing to judge (not a pass).');

  if (results.recovery.length > 0) {
    out.push(
      '',
      paint('bold', `Recovery time (every SLO holds for ${formatSeconds(results.recoveryWindowMs)})`),
    );
    out.push(
      ...table(
        ['fault', 'action', 'injected', 'reverted', 'time to impact', 'recovery time'],
        results.recovery.map((r) => [
          r.fault,
          r.action,
          formatOffset(r.injectedAt, origin),
          formatOffset(r.revertedAt, origin),
          r.evaluated === false
            ? '–'
            : r.timeToImpactMs === undefined
              ? '?'
              : r.timeToImpactMs === null
                ? 'no impact'
                : formatSeconds(r.timeToImpactMs),
          r.recovered && r.recoveryTimeMs !== null
            ? formatSeconds(r.recoveryTimeMs)
            : r.evaluated === false
              ? `not evaluated (${r.note ?? 'no recovery SLO'})`
              : r.reason === 'observation-too-short'
                ? paint('yellow', 'not measured (observed for less than one window)')
                : paint('red', 'never recovered (SLOs still breached at the end of the observation)'),
        ]),
      ),
    );
  }

  const c = results.counts;
  const outcomes = Object.entries(c.streams)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  out.push('', paint('bold', 'Counts'));
  out.push(`  streams: ${outcomes || 'none'}`);
  out.push(
    `  socket reconnects: ${c.reconnects}, disconnects: ${c.disconnects}, missed done: ${c.missedDone}`,
  );
  out.push(
    `  HTTP errors: ${c.httpErrors}` +
      (c.httpErrorsBy.length > 0
        ? ` (${c.httpErrorsBy
            .slice(0, 6)
            .map((e) => `${e.status} ${e.endpoint}: ${e.count}`)
            .join(', ')}${c.httpErrorsBy.length > 6 ? ', …' : ''})`
        : ''),
  );
  for (const w of results.input.warnings.slice(0, 3)) out.push(paint('yellow', `  warning: ${w}`));

  const paths = options.paths ?? {};
  const pathLines = [
    paths.resultsJson ? `  results: ${paths.resultsJson}` : '',
    paths.html ? `  report:  ${paths.html}` : '',
    paths.junit ? `  junit:   ${paths.junit}` : '',
  ].filter(Boolean);
  if (pathLines.length > 0) out.push('', paint('bold', 'Reports'), ...pathLines);

  // The verdict line is the run's one outcome (results.verdict / exitCode), never recomputed here.
  const good = results.exitCode === 0;
  out.push(
    '',
    `${paint('bold', 'Verdict')} ${paint(good ? 'green' : 'red', `${runVerdictText(results.verdict)}: ${results.headline}`)} → exit ${results.exitCode}`,
  );
  for (const st of results.stops) {
    out.push(paint('red', `  stopped early (${st.reason}, ${st.code}): ${st.message}`));
    for (const x of st.suggestions) out.push(paint('dim', `    try: ${x}`));
  }
  for (const d of results.diagnoses ?? []) {
    out.push(paint('yellow', `  likely cause: ${d.cause}`));
    out.push(paint('dim', `    seen: ${d.symptom}`));
    out.push(paint('dim', `    fix: ${d.fix}`));
  }
  return out.join('\n') + '\n';
}

/** The comparison as a table (pure), regressions marked, then the verdict line. */
export function renderComparison(c: Comparison, options: { color?: boolean } = {}): string {
  const paint = (code: keyof typeof ANSI, text: string): string =>
    options.color ? `${ANSI[code]}${text}${ANSI.reset}` : text;
  const name = (r: { runId: string | null; title: string | null; source?: string }): string =>
    r.source ?? r.runId ?? r.title ?? '?';
  const val = (metric: string, stat: string, v: number | null): string =>
    formatValue(metric, v, stat.endsWith('share') ? 'rate' : undefined);
  const out = [
    paint('bold', `Compare ${name(c.baseline)} → ${name(c.candidate)}`),
    `tolerance ${Number((c.tolerance * 100).toFixed(2))} % and at least ${c.floors.ms} ms / ${c.floors.ratio * 100} pp before a change counts; stream outcomes as the SLOs define them (streams cancelled at the deadline are not failures)`,
    ...(c.warnings ?? []).map((w) => paint('yellow', `warning: ${w}; the comparison may not mean much`)),
    '',
    ...table(
      ['metric', 'phase', 'stat', 'baseline', 'candidate', 'change', ''],
      c.rows.map((r) => [
        r.metric,
        r.phase,
        r.stat,
        val(r.metric, r.stat, r.baseline),
        val(r.metric, r.stat, r.candidate),
        r.relative === null
          ? (r.note ?? '')
          : `${r.relative >= 0 ? '+' : ''}${(r.relative * 100).toFixed(1)} %`,
        r.regression ? paint('red', 'REGRESSION') : '',
      ]),
    ),
    '',
    c.regressions > 0
      ? paint('red', `${c.regressions} regression(s) beyond tolerance → exit ${c.exitCode}`)
      : paint('green', `no regression beyond tolerance → exit ${c.exitCode}`),
  ];
  return out.join('\n') + '\n';
}

/** `load`'s per-metric table: count, p50, p95, p99, max, and counters by outcome/status. */
export function renderMetricSummary(metrics: readonly MetricSummary[]): string {
  const fmt = (v: number | undefined, metric: string): string => {
    if (v === undefined) return '';
    const unit = isMetricName(metric) ? METRICS[metric].unit : undefined;
    if (unit === 'ratio') return v.toFixed(4);
    if (unit === 'ms') return v < 10 ? v.toFixed(2) : v.toFixed(0);
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  };
  const rows = metrics.map((m) => [
    m.metric,
    String(m.count),
    fmt(m.p50, m.metric),
    fmt(m.p95, m.metric),
    fmt(m.p99, m.metric),
    fmt(m.max, m.metric),
    m.by
      ? Object.entries(m.by)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
      : '',
  ]);
  return renderTable(['metric', 'count', 'p50', 'p95', 'p99', 'max', 'by outcome/status'], rows, {
    indent: '',
    right: [1, 2, 3, 4, 5],
  }).join('\n');
}
