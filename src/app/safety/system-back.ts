// "Is the system back?" after a rollback (docs/safety.md): a revert that returned is not enough —
// after a master kill, say, the restarted node rejoins and Sentinels may still switch the master
// for seconds. For every fault the run recorded, the check looks at the target from outside:
//   replica start/unpause  → the replica runs and answers /health
//   Redis node restart     → all Sentinels agree on one master, which has a replica linked
//   toxic removed          → no toxic of that name (and no toxic of the run anywhere on the proxy)
//   proxy re-enabled       → the proxy's `enabled` is what it was
//   nginx config restored  → the config's bytes hash to the saved original
// and all of it has to hold, unchanged, for a stable window before the rollback says "back".

import type { RevertEntry } from '../../core/runner/revert-stack.js';
import { errorMessage } from '../../core/errors.js';
import { flattenRevertRecord, sha256 } from '../../core/faults/revert-record.js';
import type { TargetDrivers } from '../drivers.js';
import { toxicOwnerTag } from '../../core/faults/toxic.js';
import { runTag } from './run-guard.js';

/** What is not back yet, one line each, plus a fingerprint of the Redis master (for stability). */
export async function notBack(
  entries: readonly RevertEntry[],
  drivers: TargetDrivers,
  runId: string,
): Promise<{ problems: string[]; fingerprint: string }> {
  const problems: string[] = [];
  const records = entries.flatMap((e) => (e.record ? flattenRevertRecord(e.record) : []));
  const fingerprint: string[] = [];
  const guarded = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${errorMessage(err)}`);
    }
  };
  const tag = runTag(runId);
  const proxiesSeen = new Set<string>();
  let redisChecked = false;
  for (const r of records) {
    switch (r.driver) {
      case 'replicas': {
        const id = r.args.id;
        await guarded(`replica ${id}`, async () => {
          const d = drivers.replicas();
          const info = (await d.list()).find((x) => x.id === id || x.name === id);
          if (!info) throw new Error('not found');
          if (info.state !== 'running') throw new Error(`is ${info.state}`);
          await d.waitHealthy(id, 2000);
        });
        break;
      }
      case 'sentinel':
        if (redisChecked) break;
        redisChecked = true;
        await guarded('Redis', async () => {
          const health = await drivers.sentinel().replicationHealth();
          problems.push(...health.problems);
          fingerprint.push(`master=${health.master ?? '?'}`);
        });
        break;
      case 'toxiproxy':
        await guarded(`proxy ${r.args.proxy}`, async () => {
          const p = await drivers.toxiproxy().getProxy(r.args.proxy);
          if (r.op === 'removeToxic' && p.toxics.some((t) => t.name === r.args.toxic))
            throw new Error(`toxic ${r.args.toxic} is still there`);
          if (r.op === 'setEnabled' && p.enabled !== r.args.enabled)
            throw new Error(
              `is ${p.enabled ? 'enabled' : 'disabled'}, was ${r.args.enabled ? 'enabled' : 'disabled'}`,
            );
          if (r.op === 'restoreToxic') {
            const name = r.args.toxic.name;
            if (!p.toxics.some((t) => t.name === name)) throw new Error(`toxic ${name} is not back`);
          }
        });
        proxiesSeen.add(r.args.proxy);
        break;
      case 'nginx': {
        const saved = r.args.sha256;
        await guarded(`nginx config ${r.args.configFile}`, async () => {
          const now = sha256(await drivers.nginx().readConfig());
          if (now !== saved)
            throw new Error(
              `bytes differ from the saved original (sha256 ${now.slice(0, 12)}… ≠ ${saved.slice(0, 12)}…)`,
            );
        });
        break;
      }
      case 'scale':
        // Replaying it ran the operator's command and waited for the load balancer's /health.
        break;
    }
  }
  if (proxiesSeen.size > 0) {
    await guarded('Toxiproxy', async () => {
      const left = (await drivers.toxiproxy().listProxies()).flatMap((p) =>
        p.toxics.filter((t) => toxicOwnerTag(t.name) === tag).map((t) => `${p.name}/${t.name}`),
      );
      if (left.length > 0) throw new Error(`toxics of run ${runId} are still there: ${left.join(', ')}`);
    });
  }
  return { problems, fingerprint: fingerprint.join(',') };
}

export interface WaitBackOptions {
  budgetMs: number;
  /** Everything must hold, unchanged, this long. Default 3 s (5 s when Redis was touched). */
  stableMs?: number;
  intervalMs?: number;
  onWaiting?: (problems: string[]) => void;
}

/** Polls `notBack` until it has been clean and unchanged for the stable window; returns what is not back. */
export async function waitUntilBack(
  entries: readonly RevertEntry[],
  drivers: TargetDrivers,
  runId: string,
  opts: WaitBackOptions,
): Promise<string[]> {
  const redis = entries.some(
    (e) => e.record && flattenRevertRecord(e.record).some((r) => r.driver === 'sentinel'),
  );
  const stableMs = opts.stableMs ?? (redis ? 5000 : 3000);
  const interval = opts.intervalMs ?? 500;
  const deadline = Date.now() + opts.budgetMs;
  let cleanSince: number | undefined;
  let cleanPrint = '';
  let last: string[] = ['not checked'];
  let told = '';
  for (let i = 0; i < 100_000; i++) {
    const { problems, fingerprint } = await notBack(entries, drivers, runId);
    last = problems;
    const now = Date.now();
    if (problems.length === 0) {
      if (cleanSince === undefined || fingerprint !== cleanPrint) {
        cleanSince = now;
        cleanPrint = fingerprint;
      }
      if (now - cleanSince >= stableMs) return [];
    } else {
      cleanSince = undefined;
      const text = problems.join('; ');
      if (text !== told) {
        told = text;
        opts.onWaiting?.(problems);
      }
    }
    if (now >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(1, deadline - now))));
  }
  return last.length > 0 ? last : ['did not stay back for the stable window within the budget'];
}
