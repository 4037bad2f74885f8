// `owui-chaos k6 export --operator --parallelism N [experiment]`: a k6-operator TestRun plus the
// ConfigMap holding the bundle, for a distributed run of an experiment's load (or of flags).
// Thin: the work is in src/app/k6-export.ts.

import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { durationFlag } from '../../cli/flags.js';
import { MOCK_MODEL_ID } from '../../protocol/ground-truth.js';
import { REFERENCE_OPENWEBUI_VERSION } from '../../protocol/openwebui.js';
import { exportK6Operator, type K6ExportResult } from '../../app/k6-export.js';

export type { K6ExportResult };

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
    model: Flags.string({ description: 'model id to chat with', default: MOCK_MODEL_ID }),
    'owui-version': Flags.string({
      description: 'Open WebUI version (event names, payload shapes)',
      default: REFERENCE_OPENWEBUI_VERSION,
    }),
    duration: durationFlag({
      description: 'load duration such as `5m` (a bare number is seconds; without an experiment)',
      default: '1m',
      positive: true,
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
    const result = await exportK6Operator({
      ...(args.experiment !== undefined ? { experiment: args.experiment } : {}),
      baseUrl: flags['base-url'],
      model: flags.model,
      owuiVersion: flags['owui-version'],
      durationMs: flags.duration,
      ...(flags['chat-vus'] !== undefined ? { chatVus: flags['chat-vus'] } : {}),
      ...(flags['socket-vus'] !== undefined ? { socketVus: flags['socket-vus'] } : {}),
      tokens: flags.tokens,
      name: flags.name,
      ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      image: flags.image,
      ...(flags.secret !== undefined ? { secret: flags.secret } : {}),
      ...(flags['k6-version'] !== undefined ? { k6Version: flags['k6-version'] } : {}),
      sse: flags.sse === 'xk6' ? 'xk6' : 'plain',
      parallelism: flags.parallelism,
      ...(flags.out !== undefined ? { outDir: flags.out } : {}),
    });
    if (result.file !== undefined) {
      this.say(`Wrote ${result.file} (${result.scenario} on ${result.parallelism} runner(s))`);
    } else if (!this.jsonEnabled()) {
      process.stdout.write(result.yaml);
    }
    for (const s of result.skippedThresholds)
      this.say(`note: SLO ${s.slo} is not a k6 threshold: ${s.reason}`);
    return result;
  }
}
