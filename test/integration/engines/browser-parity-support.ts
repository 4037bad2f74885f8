// Shared by the browser parity tests: which k6 binaries to run, and the ws_* profile of a run.
import { spawnSync } from 'node:child_process';
import { METRIC_NAMES } from '../../../src/core/metrics.js';
import { parseK6Version } from '../../../src/engines/k6/version.js';

/** k6 binaries from OWUI_K6_BINARIES (comma-separated), else OWUI_K6_BINARY, else `k6` on PATH; the others are skipped with the reason printed. */
export function k6Binaries(what: string): { binary: string; version: string }[] {
  const candidates = (process.env.OWUI_K6_BINARIES ?? process.env.OWUI_K6_BINARY ?? 'k6')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const found: { binary: string; version: string }[] = [];
  for (const binary of candidates) {
    const probe = spawnSync(binary, ['version'], { encoding: 'utf8', timeout: 15_000 });
    const version = probe.status === 0 ? parseK6Version(probe.stdout) : undefined;
    if (version) found.push({ binary, version: version.raw });
    else
      console.log(
        `[skip] ${what} with k6 \`${binary}\`: \`${binary} version\` did not run (${probe.error?.message ?? `exit ${probe.status}`}); k6 is not installed by this project`,
      );
  }
  return found;
}

export interface Point {
  type?: string;
  metric: string;
  data: { value: number; tags: Record<string, string> };
}

/** The catalogue's ws_* metrics: what the session decides (k6's own ws_* built-ins are not ours). */
const WS = METRIC_NAMES.filter((m) => m.startsWith('ws_'));

export interface WsProfile {
  /** Samples per catalogue ws_* metric that appeared. */
  counts: Record<string, number>;
  /** Sum of the values of the counters (ws_never_joined, ws_connect_errors, ...). */
  sums: Record<string, number>;
  /** connect-error reasons seen. */
  reasons: string[];
}

export function wsProfile(points: readonly Point[]): WsProfile {
  const counts: Record<string, number> = {};
  const sums: Record<string, number> = {};
  const reasons = new Set<string>();
  for (const p of points) {
    if (p.type !== undefined && p.type !== 'Point') continue;
    if (!(WS as readonly string[]).includes(p.metric) || p.data.tags['client'] !== 'browser') continue;
    counts[p.metric] = (counts[p.metric] ?? 0) + 1;
    if (p.metric !== 'ws_connect_time' && p.metric !== 'ws_reconnect_time')
      sums[p.metric] = (sums[p.metric] ?? 0) + p.data.value;
    if (p.metric === 'ws_connect_errors' && p.data.tags['reason']) reasons.add(p.data.tags['reason']);
  }
  return { counts, sums, reasons: [...reasons].sort() };
}
