// Which k6 binaries the k6 tests run against: OWUI_K6_BINARIES (comma-separated), else
// OWUI_K6_BINARY, else `k6` on PATH. A candidate that does not answer `k6 version` is skipped with
// the reason printed (CI has no k6: the project never installs it).
import { spawnSync } from 'node:child_process';
import { hasXk6Sse, parseK6Version } from '../../src/engines/k6/version.js';

export interface K6Binary {
  binary: string;
  /** e.g. `v1.3.0 + xk6-sse` (for test names). */
  label: string;
  /** The bare version, e.g. `v1.3.0`. */
  version: string;
  /** `k6 version`'s whole output (extensions included). */
  raw: string;
  sse: boolean;
}

export function k6Binaries(what: string): K6Binary[] {
  const candidates = (process.env.OWUI_K6_BINARIES ?? process.env.OWUI_K6_BINARY ?? 'k6')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const found: K6Binary[] = [];
  for (const binary of candidates) {
    const probe = spawnSync(binary, ['version'], { encoding: 'utf8', timeout: 15_000 });
    const version = probe.status === 0 ? parseK6Version(probe.stdout) : undefined;
    if (version) {
      const sse = hasXk6Sse(version);
      found.push({
        binary,
        label: `${version.raw}${sse ? ' + xk6-sse' : ''}`,
        version: version.raw,
        raw: probe.stdout,
        sse,
      });
    } else
      console.log(
        `[skip] ${what} with k6 \`${binary}\`: \`${binary} version\` did not run (${probe.error?.message ?? `exit ${probe.status}`}); k6 is not installed by this project`,
      );
  }
  return found;
}
