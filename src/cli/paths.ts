// Where the package's own files are (experiments/, the default SLOs), found from this module's
// URL so it works from src/ (tsx, vitest) and from dist/ (the built CLI) alike: both sit one
// folder below the package root, at src/cli/ and dist/cli/.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The folder holding package.json of owui-chaos. */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  // Walk up instead of assuming a depth, so a bundler that flattens folders still finds it.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'experiments'))) {
      cached = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  cached = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return cached;
}

/** Built-in experiments: `owui-chaos run failover` reads experiments/failover.yaml here. */
export function experimentsDir(): string {
  return path.join(packageRoot(), 'experiments');
}

/** SLOs every experiment gets unless it overrides them (by sloId) or opts out. */
export function defaultSlosFile(): string {
  return path.join(experimentsDir(), 'slos', 'default.yaml');
}
