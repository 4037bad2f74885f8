// The console page's own script must parse: a stray newline inside one of its string literals
// once broke the whole page (no charts, no forms). The browser test finds that too, but slowly.
import { describe, expect, it } from 'vitest';
import { consolePage } from '../../../src/app/gameday-console-page.js';
import { faultCatalogue } from '../../../src/core/gameday/hand-fault.js';
import { METRIC_NAMES, STREAM_OUTCOMES } from '../../../src/core/metrics.js';
import { SLO_STATS } from '../../../src/core/slo/spec.js';

describe('the console page', () => {
  const html = consolePage({
    uplotJs: '/* uplot */',
    uplotCss: '',
    trends: ['ttft', 'itl', 'e2e'],
    percentiles: [50, 95, 99],
    catalogue: faultCatalogue(),
    title: 'a <title> & "quotes"',
    metrics: [...METRIC_NAMES],
    stats: [...SLO_STATS],
    outcomes: [...STREAM_OUTCOMES],
  });

  it('has a script that parses', () => {
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    expect(scripts.length).toBe(2);
    for (const s of scripts) expect(() => new Function(s)).not.toThrow();
    // Negative control: the same check rejects a script with a raw newline in a string literal.
    expect(() => new Function("const x = 'a\nb';")).toThrow(SyntaxError);
  });

  it('has the hypothesis check form and the hypotheses card', () => {
    for (const id of ['check-metric', 'check-stat', 'check-op', 'check-value', 'check-during', 'hypotheses'])
      expect(html).toContain(`id="${id}"`);
    expect(html).toContain('a &#60;title&#62; &#38; &#34;quotes&#34;');
  });
});
