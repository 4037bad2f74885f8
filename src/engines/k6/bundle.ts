// Bundles scenarios/*.ts with the portable protocol code into one k6 script each
// (`<outDir>/<name>.js`), shaped for the k6 that will run them (version.ts).
//
// Contract: `bundleScenarios` builds every requested scenario or throws LoadGeneratorError
// (`K6_BUNDLE_FAILED`) with esbuild's messages; k6's own modules stay imports; a Node built-in
// anywhere in the import graph fails the build (platform `neutral` has no Node resolution) rather
// than producing a script k6 cannot load. Bundles built without xk6-sse never import `k6/x/sse`.

import { build, type Plugin } from 'esbuild';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadGeneratorError } from '../../core/errors.js';
import { CURRENT_TARGET, type K6Target } from './version.js';

export const SCENARIO_NAMES = ['chat-sse', 'chat-socket', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** The repository's `scenarios/` folder, from src/engines/k6 (tsx) or dist/engines/k6 alike. */
export function scenariosDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../scenarios');
}

export function defaultBundleDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../dist/scenarios');
}

export interface BundleOptions {
  outDir: string;
  target?: K6Target;
  /** `xk6`: API chats through the xk6-sse extension (`k6/x/sse`); `plain` (default): core k6 only. */
  sse?: 'plain' | 'xk6';
  names?: readonly ScenarioName[];
  /** Where the scenario sources are; default the repository's `scenarios/`. */
  sourceDir?: string;
}

export interface BundledScenario {
  name: ScenarioName;
  path: string;
  bytes: number;
}

/**
 * Rewrites the k6 module paths that moved between releases to the ones this k6 has, swaps the
 * xk6-sse client for a stub in plain builds, and keeps every other `k6…` import external.
 */
function k6Modules(target: K6Target, sse: 'plain' | 'xk6'): Plugin {
  return {
    name: 'owui-chaos-k6-modules',
    setup(b) {
      b.onResolve({ filter: /^k6\/websockets$/ }, () => ({ path: target.websocketsModule, external: true }));
      b.onResolve({ filter: /^k6\/timers$/ }, () => ({ path: target.timersModule, external: true }));
      b.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, external: true }));
      if (sse === 'plain') {
        b.onResolve({ filter: /\/api-chat-xk6\.js$/ }, (args) => ({
          path: join(args.resolveDir, 'api-chat-xk6-absent.ts'),
        }));
      }
    },
  };
}

export async function bundleScenarios(opts: BundleOptions): Promise<BundledScenario[]> {
  const target = opts.target ?? CURRENT_TARGET;
  const sse = opts.sse ?? 'plain';
  const names = opts.names ?? SCENARIO_NAMES;
  const sourceDir = opts.sourceDir ?? scenariosDir();
  await mkdir(opts.outDir, { recursive: true });
  try {
    await build({
      entryPoints: names.map((name) => ({ in: join(sourceDir, `${name}.ts`), out: name })),
      outdir: opts.outDir,
      // k6 cannot resolve our relative TypeScript imports: everything but k6's modules goes in.
      bundle: true,
      // k6 ≥ 0.52 runs ES modules natively; older k6 would Babel-transpile an ES module (seconds
      // per start), so they get CommonJS (version.ts). Either way `options`, `setup` and the
      // scenario `exec` functions stay exports of the entry module for k6 to find them.
      format: target.moduleFormat,
      // Neither browser nor Node: no Node built-in shims, no `process.env` substitution, so a
      // stray Node import fails here instead of at `k6 run`.
      platform: 'neutral',
      // The syntax level this k6's JavaScript engine (goja/sobek) runs; newer syntax is lowered.
      target: target.esTarget,
      // k6 modules come from the binary at run time, and some moved between releases (plugin).
      plugins: [k6Modules(target, sse)],
      // Readable bundles: k6 stack traces point at real names, and reviewers can read a ConfigMap.
      minify: false,
      // k6-operator ships the bundle in a ConfigMap (1 MiB limit); an inline map would double it.
      sourcemap: false,
      // CJK/emoji stay literal in the bundle instead of \u escapes: both run, this one is readable.
      charset: 'utf8',
      // Our sources' licence header is the repository's; nothing to carry into the bundle.
      legalComments: 'none',
      // Scenario sources are type-checked by `tsc -p scenarios/tsconfig.json`; esbuild only strips.
      tsconfig: join(sourceDir, 'tsconfig.json'),
      banner: {
        js: `// owui-chaos k6 scenario bundle: target ${target.esTarget} ${target.moduleFormat}, ${target.websocketsModule}, ${target.timersModule}, sse ${sse}.`,
      },
      // Errors are returned in the result/exception and reported by us, not printed by esbuild.
      logLevel: 'silent',
      write: true,
    });
  } catch (error) {
    const messages =
      (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ??
      [];
    const detail = messages
      .slice(0, 5)
      .map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text))
      .join('; ');
    throw new LoadGeneratorError(`Bundling the k6 scenarios failed: ${detail || String(error)}`, {
      code: 'K6_BUNDLE_FAILED',
      cause: error,
      suggestions: ['npx tsc -p scenarios/tsconfig.json --noEmit'],
    });
  }
  const out: BundledScenario[] = [];
  for (const name of names) {
    const path = join(opts.outDir, `${name}.js`);
    out.push({ name, path, bytes: (await stat(path)).size });
  }
  return out;
}

/** Imports a k6 script must not contain: Node built-ins, CommonJS requires of anything but k6. */
export function findNodeImports(bundleText: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /\bfrom\s*["'](node:[^"']+)["']/g,
    /\bimport\s*\(\s*["'](node:[^"']+)["']/g,
    // CommonJS bundles (k6 < 0.52) require k6's own modules; anything else is foreign.
    /\brequire\s*\(\s*["']((?!k6(?:\/|["']))[^"']+)["']\s*\)/g,
    /\bfrom\s*["'](fs|path|os|http|https|net|tls|crypto|child_process|worker_threads|stream|url|util|events|buffer|zlib)(\/[^"']*)?["']/g,
  ];
  for (const re of patterns) for (const m of bundleText.matchAll(re)) found.add(m[1] as string);
  return [...found];
}
