// `owui-chaos k6 bundle [--out DIR]`: builds dist/scenarios/<name>.js (or DIR/<name>.js) for the
// installed k6 (or `--k6-version`, or the current k6 when none is installed).

import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { BaseCommand } from '../../cli/base-command.js';
import { PreflightError } from '../../core/errors.js';
import { bundleScenarios, defaultBundleDir, type BundledScenario } from '../../engines/k6/bundle.js';
import { detectK6 } from '../../engines/k6/engine.js';
import { parseK6Version, targetFor, type K6Target } from '../../engines/k6/version.js';

export interface K6BundleResult {
  outDir: string;
  target: K6Target;
  k6?: string;
  sse: 'plain' | 'xk6';
  bundles: BundledScenario[];
}

export default class K6Bundle extends BaseCommand {
  static override summary = 'Bundle the k6 scenarios (chat-sse, chat-socket, mixed) with esbuild';
  static override examples = [
    '<%= config.bin %> k6 bundle',
    '<%= config.bin %> k6 bundle --out ./k6 --k6-version 0.49.0',
    '<%= config.bin %> k6 bundle --sse xk6',
  ];

  static override flags = {
    'k6-version': Flags.string({
      description: 'k6 version to build for (default: the installed k6, else the current k6)',
    }),
    'k6-binary': Flags.string({ description: 'k6 executable used to detect the version', default: 'k6' }),
    sse: Flags.string({
      description: '`xk6`: API chats through the xk6-sse extension',
      options: ['plain', 'xk6'],
      default: 'plain',
    }),
  };

  async run(): Promise<K6BundleResult> {
    const { flags } = await this.parse(K6Bundle);
    let k6: string | undefined;
    let target: K6Target;
    if (flags['k6-version'] !== undefined) {
      const v = parseK6Version(`k6 v${flags['k6-version'].replace(/^v/, '')}`);
      if (!v)
        throw new PreflightError(`--k6-version ${flags['k6-version']} is not a version like 0.54.0`, {
          code: 'USAGE',
        });
      k6 = v.raw;
      target = targetFor(v);
    } else {
      const v = await detectK6(flags['k6-binary']).catch(() => undefined);
      k6 = v?.raw;
      target = targetFor(v);
    }
    const outDir = resolve(flags.out ?? defaultBundleDir());
    const sse = flags.sse === 'xk6' ? 'xk6' : 'plain';
    const bundles = await bundleScenarios({ outDir, target, sse });
    this.say(
      `Bundled for ${k6 ?? 'current k6 (none installed)'}: ${target.esTarget}, ${target.websocketsModule}, ${target.timersModule}, sse ${sse}`,
    );
    for (const b of bundles) this.say(`  ${b.path} (${b.bytes} bytes)`);
    return { outDir, target, ...(k6 !== undefined ? { k6 } : {}), sse, bundles };
  }
}
