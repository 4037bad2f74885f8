// `junit.xml` (Jenkins / Surefire flavour, validated against test/fixtures/reports/junit.xsd):
// first a `run` testsuite whose one testcase fails when the run stopped early (steady state broken,
// fault failed, interrupted, load failed, rollback failed) or when nothing was judged, carrying the
// verdict and exit code every other output carries; then one testsuite per phase, one testcase per
// SLO × phase. A breach is a <failure> carrying measured vs objective; a gating SLO without data is
// a <failure type="SloNoData">; no data where the SLO allows it, or a phase a stopped run never
// reached, is <skipped> with the reason. Every data string is XML-escaped.

import { formatObjective, formatValue, selectorLabel } from './format.js';
import { sloFails, verdictText } from './outcome.js';
import type { RunResults, SloResult } from './results.js';

export function escapeXml(text: string): string {
  return (
    text
      // Characters XML 1.0 cannot carry at all (C0 controls except tab/newline/CR, lone surrogates).
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** A phase a stopped run never reached: the run case fails instead. */
function notReached(results: RunResults, s: SloResult): boolean {
  return results.stops.length > 0 && s.verdict === 'no-data' && (s.note ?? '').includes('not reached');
}

function failsCase(results: RunResults, s: SloResult): boolean {
  return sloFails(s) && !notReached(results, s);
}

function runSuite(results: RunResults, timestamp: string): { xml: string; failed: boolean } {
  const failed = results.exitCode !== 0 && (results.stops.length > 0 || results.verdict === 'no-data');
  const verdict = `${verdictText(results.verdict)}: ${results.headline} (exit ${results.exitCode})`;
  const attrs = `name="${escapeXml('run outcome')}" classname="owui-chaos.run" time="0"`;
  const causes = (results.diagnoses ?? []).map(
    (d) => `likely cause: ${d.cause}\n  seen: ${d.symptom}\n  fix: ${d.fix}`,
  );
  let body: string;
  if (results.stops.length > 0) {
    const detail = results.stops
      .map((st) =>
        [`${st.reason} (${st.code}): ${st.message}`, ...st.suggestions.map((x) => `  try: ${x}`)].join('\n'),
      )
      .concat(causes)
      .join('\n');
    const type = results.stops[0]?.reason ?? 'stopped';
    body = `      <failure message="${escapeXml(verdict)}" type="${escapeXml(`RunStopped:${type}`)}">${escapeXml(detail)}</failure>`;
  } else if (failed) {
    body = `      <failure message="${escapeXml(verdict)}" type="NothingJudged">${escapeXml(results.headline)}</failure>`;
  } else {
    body = `      <system-out>${escapeXml([verdict, ...causes].join('\n'))}</system-out>`;
  }
  const props = [
    ['verdict', results.verdict],
    ['exitCode', String(results.exitCode)],
    ['runId', results.run.runId ?? ''],
    ['experiment', results.run.title ?? ''],
  ]
    .map(([k, v]) => `      <property name="${escapeXml(k ?? '')}" value="${escapeXml(v ?? '')}"/>`)
    .join('\n');
  return {
    failed,
    xml:
      `  <testsuite name="run" tests="1" failures="${failed ? 1 : 0}" errors="0" skipped="0" time="0" timestamp="${timestamp}">\n` +
      `    <properties>\n${props}\n    </properties>\n    <testcase ${attrs}>\n${body}\n    </testcase>\n  </testsuite>`,
  };
}

function caseName(s: SloResult): string {
  return `${selectorLabel(s.slo)} ${s.slo.stat} ${formatObjective(s.slo)}`;
}

export function renderJunit(results: RunResults): string {
  const phases = [...results.phases.map((p) => p.name)];
  for (const s of results.slos) if (!phases.includes(s.phase)) phases.push(s.phase);
  const timestamp = new Date(results.run.startedAt ?? results.input.firstSampleAt ?? results.generatedAt)
    .toISOString()
    .replace(/\.\d{3}Z$/, '');
  const run = runSuite(results, timestamp);
  const suites: string[] = [run.xml];
  let failures = run.failed ? 1 : 0;
  let skipped = 0;
  let tests = 1;
  for (const phase of phases) {
    const cases = results.slos.filter((s) => s.phase === phase);
    if (cases.length === 0) continue;
    const f = cases.filter((s) => failsCase(results, s)).length;
    const sk = cases.filter((s) => s.verdict === 'no-data' && !failsCase(results, s)).length;
    failures += f;
    skipped += sk;
    tests += cases.length;
    const body = cases.map((s) => {
      const attrs = `name="${escapeXml(caseName(s))}" classname="${escapeXml(`owui-chaos.slo.${phase}`)}" time="0"`;
      const measured = formatValue(s.slo.metric, s.measured, s.slo.stat);
      if (s.verdict === 'breach') {
        const message = `measured ${measured}, objective ${formatObjective(s.slo)}${s.note ? ` (${s.note})` : ''}`;
        const detail = [
          `SLO ${s.id} in phase ${phase}`,
          `measured: ${s.measured === null ? 'no samples' : s.measured} (${measured})`,
          `objective: ${s.objectiveText}`,
          `samples: ${s.samples}`,
          s.slo.description ? `description: ${s.slo.description}` : '',
        ]
          .filter(Boolean)
          .join('\n');
        return `    <testcase ${attrs}>\n      <failure message="${escapeXml(message)}" type="SloBreach">${escapeXml(detail)}</failure>\n    </testcase>`;
      }
      if (s.verdict === 'no-data' && failsCase(results, s)) {
        const message = `no data: ${s.note ?? 'no samples'}; a gating SLO without data fails (set allowNoData: true if none is expected)`;
        return `    <testcase ${attrs}>\n      <failure message="${escapeXml(message)}" type="SloNoData">${escapeXml(`SLO ${s.id} in phase ${phase}: no samples, objective ${s.objectiveText}`)}</failure>\n    </testcase>`;
      }
      if (s.verdict === 'no-data') {
        const why = s.slo.allowNoData === true ? ' (allowed: allowNoData)' : '';
        return `    <testcase ${attrs}>\n      <skipped message="${escapeXml(`no data: ${s.note ?? 'no samples'}${why}`)}"/>\n    </testcase>`;
      }
      return `    <testcase ${attrs}>\n      <system-out>${escapeXml(`measured ${measured} over ${s.samples} samples`)}</system-out>\n    </testcase>`;
    });
    const props = [
      ['phase', phase],
      ['runId', results.run.runId ?? ''],
      ['experiment', results.run.title ?? ''],
    ]
      .map(([k, v]) => `      <property name="${escapeXml(k ?? '')}" value="${escapeXml(v ?? '')}"/>`)
      .join('\n');
    suites.push(
      `  <testsuite name="${escapeXml(`SLOs: ${phase}`)}" tests="${cases.length}" failures="${f}" errors="0" skipped="${sk}" time="0" timestamp="${timestamp}">\n` +
        `    <properties>\n${props}\n    </properties>\n${body.join('\n')}\n  </testsuite>`,
    );
  }
  const name = results.run.title ? `owui-chaos: ${results.run.title}` : 'owui-chaos';
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${escapeXml(name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="0">\n` +
    (suites.length > 0 ? suites.join('\n') + '\n' : '') +
    `</testsuites>\n`
  );
}
