import { describe, expect, it } from 'vitest';
import {
  loadExperiment,
  parseExperiment,
  type TimelineEntry,
} from '../../../../src/core/config/experiment.js';
import { loadTarget } from '../../../../src/core/config/target.js';
import { SECRET_ENV, experimentFixture, rejection } from './helpers.js';

const load = (name: string, env: Record<string, string> = {}) =>
  loadExperiment(experimentFixture('invalid', name), {
    env,
    resolveTarget: async (ref) =>
      ref.kind === 'file' ? loadTarget(ref.file, { env: SECRET_ENV }) : undefined,
  });

describe('experiment model: valid files', () => {
  it('parses the full example and normalises durations to milliseconds', async () => {
    const { experiment, targetRef, warnings } = await loadExperiment(
      experimentFixture('valid', 'full.yaml'),
      { env: {} },
    );
    expect(targetRef).toEqual({ kind: 'lab' });
    expect(experiment.load).toEqual({
      engine: 'node',
      duration: 90_000,
      chat: { model: 'closed', vus: 10, thinkTime: 1000, tokens: 120, tokensPerSecond: 40 },
      sockets: { vus: 10, chatInterval: 5000, tokens: 120, eventGrace: 10_000 },
    });
    const [failover, slow, kill] = experiment.timeline as [TimelineEntry, TimelineEntry, TimelineEntry];
    expect(failover).toEqual({
      name: 'failover',
      at: 30_000,
      action: 'redis.failover',
      params: { timeout: 30_000 },
    });
    expect(slow).toMatchObject({
      at: 40_000,
      for: 20_000,
      params: { proxy: 'llm', latency: 500, jitter: 50, stream: 'downstream', toxicity: 1 },
    });
    // Defaults filled in where the file leaves params out.
    expect(kill).toMatchObject({ action: 'replica.kill', params: { replica: 'random', count: 1 } });
    expect(experiment.rollbacks).toEqual([{ revert: 'slow-llm' }]);
    expect(experiment.settings).toEqual({
      abortOnBreach: false,
      recoveryWindow: 10_000,
      steadyState: 10_000,
      rollbackStrategy: 'always',
      defaultSlos: true,
    });
    expect(experiment.slos[1]).toMatchObject({ metric: 'e2e', phases: ['slow-llm'] });
    expect(warnings).toEqual([]);
  });

  it('fills defaults for a minimal file (target lab, node engine, 1 s think time, 120 tokens)', async () => {
    const { experiment, warnings } = await loadExperiment(experimentFixture('valid', 'minimal.yaml'), {
      env: {},
    });
    expect(experiment.target).toBe('lab');
    expect(experiment.load).toEqual({
      engine: 'node',
      duration: 30_000,
      chat: { model: 'closed', vus: 2, thinkTime: 1000, tokens: 120 },
    });
    expect(experiment.timeline).toEqual([]);
    expect(warnings.map((w) => w.message)).toEqual(['no SLOs: the run will measure but cannot pass or fail']);
  });

  it('reads the open model: `300/m` becomes 5 arrivals per second', async () => {
    const { experiment } = await loadExperiment(experimentFixture('valid', 'open-model.yaml'), { env: {} });
    expect(experiment.load.engine).toBe('k6');
    expect(experiment.load.chat).toEqual({ model: 'open', rate: 5, maxInFlight: 20, tokens: 50 });
    expect(experiment.timeline[1]).toMatchObject({
      for: 10_000,
      params: { average_size: 4, size_variation: 0, delay: 0 },
    });
  });

  it('resolves a target path relative to the experiment file and checks the experiment against it', async () => {
    const loaded = await loadExperiment(experimentFixture('valid', 'with-target.yaml'), {
      env: {},
      resolveTarget: async (ref) =>
        ref.kind === 'file' ? loadTarget(ref.file, { env: SECRET_ENV }) : undefined,
    });
    expect(loaded.targetRef).toEqual({
      kind: 'file',
      file: expect.stringMatching(/test\/fixtures\/targets\/valid\/full\.yaml$/),
    });
    expect(loaded.target?.target.toxiproxy?.proxies?.[0]?.name).toBe('llm');
  });

  it('merges default SLOs under its own, an own SLO replacing the default with the same id', async () => {
    const defaults = [
      { metric: 'ttft', stat: 'p95', lte: 1000, phases: ['all'] },
      { metric: 'http_errors', stat: 'count', lte: 0, phases: ['baseline'] },
    ] as const;
    const { experiment } = await loadExperiment(experimentFixture('valid', 'full.yaml'), {
      env: {},
      defaultSlos: defaults.map((d) => ({ ...d, phases: [...d.phases] })),
    });
    expect(experiment.slos.map((s) => `${s.metric}:${s.stat}:${s.lte}`)).toEqual([
      'ttft:p95:2000',
      'e2e:p99:8000',
      'http_errors:count:0',
    ]);
  });

  it('skips default SLOs when settings.defaultSlos is false', async () => {
    const { experiment } = await parseExperiment(
      'title: t\nload: { duration: 10s, chat: { vus: 1 } }\nsettings: { defaultSlos: false }\n',
      '/tmp/inline.yaml',
      { env: {}, defaultSlos: [{ metric: 'ttft', stat: 'p95', lte: 1, phases: ['all'] }] },
    );
    expect(experiment.slos).toEqual([]);
  });

  it('warns (without failing) when the first fault starts inside the steady-state window or recovery has no time', async () => {
    const { warnings } = await parseExperiment(
      'title: t\nload: { duration: 30s, chat: { vus: 1 } }\nslos: [{ metric: ttft, stat: p95, lte: 1 }]\ntimeline:\n  - { name: a, at: 5s, for: 20s, action: toxic.down, params: { proxy: llm } }\n',
      '/tmp/inline.yaml',
      { env: {} },
    );
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('`timeline.0.at` is 5 s, before the 10 s steady-state window'),
      expect.stringContaining(
        'leaving 5 s before the load stops, less than `settings.recoveryWindow` (10 s)',
      ),
    ]);
    expect(warnings[0]).toMatchObject({ line: 5, path: 'timeline.0.at' });
  });

  it('warns that a lasting fault without `for` leaves no recovery phase, and counts a window its kind gives', async () => {
    const parse = async (entry: string): Promise<string[]> =>
      (
        await parseExperiment(
          `title: t\nload: { duration: 60s, chat: { vus: 1 } }\nslos: [{ metric: ttft, stat: p95, lte: 1 }]\ntimeline:\n  - ${entry}\n`,
          '/tmp/inline.yaml',
          { env: {} },
        )
      ).warnings.map((w) => w.message);
    expect(
      await parse('{ name: slow, at: 20s, action: toxic.latency, params: { proxy: llm, latency: 300 } }'),
    ).toEqual([
      '`timeline.0` (slow) has no `for`: it stays until the load stops, so the run has no recovery phase and recovery cannot be confirmed',
    ]);
    // Healthy controls: a window inside the run, and an instantaneous fault.
    expect(
      await parse(
        '{ name: slow, at: 20s, for: 20s, action: toxic.latency, params: { proxy: llm, latency: 300 } }',
      ),
    ).toEqual([]);
    expect(await parse('{ name: flip, at: 20s, action: redis.failover }')).toEqual([]);
    // redis.kill-master's window is its restartAfter when it has no `for`.
    expect(
      await parse('{ name: r, at: 20s, action: redis.kill-master, params: { restartAfter: 35s } }'),
    ).toEqual([expect.stringContaining('the last fault ends at 55 s, leaving 5 s before the load stops')]);
  });
});

describe('experiment model: one invalid file per rule', () => {
  it('unknown key: names the key, its position and the nearest valid key', async () => {
    const error = await rejection(load('unknown-key-slo.yaml'));
    expect(error.code).toBe('EXPERIMENT_INVALID');
    expect(error.exitCode).toBe(3);
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_KEY',
        path: 'slo',
        line: 5,
        column: 1,
        message: 'unknown key `slo` — did you mean `slos`?',
      }),
    ]);
    expect(error.issues[0]?.file).toMatch(/unknown-key-slo\.yaml$/);
    expect(error.suggestions).toContainEqual(
      expect.stringMatching(/^owui-chaos experiment validate .*unknown-key-slo\.yaml$/),
    );
  });

  it('unknown key in nested params suggests the nearest parameter', async () => {
    const error = await rejection(load('unknown-param-jiter.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_KEY',
        path: 'timeline.0.params.jiter',
        line: 13,
        column: 7,
        message: expect.stringContaining('did you mean `jitter`?'),
      }),
    ]);
  });

  it('rollback of an undeclared fault', async () => {
    const error = await rejection(load('rollback-unknown-fault.yaml'));
    expect(error.code).toBe('EXPERIMENT_INVALID');
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_REFERENCE',
        path: 'rollbacks.0.revert',
        line: 8,
        column: 13,
        message: expect.stringContaining('"slow-lm", which names no timeline entry'),
      }),
    ]);
    expect(error.issues[0]?.message).toContain('did you mean `slow-llm`?');
  });

  it('rollback of a fault that has no inverse', async () => {
    const error = await rejection(load('rollback-no-inverse.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'CONFLICT',
        path: 'rollbacks.0.revert',
        message: expect.stringContaining('redis.failover has no inverse'),
      }),
    ]);
  });

  it('malformed YAML: file, line and column', async () => {
    const error = await rejection(load('yaml-syntax.yaml'));
    expect(error.code).toBe('YAML_SYNTAX');
    expect(error.message).toMatch(/yaml-syntax\.yaml is not valid YAML/);
    expect(error.issues[0]).toMatchObject({ code: 'YAML_SYNTAX', line: 5, column: 1 });
    expect(error.issues[0]?.message).toContain('Flow map');
  });

  it('a duplicated key is a YAML error at the second occurrence', async () => {
    const error = await rejection(load('duplicate-key.yaml'));
    expect(error.code).toBe('YAML_SYNTAX');
    expect(error.issues[0]).toMatchObject({
      line: 5,
      column: 1,
      message: expect.stringContaining('DUPLICATE_KEY'),
    });
  });

  it('out of range: what was given and what is allowed', async () => {
    const error = await rejection(load('vus-negative.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'OUT_OF_RANGE',
        path: 'load.chat.vus',
        line: 5,
        column: 10,
        message: '`load.chat.vus` is -3; use an integer ≥ 1',
      }),
    ]);
  });

  it('probability above 1', async () => {
    const error = await rejection(load('toxicity-out-of-range.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'timeline.0.params.toxicity',
        message: '`timeline.0.params.toxicity` is 1.5; use a number ≤ 1',
      }),
    ]);
  });

  it('a duration that is not one', async () => {
    const error = await rejection(load('duration-not-a-duration.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'load.duration',
        line: 3,
        column: 13,
        message: expect.stringContaining(
          '`load.duration` is "ninety seconds"; use a duration such as `500ms`, `30s`',
        ),
      }),
    ]);
  });

  it('missing environment variable: its name and where it is referenced', async () => {
    const error = await rejection(load('env-missing.yaml'));
    expect(error.code).toBe('ENV_MISSING');
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'ENV_MISSING',
        path: 'target',
        line: 2,
        column: 9,
        message: expect.stringContaining(
          '`OWUI_CHAOS_FIXTURE_UNSET_TARGET` is not set (referenced by `target`)',
        ),
      }),
    ]);
    expect(error.suggestions).toContain('export OWUI_CHAOS_FIXTURE_UNSET_TARGET=…');
  });

  it('an env reference with a misspelled key', async () => {
    const error = await rejection(load('env-reference-typo.yaml'));
    expect(error.issues.map((i) => i.code).sort()).toEqual(['ENV_MISSING', 'UNKNOWN_KEY']);
    expect(error.issues.find((i) => i.code === 'UNKNOWN_KEY')?.message).toContain('did you mean `default`?');
  });

  it('fault scheduled after the load ends', async () => {
    const error = await rejection(load('fault-after-duration.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'OUTSIDE_DURATION',
        path: 'timeline.0.at',
        line: 6,
        message: expect.stringContaining('is 90 s, at or after the end of the load (`load.duration` 60 s)'),
      }),
    ]);
  });

  it('fault window running past the end of the load', async () => {
    const error = await rejection(load('fault-window-past-duration.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'OUTSIDE_DURATION',
        path: 'timeline.0.for',
        message: expect.stringContaining(
          'runs from 40 s to 70 s, past the end of the load at 60 s; shorten it to at most 20 s',
        ),
      }),
    ]);
  });

  it('duplicate timeline names', async () => {
    const error = await rejection(load('duplicate-timeline-name.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'DUPLICATE_NAME',
        path: 'timeline.1.name',
        line: 7,
        message: expect.stringContaining('"slow", already used by `timeline.0`'),
      }),
    ]);
  });

  it('SLO phase naming no timeline entry', async () => {
    const error = await rejection(load('slo-phase-unknown.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_REFERENCE',
        path: 'slos.0.phases.0',
        line: 6,
        message: expect.stringContaining('did you mean `failover`?'),
      }),
    ]);
  });

  it('more replicas down at once than safety.maxUnavailable', async () => {
    const error = await rejection(load('too-many-unavailable.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'TOO_MANY_UNAVAILABLE',
        path: 'timeline.1',
        line: 7,
        message: expect.stringContaining('takes 2 replicas out of service at 30 s together with `kill-a`'),
      }),
    ]);
  });

  it('unknown fault action, with the nearest action', async () => {
    const error = await rejection(load('unknown-action.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'INVALID_VALUE',
        path: 'timeline.0.action',
        line: 6,
        message: expect.stringMatching(
          /is "redis\.failovr"; use one of `replica\.kill`.*did you mean `redis\.failover`\?$/,
        ),
      }),
    ]);
  });

  it('closed and open model at once', async () => {
    const error = await rejection(load('chat-vus-and-rate.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'CONFLICT',
        path: 'load.chat',
        message: expect.stringContaining('give `vus: N`'),
      }),
    ]);
  });

  it('toxic without its proxy', async () => {
    const error = await rejection(load('toxic-missing-proxy.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'MISSING_KEY',
        path: 'timeline.0.params.proxy',
        message: '`timeline.0.params.proxy` is missing; give the name of a Toxiproxy proxy, e.g. `llm`',
      }),
    ]);
  });

  it('an SLO with two objectives (SloSpecSchema’s rule)', async () => {
    const error = await rejection(load('slo-two-objectives.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'slos.0',
        message: expect.stringContaining('give exactly one objective'),
      }),
    ]);
  });

  it('load without clients', async () => {
    const error = await rejection(load('no-load.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'load',
        message: expect.stringContaining('without them there is no load'),
      }),
    ]);
  });

  it('missing required key', async () => {
    const error = await rejection(load('missing-title.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'MISSING_KEY',
        path: 'title',
        line: 1,
        column: 1,
        message: '`title` is missing; give a string',
      }),
    ]);
  });

  it('an empty file says what an experiment needs', async () => {
    const error = await rejection(load('empty.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'MISSING_KEY',
        line: 1,
        column: 1,
        message: expect.stringContaining('the file is empty; an experiment needs at least `title:`'),
      }),
    ]);
  });

  it('collects every schema problem in one pass, in file order', async () => {
    const error = await rejection(load('several-problems.yaml'));
    expect(error.message).toMatch(/has 3 problems$/);
    expect(error.issues.map((i) => [i.path, i.line])).toEqual([
      ['lod', 2],
      ['load.chat.vus', 5],
      ['timeline.0.action', 7],
    ]);
  });

  it('destructive fault on a target that forbids them', async () => {
    const error = await rejection(load('destructive-on-safe-target.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'NOT_SUPPORTED_BY_TARGET',
        path: 'timeline.0.action',
        message: expect.stringContaining('`safety.allowDestructive: false`'),
      }),
    ]);
  });

  it('toxic on a proxy the target does not list', async () => {
    const error = await rejection(load('toxic-proxy-not-in-target.yaml'));
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'UNKNOWN_REFERENCE',
        path: 'timeline.0.params.proxy',
        message: expect.stringContaining('did you mean `llm`?'),
      }),
    ]);
  });

  it('a target file that does not exist points at the experiment’s `target` line', async () => {
    const error = await rejection(
      parseExperiment(
        'title: t\nload: { duration: 10s, chat: { vus: 1 } }\ntarget: ./nowhere.yaml\n',
        experimentFixture('valid', 'inline.yaml'),
        {
          env: {},
          resolveTarget: async (ref) => (ref.kind === 'file' ? loadTarget(ref.file, { env: {} }) : undefined),
        },
      ),
    );
    expect(error.issues).toEqual([
      expect.objectContaining({
        code: 'FILE_NOT_FOUND',
        path: 'target',
        line: 3,
        column: 9,
        message: expect.stringMatching(/^`target`: .*nowhere\.yaml does not exist$/),
      }),
    ]);
  });

  it('a missing file is FILE_NOT_FOUND (exit 3) with a suggestion', async () => {
    const error = await rejection(
      loadExperiment(experimentFixture('invalid', 'no-such-file.yaml'), { env: {} }),
    );
    expect(error.code).toBe('FILE_NOT_FOUND');
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/no-such-file\.yaml does not exist$/);
    expect(error.suggestions).toEqual(['owui-chaos experiment list']);
  });

  it('an invalid target file is reported inside the experiment error, with the target file’s positions', async () => {
    const error = await rejection(
      parseExperiment(
        'title: t\ntarget: ../../targets/invalid/nginx-type-unknown.yaml\nload: { duration: 10s, chat: { vus: 1 } }\n',
        experimentFixture('valid', 'inline.yaml'),
        {
          env: {},
          resolveTarget: async (ref) => (ref.kind === 'file' ? loadTarget(ref.file, { env: {} }) : undefined),
        },
      ),
    );
    expect(error.code).toBe('EXPERIMENT_INVALID');
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'nginx.type',
        line: 4,
        file: expect.stringMatching(/nginx-type-unknown\.yaml$/),
        message: expect.stringContaining('did you mean `local`?'),
      }),
    ]);
  });
});
