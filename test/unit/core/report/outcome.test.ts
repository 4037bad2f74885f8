import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../../src/core/errors.js';
import { evaluateSamples } from '../../../../src/core/report/evaluate.js';
import { renderHtml } from '../../../../src/core/report/html.js';
import { renderJunit } from '../../../../src/core/report/junit.js';
import {
  STOP_PRECEDENCE,
  decideOutcome,
  type RunStop,
  type StopReason,
} from '../../../../src/core/report/outcome.js';
import { applyOutcome } from '../../../../src/core/report/results.js';
import { renderTerminalSummary } from '../../../../src/core/report/terminal.js';
import type { SloSpec } from '../../../../src/core/slo/spec.js';
import { T0, journalWith, ttftSeries } from './synthetic.js';

const slo: SloSpec = { metric: 'ttft', stat: 'p95', lte: 500, phases: ['all'] };
const pass = { verdict: 'pass' as const, slo };
const breach = { verdict: 'breach' as const, slo };
const stop = (reason: StopReason): RunStop => ({
  reason,
  code: reason.toUpperCase(),
  message: reason,
  suggestions: [],
});

describe('decideOutcome (exit-code precedence)', () => {
  it('rollback failed > interrupted > steady state > fault > load > SLOs > pass', () => {
    expect(decideOutcome([pass]).exitCode).toBe(0);
    expect(decideOutcome([breach]).exitCode).toBe(ExitCode.sloBreached);
    expect(decideOutcome([breach], [stop('load-failed')]).exitCode).toBe(ExitCode.loadGeneratorError);
    expect(decideOutcome([breach], [stop('load-failed'), stop('fault-failed')]).exitCode).toBe(
      ExitCode.faultFailed,
    );
    expect(decideOutcome([pass], [stop('fault-failed'), stop('steady-state-failed')]).exitCode).toBe(
      ExitCode.preflightFailed,
    );
    expect(decideOutcome([pass], [stop('steady-state-failed'), stop('interrupted')]).exitCode).toBe(
      ExitCode.interrupted,
    );
    expect(decideOutcome([pass], [stop('interrupted'), stop('rollback-failed')])).toMatchObject({
      exitCode: ExitCode.rollbackFailed,
      verdict: 'rollback-failed',
    });
  });

  it('property: the highest stop decides, whatever the order and the SLOs; all stops are kept in order', () => {
    const reason = fc.constantFrom(...STOP_PRECEDENCE);
    fc.assert(
      fc.property(fc.array(reason, { maxLength: 6 }), fc.boolean(), (reasons, breached) => {
        const o = decideOutcome([breached ? breach : pass], reasons.map(stop));
        if (reasons.length === 0) {
          expect(o.exitCode).toBe(breached ? 10 : 0);
          return;
        }
        const best = [...reasons].sort((a, b) => STOP_PRECEDENCE.indexOf(a) - STOP_PRECEDENCE.indexOf(b))[0];
        expect(o.verdict).toBe(best);
        expect(o.exitCode).not.toBe(0);
        expect(o.stops.map((s) => s.reason)).toEqual(
          [...reasons].sort((a, b) => STOP_PRECEDENCE.indexOf(a) - STOP_PRECEDENCE.indexOf(b)),
        );
      }),
    );
  });

  it('a run that stopped early is never a pass, even when every evaluated SLO met', () => {
    for (const r of STOP_PRECEDENCE) {
      const o = decideOutcome([pass], [stop(r)]);
      expect(o.verdict).not.toBe('pass');
      expect(o.exitCode).toBeGreaterThan(0);
    }
  });
});

describe('one outcome in every output', () => {
  // A run stopped at its steady state: the SLOs it evaluated all held (the old bug said PASS).
  const results = applyOutcome(
    evaluateSamples(
      ttftSeries(T0, T0 + 30_000, () => 100),
      {
        journal: { ...journalWith([]), plannedFaults: 1 },
        slos: [
          { metric: 'ttft', stat: 'p95', lte: 500, phases: ['baseline'] },
          { metric: 'ttft', stat: 'p95', lte: 500, phases: ['recovery'] },
        ],
      },
    ),
    [
      {
        reason: 'steady-state-failed',
        code: 'STEADY_STATE_BROKEN',
        message: 'The steady state did not hold before the first fault, so nothing was injected: itl…',
        suggestions: ['owui-chaos lab status'],
      },
    ],
  );

  it('results.json carries the stop, its exit code and the unreached phases', () => {
    expect(results).toMatchObject({ verdict: 'steady-state-failed', exitCode: 4 });
    expect(results.stops[0]?.code).toBe('STEADY_STATE_BROKEN');
    expect(results.slos.find((s) => s.phase === 'baseline')?.verdict).toBe('pass');
    expect(results.slos.find((s) => s.phase === 'recovery')?.note).toMatch(/not reached/);
  });

  it('terminal, junit and html say the same verdict and exit code, and why', () => {
    const term = renderTerminalSummary(results);
    expect(term).toMatch(/Verdict STEADY STATE BROKEN: the steady state did not hold .* → exit 4/);
    expect(term).toMatch(/stopped early \(steady-state-failed, STEADY_STATE_BROKEN\)/);
    expect(term).not.toMatch(/PASS: /);
    expect(term).not.toMatch(/exit 0/);
    const xml = renderJunit(results);
    expect(xml).toMatch(/<testsuites [^>]*failures="1"/);
    expect(xml).toMatch(
      /<failure message="STEADY STATE BROKEN: [^"]*\(exit 4\)" type="RunStopped:steady-state-failed">/,
    );
    expect(xml).toContain('<property name="exitCode" value="4"/>');
    // The unreached recovery SLO is skipped, not failed twice.
    expect(xml).toMatch(/<skipped message="no data: phase `recovery` not reached/);
    const html = renderHtml(results);
    expect(html).toMatch(/STEADY STATE BROKEN<\/b>: the steady state did not hold/);
    expect(html).toContain('→ exit 4');
    expect(html).toContain('STEADY_STATE_BROKEN');
  });

  it('negative control: a run that went to the end with every SLO met is a pass everywhere', () => {
    const ok = evaluateSamples(
      ttftSeries(T0, T0 + 60_000, () => 100),
      {
        journal: journalWith([{ name: 'f', start: T0 + 20_000, end: T0 + 30_000 }]),
        slos: [{ metric: 'ttft', stat: 'p95', lte: 500, phases: ['baseline', 'recovery'] }],
      },
    );
    expect(ok).toMatchObject({ verdict: 'pass', exitCode: 0, stops: [] });
    expect(renderTerminalSummary(ok)).toMatch(/Verdict PASS: 2 of 2 SLO checks met → exit 0/);
    expect(renderJunit(ok)).toMatch(/<testsuites [^>]*failures="0"/);
    expect(renderHtml(ok)).toContain('→ exit 0');
  });

  it('a load-only run judges its SLOs over the whole run (no "no phase baseline")', () => {
    const loadOnly = evaluateSamples(
      ttftSeries(T0, T0 + 30_000, () => 100),
      {
        journal: null,
        slos: [{ metric: 'ttft', stat: 'p95', lte: 500, phases: ['baseline', 'recovery'] }],
      },
    );
    expect(loadOnly.slos).toHaveLength(1);
    expect(loadOnly.slos[0]).toMatchObject({ phase: 'all', verdict: 'pass' });
    expect(loadOnly).toMatchObject({ verdict: 'pass', exitCode: 0 });
  });
});
