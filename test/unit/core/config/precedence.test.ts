import { describe, expect, it } from 'vitest';
import { experimentOverrides } from '../../../../src/core/config/precedence.js';
import { loadExperiment } from '../../../../src/core/config/experiment.js';
import { experimentFixture, rejection } from './helpers.js';

describe('config precedence: defaults < file < env < flags', () => {
  const file = experimentFixture('valid', 'minimal.yaml');

  it('uses the file when nothing overrides it', async () => {
    const { experiment } = await loadExperiment(file, { env: {} });
    expect(experiment.load.duration).toBe(30_000);
    expect(experiment.load.engine).toBe('node');
  });

  it('an OWUI_CHAOS_* variable beats the file', async () => {
    const { experiment } = await loadExperiment(file, {
      env: { OWUI_CHAOS_DURATION: '45s', OWUI_CHAOS_ENGINE: 'k6', OWUI_CHAOS_ABORT_ON_BREACH: 'true' },
    });
    expect(experiment.load.duration).toBe(45_000);
    expect(experiment.load.engine).toBe('k6');
    expect(experiment.settings.abortOnBreach).toBe(true);
  });

  it('a flag beats the variable', async () => {
    const { experiment } = await loadExperiment(file, {
      env: { OWUI_CHAOS_DURATION: '45s' },
      flags: { duration: '20s' },
    });
    expect(experiment.load.duration).toBe(20_000);
  });

  it('a target from a flag is relative to the working directory, not the experiment file', async () => {
    const { targetRef } = await loadExperiment(file, { env: {}, flags: { target: 'some/target.yaml' } });
    expect(targetRef).toEqual({ kind: 'file', file: `${process.cwd()}/some/target.yaml` });
  });

  it('an invalid override is checked like the file and names where it came from', async () => {
    const error = await rejection(loadExperiment(file, { env: { OWUI_CHAOS_DURATION: 'soon' } }));
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'load.duration',
        message: expect.stringMatching(/is "soon"; use a duration .*\(set by env OWUI_CHAOS_DURATION\)$/),
      }),
    ]);
    expect(error.issues[0]?.line).toBeUndefined();
  });

  it('lists env overrides before flag overrides so flags are applied last', () => {
    const overrides = experimentOverrides(
      { OWUI_CHAOS_TARGET: 'a.yaml', OWUI_CHAOS_ENGINE: '' },
      { target: 'b.yaml' },
    );
    expect(overrides.map((o) => [o.path.join('.'), o.value, o.origin])).toEqual([
      ['target', 'a.yaml', 'env OWUI_CHAOS_TARGET'],
      ['target', 'b.yaml', 'flag --target'],
    ]);
  });
});
