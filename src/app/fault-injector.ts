// Maps each timeline action (DESIGN §6) onto the drivers: resolves the concrete target of the
// fault (which replica, which master), returns its persisted inverse BEFORE anything is touched,
// and applies it on demand. `revert` undoes a persisted record, also in a new process
// (`owui-chaos rollback`), so the normal path and the crash path run the same code.

import { FaultError } from '../core/errors.js';
import {
  TOXIC_ATTRIBUTES,
  type ReplicaInfo,
  type RevertRecord,
  type ToxicSpec,
  type ToxicType,
} from '../core/ports.js';
import type { FaultInjector, PreparedFault, RunnerTimelineEntry } from '../core/runner/runner.js';
import { prepareReplicaFault, rollingRestart } from '../drivers/replica-faults.js';
import { compositeRevertRecord, revertFromRecord } from '../drivers/revert-records.js';
import type { TargetDrivers } from './drivers.js';
import { runTag } from './safety/run-guard.js';

export interface FaultInjectorOptions {
  /** Budget for a restarted replica to answer `/health` during a revert. */
  replicaHealthBudgetMs?: number;
  /** Picks the replica for `replica: random` (injectable for tests). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * The run that owns what this injector injects: its tag goes into toxic names and the nginx
   * marker, and a fault of another run in the way fails the injection before anything is touched.
   */
  runId?: string;
}

/** `owui-chaos-<entry>--run-<tag>`: whose toxic it is can be read off its name. */
const TOXIC_OWNER = /^owui-chaos-(.+)--run-([0-9a-f]{8})$/;

/** The run tag a toxic name carries, `legacy` for an owui-chaos toxic without one, else undefined. */
export function toxicOwnerTag(name: string): string | undefined {
  const m = TOXIC_OWNER.exec(name);
  if (m) return m[2];
  return name.startsWith('owui-chaos-') ? 'legacy' : undefined;
}

/** Lab proxies named after a Redis role (src/lab/lab.ts PROXY_REDIS_MASTER / PROXY_REDIS_REPLICA). */
const REDIS_ROLE_PROXIES: Record<string, 'master' | 'replica' | undefined> = {
  'redis-master': 'master',
  'redis-replica': 'replica',
};

/**
 * The Toxiproxy toxic for a `toxic.*` timeline entry; named after the entry (so reverts find it)
 * and, with a run id, after the run (so no other run ever takes it for its own).
 */
export function toxicFor(entry: RunnerTimelineEntry, runId?: string): ToxicSpec {
  const type = entry.action.slice('toxic.'.length) as ToxicType;
  const attributes: Record<string, number> = {};
  for (const key of TOXIC_ATTRIBUTES[type] ?? []) {
    const value = entry.params[key];
    if (typeof value === 'number') attributes[key] = value;
  }
  return {
    name: runId === undefined ? `owui-chaos-${entry.name}` : `owui-chaos-${entry.name}--run-${runTag(runId)}`,
    type,
    stream: entry.params.stream === 'upstream' ? 'upstream' : 'downstream',
    toxicity: typeof entry.params.toxicity === 'number' ? entry.params.toxicity : 1,
    attributes,
  };
}

export class DriverFaultInjector implements FaultInjector {
  private readonly healthBudgetMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly runId: string | undefined;

  constructor(
    private readonly drivers: TargetDrivers,
    opts: FaultInjectorOptions = {},
  ) {
    this.healthBudgetMs = opts.replicaHealthBudgetMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.runId = opts.runId;
  }

  async prepare(entry: RunnerTimelineEntry): Promise<PreparedFault> {
    const p = entry.params;
    switch (entry.action) {
      case 'replica.kill':
      case 'replica.stop':
      case 'replica.pause':
        return this.prepareReplicaFault(entry);
      case 'replica.rolling-restart': {
        const d = this.drivers.replicas();
        const replicas = await d.list();
        const interval = typeof p.interval === 'number' ? p.interval : 5000;
        return {
          description: `rolling restart of ${replicas.map((r) => r.name).join(', ')} (${interval} ms apart)`,
          record: null,
          apply: async () => {
            await rollingRestart(
              d,
              replicas.map((r) => r.id),
              { healthBudgetMs: this.healthBudgetMs, intervalMs: interval, sleep: this.sleep },
            );
            return { restarted: replicas.map((r) => r.name) };
          },
        };
      }
      case 'redis.failover': {
        const sentinel = this.drivers.sentinel();
        const budget = typeof p.timeout === 'number' ? p.timeout : 30_000;
        const master = await sentinel.currentMaster();
        return {
          description: `SENTINEL FAILOVER (master ${master.host}:${master.port})`,
          record: null,
          apply: async () => sentinel.failover(budget),
        };
      }
      case 'redis.kill-master': {
        const prepared = await this.drivers
          .sentinel()
          .prepareKillMaster({ rejoinBudgetMs: this.healthBudgetMs });
        return {
          description: prepared.description,
          record: prepared.record,
          apply: async () => {
            const handle = await prepared.apply();
            return {
              oldMaster: handle.oldMaster,
              newMaster: handle.newMaster,
              promotionMs: handle.promotionMs,
            };
          },
        };
      }
      case 'toxic.down': {
        const proxy = await this.resolveProxy(String(p.proxy));
        const info = await this.drivers.toxiproxy().getProxy(proxy.name);
        if (!info.enabled) {
          throw new FaultError(
            `Proxy \`${proxy.name}\` is already disabled, by someone else than this run: \`${entry.name}\` was not injected and nothing was touched`,
            {
              code: 'FOREIGN_FAULT',
              suggestions: ['owui-chaos rollback   # if an earlier run left it disabled'],
            },
          );
        }
        const prepared = await this.drivers.toxiproxy().prepareDisable(proxy.name);
        return {
          description: prepared.description + proxy.note,
          record: prepared.record,
          apply: async () => void (await prepared.apply()),
        };
      }
      case 'nginx.buffering': {
        const prepared = await this.drivers
          .nginx()
          .prepareSetBuffering(p.enabled === true, this.runId === undefined ? {} : { owner: this.runId });
        return {
          description: prepared.description,
          record: prepared.record,
          apply: async () => void (await prepared.apply()),
        };
      }
      default:
        if (entry.action.startsWith('toxic.')) {
          const proxy = await this.resolveProxy(String(p.proxy));
          const toxic = toxicFor(entry, this.runId);
          await this.refuseForeignToxics(proxy.name, toxic.name);
          const prepared = this.drivers.toxiproxy().prepareToxic(proxy.name, toxic);
          return {
            description: prepared.description + proxy.note,
            record: prepared.record,
            apply: async () => void (await prepared.apply()),
          };
        }
        throw new FaultError(`Unknown fault action \`${entry.action}\` in timeline entry \`${entry.name}\``, {
          code: 'FAULT_UNKNOWN',
          suggestions: ['owui-chaos experiment validate <file>'],
        });
    }
  }

  /**
   * A toxic of another owui-chaos run (or one with the very name this run would use) on the proxy
   * is a fault in the way: the injection fails before anything is touched and says whose it is.
   */
  private async refuseForeignToxics(proxy: string, name: string): Promise<void> {
    if (this.runId === undefined) return;
    const mine = runTag(this.runId);
    const existing = (await this.drivers.toxiproxy().getProxy(proxy)).toxics;
    const foreign = existing.filter((t) => t.name === name || (toxicOwnerTag(t.name) ?? mine) !== mine);
    if (foreign.length === 0) return;
    const whose = foreign
      .map((t) => {
        const tag = toxicOwnerTag(t.name);
        return `${t.type} toxic \`${t.name}\` (${tag === 'legacy' ? 'an older owui-chaos run' : tag === mine ? 'this run' : `run tag ${tag}`})`;
      })
      .join(', ');
    throw new FaultError(
      `Proxy \`${proxy}\` already carries ${whose}: another run's fault is in the way, so nothing was injected or removed`,
      {
        code: 'FOREIGN_FAULT',
        suggestions: ['owui-chaos rollback   # lists the runs with faults still injected and whose they are'],
      },
    );
  }

  async revert(record: RevertRecord): Promise<void> {
    await revertFromRecord(record, this.drivers.forReverts());
  }

  /**
   * `redis-master` / `redis-replica` name a Redis ROLE (the lab creates them so), but each proxy was
   * created in front of the node that had the role when it was set up. After a failover the roles
   * swap while the proxies do not, so a toxic on `redis-master` would slow the node that is now the
   * replica and the experiment would measure nothing. When the target has Sentinel, the role is
   * resolved to the proxy whose upstream holds it now; any other name is taken as it is.
   */
  private async resolveProxy(name: string): Promise<{ name: string; note: string }> {
    const role = REDIS_ROLE_PROXIES[name];
    if (role === undefined) return { name, note: '' };
    let master: { host: string; port: number };
    let proxies: Array<{ name: string; upstream: string }>;
    try {
      master = await this.drivers.sentinel().currentMaster();
      proxies = await this.drivers.toxiproxy().listProxies();
    } catch {
      return { name, note: '' }; // no Sentinel in the target (or it does not answer): take the name as it is
    }
    const frontsMaster = (p: { upstream: string }): boolean =>
      Number(p.upstream.slice(p.upstream.lastIndexOf(':') + 1)) === master.port;
    const holdsRole = (p: { upstream: string }): boolean =>
      role === 'master' ? frontsMaster(p) : !frontsMaster(p);
    const named = proxies.find((p) => p.name === name);
    if (!named || holdsRole(named)) return { name, note: '' };
    const other = proxies.find(
      (p) => p.name !== name && REDIS_ROLE_PROXIES[p.name] !== undefined && holdsRole(p),
    );
    if (!other) return { name, note: '' };
    return {
      name: other.name,
      note: ` (proxy \`${name}\` stands for the Redis ${role}, which is now ${other.upstream} behind \`${other.name}\`)`,
    };
  }

  private async prepareReplicaFault(entry: RunnerTimelineEntry): Promise<PreparedFault> {
    const d = this.drivers.replicas();
    const all = await d.list();
    const running = all.filter((r) => r.state === 'running');
    const wanted = typeof entry.params.replica === 'string' ? entry.params.replica : 'random';
    const count = typeof entry.params.count === 'number' ? entry.params.count : 1;
    let chosen: ReplicaInfo[];
    if (wanted === 'random') {
      const pool = [...running];
      chosen = [];
      while (chosen.length < count && pool.length > 0)
        chosen.push(pool.splice(Math.floor(this.random() * pool.length), 1)[0]!);
    } else {
      chosen = all.filter((r) => r.name === wanted || r.id === wanted);
      if (chosen.length === 0) {
        throw new FaultError(
          `No replica named \`${wanted}\` (found: ${all.map((r) => r.name).join(', ') || 'none'})`,
          {
            code: 'REPLICA_NOT_FOUND',
            suggestions: ['owui-chaos lab status', 'Use `replica: random` or one of the names above'],
          },
        );
      }
      const down = chosen.filter((r) => r.state === 'stopped' || r.state === 'paused');
      if (down.length > 0) {
        throw new FaultError(
          `Replica ${down.map((r) => `\`${r.name}\` is ${r.state}`).join(', ')}, not running: a fault that is not this entry's is in the way, so \`${entry.name}\` was not injected and nothing was touched`,
          {
            code: 'FOREIGN_FAULT',
            suggestions: ['owui-chaos lab status', 'owui-chaos rollback   # if an earlier run left it down'],
          },
        );
      }
    }
    if (chosen.length < count) {
      throw new FaultError(
        `${entry.action} needs ${count} running replica(s) but only ${running.length} are running`,
        {
          code: 'NOT_ENOUGH_REPLICAS',
          suggestions: ['owui-chaos lab status'],
        },
      );
    }
    const action = entry.action.slice('replica.'.length) as 'kill' | 'stop' | 'pause';
    const faults = chosen.map((r) =>
      prepareReplicaFault(d, { id: r.id, action, healthBudgetMs: this.healthBudgetMs }),
    );
    const records = faults.map((f) => f.record);
    return {
      description: `${action} replica ${chosen.map((r) => r.name).join(', ')}`,
      record: records.length === 1 ? records[0]! : compositeRevertRecord(records),
      apply: async () => {
        for (const f of faults) await f.apply();
        return { replicas: chosen.map((r) => r.name) };
      },
    };
  }
}
