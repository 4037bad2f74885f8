// `junit.xml` (Jenkins / Surefire flavour, validated against test/fixtures/reports/junit.xsd):
// one testsuite per phase, one testcase per SLO × phase. A breach is a <failure> carrying measured
// vs objective; no-data is <skipped> with the reason. Every data string is XML-escaped.

import { formatObjective, formatValue, selectorLabel } from './format.js';
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

function caseName(s: SloResult): string {
  return `${selectorLabel(s.slo)} ${s.slo.stat} ${formatObjective(s.slo)}`;
}

export function renderJunit(results: RunResults): string {
  const phases = [...results.phases.map((p) => p.name)];
  for (const s of results.slos) if (!phases.includes(s.phase)) phases.push(s.phase);
  const timestamp = new Date(results.run.startedAt ?? results.input.firstSampleAt ?? results.generatedAt)
    .toISOString()
    .replace(/\.\d{3}Z$/, '');
  const suites: string[] = [];
  let failures = 0;
  let skipped = 0;
  let tests = 0;
  for (const phase of phases) {
    const cases = results.slos.filter((s) => s.phase === phase);
    if (cases.length === 0) continue;
    const f = cases.filter((s) => s.verdict === 'breach').length;
    const sk = cases.filter((s) => s.verdict === 'no-data').length;
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
      if (s.verdict === 'no-data') {
        return `    <testcase ${attrs}>\n      <skipped message="${escapeXml(`no data: ${s.note ?? 'no samples'}`)}"/>\n    </testcase>`;
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
