// `owui-chaos k6 export --operator --parallelism N [experiment]`: a k6-operator TestRun plus the
// ConfigMap holding the bundle, for a distributed run of an experiment's load (or of flags).

import { Args, Flags } from '@oclif/core';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BaseCommand } from '../../cli/base-command.js';
import { defaultSlosFile, experimentsDir } from '../../cli/paths.js';
import { resolveExperimentRef } from '../../core/config/builtin.js';
import { PositiveDurationSchema } from '../../core/config/duration.js';
import { loadExperiment } from '../../core/config/experiment.js';
import { toLoadPlan } from '../../core/config/plan.js';
import { loadSloDefaults } from '../../core/config/slo-defaults.js';
import { UsageError } from '../../core/errors.js';
import type { LoadPlan } from '../../core/ports.js';
import type { SloSpec } from '../../core/slo/spec.js';
import { bundleScenarios } from '../../engines/k6/bundle.js';
import { operatorManifests } from '../../engines/k6/operator.js';
import { scenarioConfigFromPlan, scenarioFor } from '../../engines/k6/plan.js';
import { markNotMeasured } from '../../engines/k6/measurable.js';
import { thresholdsFromSlos } from '../../engines/k6/thresholds.js';
import { CURRENT_TARGET, parseK6Version, targetFor } from '../../engines/k6/version.js';

export interface K6ExportResult {
  file?: string;
  scenario: string;
  parallelism: number;
  skippedThresholds: { slo: string; reason: string }[];
  yaml: string;
}

export default class K6Export extends BaseCommand {
  static override summary = 'Write a k6-operator TestRun and ConfigMap for a distributed run';
  static override examples = [
    '<%= config.bin %> k6 export --operator --parallelism 4 failover --base-url http://open-webui.chat.svc:8080 --model m1',
    '<%= config.bin %> k6 export --operator --parallelism 2 --base-url http://owui:8080 --model m1 --chat-vus 50 --duration 5m --out ./k8s',
  ];

  static override args = {
    experiment: Args.string({
      description: 'experiment file or built-in name whose `load` and `slos` to use',
    }),
  };

  static override flags = {
    operator: Flags.boolean({
      description: 'k6-operator TestRun + ConfigMap (the only export format)',
      required: true,
    }),
    parallelism: Flags.integer({ description: 'runner pods', default: 1, min: 1 }),
    'base-url': Flags.string({ description: 'Open WebUI URL as the runner pods reach it', required: true }),
    model: Flags.string({ description: 'model id to chat with', default: 'owui-chaos-mock' }),
    'owui-version': Flags.string({
      description: 'Open WebUI version (event names, payload shapes)',
      default: '0.11.0',
    }),
    duration: Flags.string({
      description: 'load duration in seconds or like `5m` (without an experiment)',
      default: '1m',
    }),
    'chat-vus': Flags.integer({ description: 'API chat users, closed model (without an experiment)' }),
    'socket-vus': Flags.integer({ description: 'browser clients (without an experiment)' }),
    tokens: Flags.integer({ description: 'tokens per reply (without an experiment)', default: 120 }),
    name: Flags.string({ description: 'name of the TestRun and ConfigMap', default: 'owui-chaos' }),
    namespace: Flags.string({ description: 'Kubernetes namespace' }),
    image: Flags.string({ description: 'runner image', default: 'grafana/k6:latest' }),
    secret: Flags.string({
      description: 'Secret with api-tokens / user-tokens / signin (default <name>-credentials)',
    }),
    'k6-version': Flags.string({ description: 'k6 version of the runner image (default: current k6)' }),
    sse: Flags.string({
      options: ['plain', 'xk6'],
      default: 'plain',
      description: '`xk6` needs an image built with xk6-sse',
    }),
  };

  async run(): Promise<K6ExportResult> {
    const { args, flags } = await this.parse(K6Export);
    let plan: LoadPlan;
    let slos: SloSpec[] = [];
    let abortOnFail = false;
    if (args.experiment !== undefined) {
      const file = await resolveExperimentRef(args.experiment, { builtinDir: experimentsDir() });
      const loaded = await loadExperiment(file, {
        env: process.env,
        defaultSlos: await loadSloDefaults(defaultSlosFile(), process.env),
        resolveTarget: async () => undefined,
      });
      plan = toLoadPlan(loaded.experiment.load, {
        openwebui: { url: flags['base-url'] },
        model: flags.model,
      });
      slos = loaded.experiment.slos;
      // Runner pods are not watched by owui-chaos: k6 itself stops on a breach when asked to.
      abortOnFail = loaded.experiment.settings.abortOnBreach;
    } else {
      if (flags['chat-vus'] === undefined && flags['socket-vus'] === undefined) {
        throw new UsageError('Give an experiment, or --chat-vus and/or --socket-vus', {
          code: 'USAGE',
          suggestions: ['owui-chaos k6 export --operator --base-url http://owui:8080 --chat-vus 10'],
        });
      }
      const durationMs = parseDurationMs(flags.duration);
      plan = { durationMs, baseUrl: flags['base-url'], model: flags.model };
      if (flags['chat-vus'] !== undefined)
        plan.chat = { vus: flags['chat-vus'], thinkTimeMs: 1000, tokens: flags.tokens };
      if (flags['socket-vus'] !== undefined)
        plan.sockets = { vus: flags['socket-vus'], tokens: flags.tokens, chatIntervalMs: 5000 };
    }
    const sse = flags.sse === 'xk6' ? 'xk6' : 'plain';
    const clients = { api: plan.chat !== undefined, browser: (plan.sockets?.vus ?? 0) > 0 };
    const generated = thresholdsFromSlos(markNotMeasured(slos, { sse, clients }), { abortOnFail });
    const config = scenarioConfigFromPlan(plan, {
      version: flags['owui-version'],
      sse,
      thresholds: generated.thresholds,
    });
    const scenario = scenarioFor(config);
    const v =
      flags['k6-version'] !== undefined
        ? parseK6Version(`k6 v${flags['k6-version'].replace(/^v/, '')}`)
        : undefined;
    const work = await mkdtemp(join(tmpdir(), 'owui-chaos-k6-export-'));
    let bundleText: string;
    try {
      const [bundle] = await bundleScenarios({
        outDir: work,
        target: v ? targetFor(v) : CURRENT_TARGET,
        sse,
        names: [scenario],
      });
      bundleText = await readFile(bundle?.path ?? join(work, `${scenario}.js`), 'utf8');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const yaml = operatorManifests({
      name: flags.name,
      scenario,
      bundleText,
      config,
      parallelism: flags.parallelism,
      image: flags.image,
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      ...(flags.secret !== undefined ? { secretName: flags.secret } : {}),
    });
    const result: K6ExportResult = {
      scenario,
      parallelism: flags.parallelism,
      skippedThresholds: generated.skipped,
      yaml,
    };
    if (flags.out !== undefined) {
      const dir = resolve(flags.out);
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${flags.name}-testrun.yaml`);
      await writeFile(file, yaml);
      result.file = file;
      this.say(`Wrote ${file} (${scenario} on ${flags.parallelism} runner(s))`);
    } else if (!this.jsonEnabled()) {
      process.stdout.write(yaml);
    }
    for (const s of generated.skipped) this.say(`note: SLO ${s.slo} is not a k6 threshold: ${s.reason}`);
    return result;
  }
}

function parseDurationMs(text: string): number {
  const parsed = PositiveDurationSchema.safeParse(/^\d+$/.test(text) ? Number(text) * 1000 : text);
  if (!parsed.success)
    throw new UsageError(`--duration ${text} is not a duration like 90s or 5m`, { code: 'USAGE' });
  return parsed.data;
}
