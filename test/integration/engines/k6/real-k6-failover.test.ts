// `owui-chaos run <failover> --engine k6` on the lab with real k6 binaries, one block per version
// in OWUI_K6_BINARIES (else OWUI_K6_BINARY, else `k6` on PATH); skipped with the reason printed
// when there is no k6 (this project never installs it: AGPL).
//
// Per version, the verdict must be right both ways:
// - healthy lab: PASS, exit 0, with API and browser chats measured before and after the switch
//   and the failover injected; on plain k6 the SLOs it cannot time (API ttft/itl/…) are reported
//   "not measurable" with the reason and named in the headline, on xk6-sse they are measured;
// - an SLO the run cannot meet: BREACH, exit 10;
// - browser clients that never connect (a foreign Origin the deployment refuses): never a pass,
//   the run stops at the steady state (exit 4) naming the browser SLO without data. That is the
//   silent failure old k6 once had (exit 0, no browser sample at all).

import { k6Binaries } from '../../../helpers/k6-binaries.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readJson, runCli, sharedTestLab } from '../../app/support.js';

const FIXTURES = resolve(import.meta.dirname, '..', '..', '..', 'fixtures', 'experiments', 'k6');

const binaries = k6Binaries('run failover --engine k6').map(({ binary, label, sse }) => ({
  binary,
  version: label,
  sse,
}));

interface SloRow {
  id: string;
  phase: string;
  verdict: string;
  samples: number;
  note?: string;
  slo: { notMeasured?: string };
}
interface Results {
  verdict: string;
  exitCode: number;
  headline: string;
  stops: { code: string; message: string }[];
  slos: SloRow[];
  journal: { activities: { name: string; kind: string; status: string }[] } | null;
  summary: { metric: string; phase: string; client: string; count: number }[];
}

if (binaries.length === 0)
  describe.skip('run failover --engine k6 (no k6 binary here)', () => it('needs k6'));

describe.skipIf(binaries.length === 0)('run failover --engine k6 on the lab', () => {
  const lab = sharedTestLab('k6fo');
  const out = mkdtempSync(join(tmpdir(), 'owui-k6-failover-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const run = async (version: string, binary: string, name: string, args: string[]) => {
    const dir = join(out, `${version.replace(/\W+/g, '-')}-${name}`);
    const cli = runCli(
      lab(),
      ['run', ...args, '--lab-name', lab().name, '--engine', 'k6', '--k6-binary', binary, '--out', dir],
      240_000,
    );
    const exit = await cli.exit;
    const context = `exit ${exit.code}\n${(exit.stdout + exit.stderr).slice(-3000)}`;
    return { exit, context, results: readJson<Results>(join(dir, 'results.json')) };
  };
  const count = (r: Results, metric: string, phase: string, client: string): number =>
    r.summary.find((s) => s.metric === metric && s.phase === phase && s.client === client)?.count ?? 0;

  describe.each(binaries)('$version', ({ binary, version, sse }) => {
    it('healthy lab: PASS (exit 0), both client kinds measured around the switch', async () => {
      const { exit, context, results } = await run(version, binary, 'healthy', [
        join(FIXTURES, 'failover-k6.yaml'),
      ]);
      expect(exit.code, context).toBe(0);
      expect(results.verdict, context).toBe('pass');
      expect(results.stops).toEqual([]);
      const failover = results.journal?.activities.find((a) => a.name === 'failover');
      expect(failover, context).toMatchObject({ kind: 'inject', status: 'succeeded' });
      for (const phase of ['baseline', 'recovery']) {
        expect(count(results, 'stream_outcome', phase, 'api'), `${phase} api\n${context}`).toBeGreaterThan(0);
        expect(
          count(results, 'stream_outcome', phase, 'browser'),
          `${phase} browser\n${context}`,
        ).toBeGreaterThan(0);
      }
      expect(count(results, 'ws_connect_time', 'baseline', 'browser')).toBeGreaterThan(0);
      const itl = results.slos.filter((s) => s.id === 'itl:p95:api');
      expect(itl.length).toBeGreaterThan(0);
      if (sse) {
        // xk6-sse times events: the API itl SLO is judged on data, and nothing is "not measurable"
        // but tokens per read.
        expect(itl.every((s) => s.verdict === 'pass' && s.samples > 0)).toBe(true);
        expect(results.headline).toMatch(/not measurable by this load engine \(burst_size \[api\]\)$/);
      } else {
        // plain k6: said, with the reason, and named in the headline; not a silent pass
        expect(
          itl.every((s) => s.verdict === 'no-data' && /^not measurable: .*xk6-sse/.test(s.note ?? '')),
        ).toBe(true);
        expect(results.headline).toMatch(/not measurable by this load engine \(.*itl \[api\]/);
      }
    }, 300_000);

    it('negative control: an SLO the run cannot meet gives BREACH (exit 10)', async () => {
      const { exit, context, results } = await run(version, binary, 'unmet', [
        join(FIXTURES, 'failover-k6-unmet.yaml'),
      ]);
      expect(exit.code, context).toBe(10);
      expect(results.verdict).toBe('breach');
      expect(results.slos.find((s) => s.id === 'e2e:p50:api')).toMatchObject({ verdict: 'breach' });
    }, 300_000);

    it('negative control: browsers refused at the handshake (foreign Origin) never pass', async () => {
      const target = parse(readFileSync(join(lab().stateDir, 'target.yaml'), 'utf8')) as {
        openwebui: Record<string, unknown>;
      };
      target.openwebui.origin = 'http://foreign.example.invalid';
      const file = join(out, `${version.replace(/\W+/g, '-')}-foreign-origin.yaml`);
      writeFileSync(file, stringify(target));
      const { exit, context, results } = await run(version, binary, 'foreign', [
        join(FIXTURES, 'failover-k6.yaml'),
        '--target',
        file,
        '--yes',
      ]);
      expect(exit.code, context).not.toBe(0);
      expect(results.verdict).not.toBe('pass');
      expect(exit.code, context).toBe(4);
      expect(results.stops[0]?.code).toBe('STEADY_STATE_BROKEN');
      // named: no browser joined, and each refused attempt counted
      expect(results.stops[0]?.message).toMatch(/ws_connect_time:count:browser: measured 0/);
      expect(results.stops[0]?.message).toMatch(/ws_connect_errors:count:browser: measured [1-9]/);
      expect(count(results, 'ws_connect_time', 'baseline', 'browser')).toBe(0);
    }, 300_000);
  });
});
