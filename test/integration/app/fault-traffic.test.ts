// A fault that touched no traffic tested nothing: through the built CLI on a real simulator lab
// (real toxiproxy-server with -proxy-metrics), a toxic on a proxy nothing uses fails the run with
// exit 11 and FAULT_TOUCHED_NO_TRAFFIC; the control, toxics on proxies the replicas use (llm,
// redis-master), passes with the bytes each saw in the journal. The real Open WebUI catch (its
// Redis traffic bypasses the redis-master proxy) is in test/integration/lab/real-openwebui.test.ts.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findToxiproxyServer } from '../../../src/lab/openwebui/install.js';
import { fixture, readJson, runExperimentCli, sharedTestLab, toxiproxyClean } from './support.js';

const needLab = sharedTestLab('traffic');

interface Journal {
  status: string;
  activities: Array<{ name: string; kind: string; status: string; output?: { bytes?: number } }>;
  events?: Array<{ code: string }>;
}
interface Results {
  stops?: Array<{ code: string; message: string }>;
}

const probes = (j: Journal) =>
  Object.fromEntries(j.activities.filter((a) => a.kind === 'probe').map((a) => [a.name, a]));

// The lab's own Toxiproxy server keeps no byte counts; the check needs the real one.
describe.skipIf(!findToxiproxyServer())('owui-chaos run: a fault that touched no traffic', () => {
  it('the control: toxics on llm and redis-master carry traffic, the run passes and records the bytes', async (ctx) => {
    const l = needLab(ctx);
    const out = join(l.home, 'runs', 'reached');
    const exit = await runExperimentCli(l, fixture('traffic-redis-llm'), out, ['--keep-lab']).exit;
    const journal = readJson<Journal>(join(out, 'journal.json'));
    expect(exit.code, exit.stdout + exit.stderr).toBe(0);
    const p = probes(journal);
    console.log(`[fault-traffic] simulator lab: ${JSON.stringify(p)}`);
    expect(p['slow-llm']).toMatchObject({ status: 'succeeded' });
    expect(p['slow-redis']).toMatchObject({ status: 'succeeded' });
    expect(p['slow-llm']!.output!.bytes).toBeGreaterThan(1000);
    expect(p['slow-redis']!.output!.bytes).toBeGreaterThan(100);
    expect((journal.events ?? []).map((e) => e.code)).not.toContain('TRAFFIC_NOT_COUNTED');
    expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
  }, 120_000);

  it('is caught: a toxic on redis-replica (no client uses it) fails the run with exit 11', async (ctx) => {
    const l = needLab(ctx);
    const out = join(l.home, 'runs', 'untouched');
    const exit = await runExperimentCli(l, fixture('traffic-redis-replica'), out, ['--keep-lab']).exit;
    const output = exit.stdout + exit.stderr;
    expect(exit.code, output).toBe(11);
    expect(output).toContain('`slow-replica`');
    expect(output).toContain('touched no traffic');
    const results = readJson<Results>(join(out, 'results.json'));
    expect(results.stops?.map((s) => s.code)).toEqual(['FAULT_TOUCHED_NO_TRAFFIC']);
    expect(probes(readJson<Journal>(join(out, 'journal.json')))['slow-replica']).toMatchObject({
      status: 'failed',
      output: { bytes: 0 },
    });
    // The fault itself was reverted like any other.
    expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
  }, 120_000);
});
