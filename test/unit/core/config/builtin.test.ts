import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listBuiltinExperiments, resolveExperimentRef } from '../../../../src/core/config/builtin.js';
import { loadExperiment } from '../../../../src/core/config/experiment.js';
import { FAULT_FACTS } from '../../../../src/core/config/faults.js';
import { loadSloDefaults } from '../../../../src/core/config/slo-defaults.js';
import { experimentsDir, defaultSlosFile, packageRoot } from '../../../../src/cli/paths.js';
import { EXPERIMENTS, ROOT, rejection } from './helpers.js';

const BUILTINS = [
  'failover',
  'gameday',
  'llm-latency',
  'long-silence',
  'proxy-buffering',
  'redis-latency',
  'replica-kill',
  'rolling-restart',
];
/** The lab's Toxiproxy proxies (DESIGN §4). */
const LAB_PROXIES = ['llm', 'redis-master', 'redis-replica'];

describe('built-in experiments', () => {
  it('paths.ts finds the package root from src/', () => {
    expect(packageRoot()).toBe(ROOT);
    expect(experimentsDir()).toBe(EXPERIMENTS);
    expect(defaultSlosFile()).toBe(path.join(EXPERIMENTS, 'slos', 'default.yaml'));
  });

  it('lists every built-in with a title and a one-sentence summary', async () => {
    const list = await listBuiltinExperiments(EXPERIMENTS);
    expect(list.map((e) => e.name)).toEqual(BUILTINS);
    for (const e of list) {
      expect(e.problem).toBeUndefined();
      expect(e.title.length).toBeGreaterThan(5);
      expect(e.summary).toMatch(/^[A-Z].+[.…]$/);
    }
  });

  it('the default SLOs load and use only phases every run has', async () => {
    const slos = await loadSloDefaults(defaultSlosFile(), {});
    expect(slos.length).toBeGreaterThanOrEqual(4);
    for (const slo of slos)
      for (const phase of slo.phases) expect(['baseline', 'fault', 'recovery', 'all']).toContain(phase);
  });

  it.each(BUILTINS)(
    '%s validates with the default SLOs, fits 2–3 minutes, targets the lab and its proxies',
    async (name) => {
      const defaults = await loadSloDefaults(defaultSlosFile(), {});
      const { experiment, warnings } = await loadExperiment(path.join(EXPERIMENTS, `${name}.yaml`), {
        env: {},
        defaultSlos: defaults,
      });
      expect(warnings).toEqual([]);
      expect(experiment.target).toBe('lab');
      expect(experiment.description?.length ?? 0).toBeGreaterThan(100);
      expect(experiment.load.duration).toBeGreaterThanOrEqual(90_000);
      expect(experiment.load.duration).toBeLessThanOrEqual(180_000);
      // long-silence is load only by design: its "fault" is the model's silence itself.
      if (name !== 'long-silence') expect(experiment.timeline.length).toBeGreaterThan(0);
      // Each experiment adds SLOs of its own on top of the defaults.
      expect(experiment.slos.length).toBeGreaterThan(defaults.length);
      for (const entry of experiment.timeline) {
        expect(FAULT_FACTS[entry.action]).toBeDefined();
        if ('proxy' in entry.params) expect(LAB_PROXIES).toContain(entry.params.proxy);
      }
    },
  );

  it('resolves a built-in name, a path, and rejects an unknown name with the nearest one', async () => {
    expect(await resolveExperimentRef('failover', { builtinDir: EXPERIMENTS })).toBe(
      path.join(EXPERIMENTS, 'failover.yaml'),
    );
    expect(await resolveExperimentRef('./x/y.yaml', { builtinDir: EXPERIMENTS, cwd: '/tmp' })).toBe(
      '/tmp/x/y.yaml',
    );
    const error = await rejection(resolveExperimentRef('failovr', { builtinDir: EXPERIMENTS, cwd: '/tmp' }));
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.message).toContain('did you mean `failover`?');
    expect(error.suggestions).toEqual([
      'owui-chaos experiment list',
      'owui-chaos experiment validate failover',
    ]);
  });
});
