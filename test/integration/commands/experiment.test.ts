// Runs the BUILT CLI (`node bin/run.js`) as a user would and asserts exit codes and output.
// `npm test` builds first; when dist/ is missing the tests fail with a message saying so.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../helpers/run-cli.js';

const FIXTURES = path.join(ROOT, 'test/fixtures');

const SECRETS = {
  OWUI_ADMIN_PASSWORD: 'admin-pw-cli-4e1f77',
  OWUI_LOAD_PASSWORD: 'load-pw-cli-9a0b3c',
  OWUI_API_KEY_1: 'sk-cli-key-61d2a8',
  OWUI_CHAOS_FIXTURE_API_TOKEN: 'tok-cli-secret-7c55e0',
};

/** Runs the CLI with a clean environment: no OWUI_CHAOS_* overrides leak in from the caller. */
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: ROOT, env, cleanEnv: true, timeoutMs: 30_000 });

beforeAll(() => {
  const built = path.join(ROOT, 'dist/commands/experiment/validate.js');
  if (!existsSync(built)) {
    throw new Error(
      `${built} is missing: build first with \`npm run build\` (or \`npx tsc -p tsconfig.build.json\`)`,
    );
  }
});

describe('owui-chaos experiment validate', () => {
  it('prints OK and the plan for a built-in experiment (exit 0)', async () => {
    const result = await cli(['experiment', 'validate', 'failover']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^OK\nRuns 8 API chat users over SSE/);
    expect(result.stdout).toContain('From 40 s to 60 s, `failover` (redis.failover)');
    expect(result.stdout).toContain('SLOs: ');
  });

  it('--json returns { ok, plan, experiment }', async () => {
    const result = await cli(['experiment', 'validate', 'replica-kill', '--json']);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as {
      ok: boolean;
      plan: { faults: unknown[]; text: string };
      experiment: { load: { duration: number }; timeline: Array<{ at: number; for: number }> };
    };
    expect(json.ok).toBe(true);
    expect(json.plan.faults).toEqual([
      expect.objectContaining({
        name: 'kill-one',
        action: 'replica.kill',
        from: 35_000,
        to: 65_000,
        inverse: 'start the replica again',
      }),
    ]);
    expect(json.experiment.load.duration).toBe(120_000);
    expect(json.experiment.timeline[0]).toMatchObject({ at: 35_000, for: 30_000 });
  });

  it('reports every problem with file, line and column (exit 3)', async () => {
    const result = await cli([
      'experiment',
      'validate',
      'test/fixtures/experiments/invalid/several-problems.yaml',
    ]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      'Error [EXPERIMENT_INVALID]: Experiment file test/fixtures/experiments/invalid/several-problems.yaml has 3 problems',
    );
    expect(result.stderr).toContain(
      'several-problems.yaml:2:1 `lod`: unknown key `lod` — did you mean `load`?',
    );
    expect(result.stderr).toContain(
      // The message already names the path, so it is not printed twice.
      'several-problems.yaml:5:16: `load.chat.vus` is 0; use an integer ≥ 1',
    );
    expect(result.stderr).toContain('did you mean `toxic.latency`?');
    expect(result.stderr).toContain(
      'Try this:\n  owui-chaos experiment validate test/fixtures/experiments/invalid/several-problems.yaml',
    );
  });

  it('--json on an invalid file returns the error object (exit 3)', async () => {
    const result = await cli([
      'experiment',
      'validate',
      'test/fixtures/experiments/invalid/yaml-syntax.yaml',
      '--json',
    ]);
    expect(result.code).toBe(3);
    const json = JSON.parse(result.stdout) as {
      error: { code: string; exitCode: number; issues: Array<{ line: number; column: number }> };
    };
    expect(json.error).toMatchObject({ code: 'YAML_SYNTAX', exitCode: 3 });
    expect(json.error.issues[0]).toMatchObject({ line: 5, column: 1 });
  });

  it('an unknown built-in name is exit 3 with the nearest name', async () => {
    const result = await cli(['experiment', 'validate', 'failovr']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      'Error [FILE_NOT_FOUND]: No experiment file or built-in experiment named "failovr" — did you mean `failover`?',
    );
  });

  it('an unknown flag is a usage error (exit 2)', async () => {
    const result = await cli(['experiment', 'validate', 'failover', '--no-such-flag']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error [USAGE]');
  });

  it('flags override the file (precedence), and are validated like it', async () => {
    const ok = await cli(['experiment', 'validate', 'failover', '--duration', '150s', '--json']);
    expect(ok.code).toBe(0);
    expect(
      (JSON.parse(ok.stdout) as { experiment: { load: { duration: number } } }).experiment.load.duration,
    ).toBe(150_000);
    const tooShort = await cli(['experiment', 'validate', 'failover', '--duration', '30s']);
    expect(tooShort.code).toBe(3);
    expect(tooShort.stderr).toContain(
      '`timeline.0.at` is 40 s, at or after the end of the load (`load.duration` 30 s)',
    );
  });
});

describe('secrets stay out of the output', () => {
  it('--json redacts secrets of the experiment’s target', async () => {
    const result = await cli(
      ['experiment', 'validate', 'test/fixtures/experiments/valid/with-target.yaml', '--json'],
      SECRETS,
    );
    expect(result.code).toBe(0);
    for (const secret of Object.values(SECRETS)) expect(result.stdout + result.stderr).not.toContain(secret);
    const json = JSON.parse(result.stdout) as {
      target: { auth: { admin: { password: string }; apiKeys: string[] } };
    };
    expect(json.target.auth.admin.password).toBe('<redacted: from $OWUI_ADMIN_PASSWORD>');
    expect(json.target.auth.apiKeys).toEqual(['<redacted: from $OWUI_API_KEY_1>']);
  });

  it('error text and --json errors never contain a secret that made a value invalid', async () => {
    const target = path.join(FIXTURES, 'targets/invalid/url-from-secret-env.yaml');
    const human = await cli(
      ['experiment', 'validate', 'test/fixtures/experiments/valid/minimal.yaml', '--target', target],
      SECRETS,
    );
    const json = await cli(
      [
        'experiment',
        'validate',
        'test/fixtures/experiments/valid/minimal.yaml',
        '--target',
        target,
        '--json',
      ],
      SECRETS,
    );
    expect(human.code).toBe(3);
    expect(json.code).toBe(3);
    expect(human.stderr).toContain(
      '`openwebui.url` is <redacted: from $OWUI_CHAOS_FIXTURE_API_TOKEN>; use an http(s) URL',
    );
    for (const out of [human.stdout, human.stderr, json.stdout, json.stderr])
      expect(out).not.toContain(SECRETS.OWUI_CHAOS_FIXTURE_API_TOKEN);
  });
});

describe('owui-chaos experiment list', () => {
  it('lists the built-in experiments with title and description, and as JSON', async () => {
    const human = await cli(['experiment', 'list']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^failover\s+Redis Sentinel failover under chat and socket load\n\s+Forces a Sentinel failover/,
    );
    const json = await cli(['experiment', 'list', '--json']);
    expect(json.code).toBe(0);
    const { experiments } = JSON.parse(json.stdout) as {
      experiments: Array<{ name: string; title: string; summary: string }>;
    };
    expect(experiments.map((e) => e.name)).toEqual([
      'failover',
      'gameday',
      'llm-latency',
      'long-silence',
      'proxy-buffering',
      'redis-latency',
      'replica-kill',
      'rolling-restart',
    ]);
    for (const e of experiments) expect(e.summary.length).toBeGreaterThan(20);
  });
});
