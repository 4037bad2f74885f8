// The `owui-chaos k6 export --operator` use case: a k6-operator TestRun plus the ConfigMap holding
// the bundle, for a distributed run of an experiment's load (or of a load given by flags, with
// the same defaults as experiments: LOAD_DEFAULTS). Nothing here prints; the caller writes.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultSlosFile, experimentsDir } from '../cli/paths.js';
import { resolveExperimentRef } from '../core/config/builtin.js';
import { LOAD_DEFAULTS, loadExperiment } from '../core/config/experiment.js';
import { toLoadPlan } from '../core/config/plan.js';
import { loadSloDefaults } from '../core/config/slo-defaults.js';
import { UsageError } from '../core/errors.js';
import type { LoadPlan } from '../core/ports.js';
import type { SloSpec } from '../core/slo/spec.js';
import { bundleScenarios } from '../engines/k6/bundle.js';
import { operatorManifests } from '../engines/k6/operator.js';
import { scenarioConfigFromPlan, scenarioFor } from '../engines/k6/plan.js';
import { markNotMeasured } from '../engines/k6/measurable.js';
import { thresholdsFromSlos } from '../engines/k6/thresholds.js';
import { CURRENT_TARGET, parseK6Version, targetFor } from '../engines/k6/version.js';

export interface K6ExportRequest {
  /** Experiment file or built-in name whose `load` and `slos` to use; else the flags' load. */
  experiment?: string;
  baseUrl: string;
  model: string;
  owuiVersion: string;
  durationMs: number;
  chatVus?: number;
  socketVus?: number;
  tokens: number;
  name: string;
  namespace?: string;
  image: string;
  secret?: string;
  k6Version?: string;
  sse: 'plain' | 'xk6';
  parallelism: number;
  /** Directory to write `<name>-testrun.yaml` into; without it only the YAML is returned. */
  outDir?: string;
  env?: NodeJS.ProcessEnv;
}

export interface K6ExportResult {
  file?: string;
  scenario: string;
  parallelism: number;
  skippedThresholds: { slo: string; reason: string }[];
  yaml: string;
}

async function planOf(
  req: K6ExportRequest,
): Promise<{ plan: LoadPlan; slos: SloSpec[]; abortOnFail: boolean }> {
  const env = req.env ?? process.env;
  if (req.experiment !== undefined) {
    const file = await resolveExperimentRef(req.experiment, { builtinDir: experimentsDir() });
    const loaded = await loadExperiment(file, {
      env,
      defaultSlos: await loadSloDefaults(defaultSlosFile(), env),
      resolveTarget: async () => undefined,
    });
    return {
      plan: toLoadPlan(loaded.experiment.load, { openwebui: { url: req.baseUrl }, model: req.model }),
      slos: loaded.experiment.slos,
      // Runner pods are not watched by owui-chaos: k6 itself stops on a breach when asked to.
      abortOnFail: loaded.experiment.settings.abortOnBreach,
    };
  }
  if (req.chatVus === undefined && req.socketVus === undefined) {
    throw new UsageError('Give an experiment, or --chat-vus and/or --socket-vus', {
      code: 'USAGE',
      suggestions: ['owui-chaos k6 export --operator --base-url http://owui:8080 --chat-vus 10'],
    });
  }
  const plan: LoadPlan = { durationMs: req.durationMs, baseUrl: req.baseUrl, model: req.model };
  if (req.chatVus !== undefined)
    plan.chat = { vus: req.chatVus, thinkTimeMs: LOAD_DEFAULTS.thinkTimeMs, tokens: req.tokens };
  if (req.socketVus !== undefined)
    plan.sockets = { vus: req.socketVus, tokens: req.tokens, chatIntervalMs: LOAD_DEFAULTS.chatIntervalMs };
  return { plan, slos: [], abortOnFail: false };
}

export async function exportK6Operator(req: K6ExportRequest): Promise<K6ExportResult> {
  const { plan, slos, abortOnFail } = await planOf(req);
  const clients = { api: plan.chat !== undefined, browser: (plan.sockets?.vus ?? 0) > 0 };
  const generated = thresholdsFromSlos(markNotMeasured(slos, { sse: req.sse, clients }), { abortOnFail });
  const config = scenarioConfigFromPlan(plan, {
    version: req.owuiVersion,
    sse: req.sse,
    thresholds: generated.thresholds,
  });
  const scenario = scenarioFor(config);
  const v =
    req.k6Version !== undefined ? parseK6Version(`k6 v${req.k6Version.replace(/^v/, '')}`) : undefined;
  const work = await mkdtemp(join(tmpdir(), 'owui-chaos-k6-export-'));
  let bundleText: string;
  try {
    const [bundle] = await bundleScenarios({
      outDir: work,
      target: v ? targetFor(v) : CURRENT_TARGET,
      sse: req.sse,
      names: [scenario],
    });
    bundleText = await readFile(bundle?.path ?? join(work, `${scenario}.js`), 'utf8');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const yaml = operatorManifests({
    name: req.name,
    scenario,
    bundleText,
    config,
    parallelism: req.parallelism,
    image: req.image,
    ...(req.namespace !== undefined ? { namespace: req.namespace } : {}),
    ...(req.secret !== undefined ? { secretName: req.secret } : {}),
  });
  const result: K6ExportResult = {
    scenario,
    parallelism: req.parallelism,
    skippedThresholds: generated.skipped,
    yaml,
  };
  if (req.outDir !== undefined) {
    const dir = resolve(req.outDir);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${req.name}-testrun.yaml`);
    await writeFile(file, yaml);
    result.file = file;
  }
  return result;
}
