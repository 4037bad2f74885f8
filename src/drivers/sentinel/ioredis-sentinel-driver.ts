// Redis Sentinel through ioredis. The current master is what a MAJORITY of the configured
// Sentinels report (one confused Sentinel must not decide); a failover is `SENTINEL FAILOVER
// <master>` followed by a wait, within a budget, for the promotion — seen first on a Sentinel's
// `+switch-master` pub/sub channel, with `get-master-addr-by-name` polling as the fallback.
//
// `killNode` kills the master's process or container through an injected `RedisNodeController`
// (the driver knows Redis, the controller knows how nodes run); `restartNode`, its inverse,
// restarts the node and waits until it has rejoined as a replica (or, if Sentinel never failed
// over, is the master again). It is idempotent: a node that already answers is not restarted.

import { Redis } from 'ioredis';
import { type Clock, systemClock } from '../../core/clock.js';
import { FaultError, errorMessage } from '../../core/errors.js';
import type {
  FailoverResult,
  KillMasterResult,
  RedisNodeAddress,
  ReplicationHealth,
  SentinelDriver,
} from '../../core/ports.js';
import { type DriverLogger, formatBudget, silentLogger, step } from '../driver-log.js';
import { masterAddr, probeClient } from '../../infra/redis-probe.js';

/** Knows how a Redis data node runs (lab process, container, …): kills it and starts it again. */
export interface RedisNodeController {
  /** Kills the node at this address at once (SIGKILL). Idempotent. */
  kill(node: RedisNodeAddress): Promise<void>;
  /** Starts the node again with its own config. Idempotent; resolves once it is spawned. */
  start(node: RedisNodeAddress): Promise<void>;
}

export interface IoredisSentinelDriverOptions {
  sentinels: RedisNodeAddress[];
  masterName: string;
  /** Password of the Redis data nodes (used for ROLE checks on a restarted node). */
  password?: string;
  /** Password of the Sentinels, when they require one. */
  sentinelPassword?: string;
  /** Needed for `killNode` and `restartNode`. */
  nodeController?: RedisNodeController;
  /** Per-command and connect timeout. Default 2000 ms. */
  commandTimeoutMs?: number;
  logger?: DriverLogger;
  clock?: Clock;
}

export interface WriteProbeOptions {
  /** Gap between probe writes. Default 50 ms. */
  intervalMs?: number;
  /** Key the probe writes. Default `owui-chaos:failover-probe`. */
  key?: string;
}

export interface FailoverOptions {
  /** Measure what an application sees: writes through a Sentinel-aware client during the failover. */
  probe?: WriteProbeOptions;
}

export interface ProbedFailoverResult extends FailoverResult {
  /** With `probe`: failed writes. */
  clientErrors?: number;
  /** With `probe`: first failed write → first successful write after the last failure. */
  clientErrorWindowMs?: number;
  probeWrites?: number;
}

interface WriteProbe {
  stop(): Promise<void>;
  finish(
    deadline: number,
  ): Promise<{ clientErrors: number; clientErrorWindowMs: number; probeWrites: number }>;
}

export interface RejoinResult {
  role: 'replica' | 'master';
  /** For a replica: the master it replicates from. */
  master?: RedisNodeAddress;
}

const DRIVER = 'sentinel';

export class IoredisSentinelDriver implements SentinelDriver {
  private readonly log: DriverLogger;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly open = new Set<Redis>();

  constructor(private readonly opts: IoredisSentinelDriverOptions) {
    if (opts.sentinels.length === 0) {
      throw new FaultError('The Sentinel driver needs at least one Sentinel address', {
        code: 'SENTINEL_NOT_CONFIGURED',
      });
    }
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.timeoutMs = opts.commandTimeoutMs ?? 2000;
  }

  get masterName(): string {
    return this.opts.masterName;
  }

  async currentMaster(): Promise<RedisNodeAddress> {
    return step(
      this.log,
      DRIVER,
      `ask ${this.opts.sentinels.length} Sentinels for the master of \`${this.masterName}\``,
      () => this.majorityMaster(),
      {
        code: 'SENTINEL_NO_MAJORITY',
      },
      this.clock,
    );
  }

  /**
   * `SENTINEL FAILOVER`, then waits for the promotion. With `probe`, a Sentinel-aware client
   * (as an application would use) writes a key every `intervalMs` during the failover, and the
   * result says how long writes failed: first failed write → first successful write after it.
   */
  async failover(budgetMs: number, opts: FailoverOptions = {}): Promise<ProbedFailoverResult> {
    return step(
      this.log,
      DRIVER,
      `fail over \`${this.masterName}\` (budget ${formatBudget(budgetMs)})`,
      async () => {
        const oldMaster = await this.majorityMaster();
        const watch = await this.watchSwitch(oldMaster);
        const probe = opts.probe ? await this.startWriteProbe(opts.probe) : undefined;
        try {
          const sentAt = this.clock.now();
          await this.sendFailover();
          const deadline = sentAt + budgetMs;
          const { newMaster, observedAt } = await this.waitPromotion(watch, oldMaster, deadline, budgetMs);
          const result: ProbedFailoverResult = { oldMaster, newMaster, promotionMs: observedAt - sentAt };
          if (probe) Object.assign(result, await probe.finish(deadline));
          return result;
        } finally {
          watch.close();
          await probe?.stop();
        }
      },
      { code: 'SENTINEL_FAILOVER_FAILED' },
      this.clock,
    );
  }

  /**
   * Kills the data node at `node` (the master) through the node controller. With a promotion
   * budget, resolves once Sentinel promoted another node (`+switch-master` or polling).
   */
  async killNode(
    node: RedisNodeAddress,
    opts: { promotionBudgetMs?: number } = {},
  ): Promise<KillMasterResult> {
    const controller = this.controller();
    return step(
      this.log,
      DRIVER,
      `kill Redis master ${addr(node)} of \`${this.masterName}\``,
      async () => {
        const budget = opts.promotionBudgetMs;
        const watch = budget === undefined ? undefined : await this.watchSwitch(node);
        try {
          const killedAt = this.clock.now();
          await controller.kill(node);
          if (!watch || budget === undefined) return {};
          const { newMaster, observedAt } = await this.waitPromotion(watch, node, killedAt + budget, budget);
          return { newMaster, promotionMs: observedAt - killedAt };
        } finally {
          watch?.close();
        }
      },
      { code: 'REDIS_KILL_MASTER_FAILED' },
      this.clock,
    );
  }

  /**
   * The inverse of a master kill: start the node if it does not answer, then wait until it is a
   * replica (Sentinel reconfigures a returning old master) or the master Sentinel agrees on.
   */
  async restartNode(node: RedisNodeAddress, budgetMs = 30_000): Promise<RejoinResult> {
    return step(
      this.log,
      DRIVER,
      `restart Redis node ${addr(node)} and wait for it to rejoin \`${this.masterName}\``,
      async () => {
        const deadline = this.clock.now() + budgetMs;
        if (!(await this.answers(node))) await this.controller().start(node);
        let last = 'not probed';
        for (let i = 0; i < 100_000; i++) {
          try {
            const role = await this.role(node);
            if (role.role === 'replica') return role;
            const master = await this.majorityMaster().catch(() => undefined);
            if (master && sameNode(master, node)) return role;
            last = `it is a master, but Sentinels name ${master ? addr(master) : 'no agreed master'}`;
          } catch (err) {
            last = errorMessage(err);
          }
          if (this.clock.now() >= deadline) break;
          await this.clock.sleep(Math.min(250, Math.max(1, deadline - this.clock.now())));
        }
        throw new FaultError(
          `Redis node ${addr(node)} did not rejoin \`${this.masterName}\` as a replica within ${formatBudget(budgetMs)} (${last})`,
          {
            code: 'REDIS_REJOIN_TIMEOUT',
            suggestions: [
              `redis-cli -h ${node.host} -p ${node.port} ROLE`,
              `redis-cli -h ${this.opts.sentinels[0]!.host} -p ${this.opts.sentinels[0]!.port} SENTINEL replicas ${this.masterName}`,
            ],
          },
        );
      },
      { code: 'REDIS_RESTART_FAILED' },
      this.clock,
    );
  }

  /** The node's own view (`ROLE`): replica of which master, or master. */
  async role(node: RedisNodeAddress): Promise<RejoinResult> {
    return this.withClient(node, this.opts.password, async (r) => {
      const reply = (await r.call('ROLE')) as unknown[];
      if (reply[0] === 'slave') {
        return { role: 'replica', master: { host: String(reply[1]), port: Number(reply[2]) } };
      }
      if (reply[0] === 'master') return { role: 'master' };
      throw new Error(`ROLE answered ${String(reply[0])}`);
    });
  }

  /**
   * Is replication back as it should be? Every Sentinel answers and names the same master, that
   * master says it is one (`ROLE`), and at least one replica is linked to it (its own `ROLE` says
   * `connected` to that master). `problems` is empty when all of it holds; `master` is what the
   * Sentinels agree on (for "did it change while we watched?").
   */
  async replicationHealth(): Promise<ReplicationHealth> {
    const problems: string[] = [];
    const answers = await Promise.all(
      this.opts.sentinels.map(async (s) => {
        try {
          const m = await this.withClient(s, this.opts.sentinelPassword, (r) =>
            masterAddr(r, this.masterName),
          );
          return m ? `${normaliseHost(m.host)}:${m.port}` : `unknown master name`;
        } catch (err) {
          return `no answer (${errorMessage(err)})`;
        }
      }),
    );
    const named = new Set(answers.filter((a) => /^[^\s]+:\d+$/.test(a)));
    if (named.size !== 1 || answers.some((a) => !named.has(a))) {
      problems.push(
        `Sentinels do not all agree on the master of \`${this.masterName}\` (${this.opts.sentinels.map((s, i) => `${addr(s)}: ${answers[i]}`).join('; ')})`,
      );
      return { problems };
    }
    const master = [...named][0]!;
    const host = master.slice(0, master.lastIndexOf(':'));
    const port = Number(master.slice(master.lastIndexOf(':') + 1));
    try {
      const reply = (await this.withClient({ host, port }, this.opts.password, (r) =>
        r.call('ROLE'),
      )) as unknown[];
      if (reply[0] !== 'master') {
        problems.push(`the master Sentinels name, ${master}, says it is a ${String(reply[0])}`);
        return { problems, master };
      }
      const replicas = ((reply[2] as unknown[] | undefined) ?? []) as Array<[string, string, string]>;
      let linked = 0;
      for (const [rh, rp] of replicas) {
        const role = (await this.withClient({ host: rh, port: Number(rp) }, this.opts.password, (r) =>
          r.call('ROLE'),
        ).catch(() => undefined)) as unknown[] | undefined;
        if (role?.[0] === 'slave' && Number(role[2]) === port && role[3] === 'connected') linked++;
      }
      if (linked === 0)
        problems.push(
          `master ${master} has no replica linked to it (${replicas.length === 0 ? 'none attached' : `${replicas.length} attached, none \`connected\``})`,
        );
    } catch (err) {
      problems.push(`the master Sentinels name, ${master}, does not answer (${errorMessage(err)})`);
    }
    return { problems, master };
  }

  async close(): Promise<void> {
    for (const r of this.open) r.disconnect();
    this.open.clear();
  }

  /** Writes through a Sentinel-aware client until stopped; see `failover`. */
  private async startWriteProbe(p: WriteProbeOptions): Promise<WriteProbe> {
    const interval = p.intervalMs ?? 50;
    const key = p.key ?? 'owui-chaos:failover-probe';
    const client = new Redis({
      sentinels: this.opts.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: this.masterName,
      ...(this.opts.password === undefined ? {} : { password: this.opts.password }),
      ...(this.opts.sentinelPassword === undefined ? {} : { sentinelPassword: this.opts.sentinelPassword }),
      failoverDetector: true,
      enableOfflineQueue: false,
      commandTimeout: Math.max(200, interval * 5),
      maxRetriesPerRequest: 0,
      retryStrategy: () => interval,
      // A demoted master answers READONLY: reconnect, which asks Sentinel again.
      reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
    });
    client.on('error', () => undefined);
    this.open.add(client);
    const outcomes: { at: number; ok: boolean }[] = [];
    let running = true;
    let n = 0;
    const loop = (async () => {
      // Wait (bounded) for the first connection, so errors before the failover are not counted.
      for (let i = 0; i < 100 && client.status !== 'ready'; i++) await this.clock.sleep(20);
      while (running && n < 1_000_000) {
        const at = this.clock.now();
        const ok = await client.set(key, String(n++)).then(
          () => true,
          () => false,
        );
        outcomes.push({ at, ok });
        await this.clock.sleep(interval);
      }
    })();
    const summary = (): { clientErrors: number; clientErrorWindowMs: number; probeWrites: number } => {
      const firstFail = outcomes.findIndex((o) => !o.ok);
      const errors = outcomes.filter((o) => !o.ok).length;
      if (firstFail === -1) return { clientErrors: 0, clientErrorWindowMs: 0, probeWrites: outcomes.length };
      const lastFail = outcomes.length - 1 - [...outcomes].reverse().findIndex((o) => !o.ok);
      const recovered = outcomes[lastFail + 1];
      const end = recovered ? recovered.at : this.clock.now();
      return {
        clientErrors: errors,
        clientErrorWindowMs: end - outcomes[firstFail]!.at,
        probeWrites: outcomes.length,
      };
    };
    const stop = async (): Promise<void> => {
      running = false;
      await loop;
      this.forget(client);
    };
    return {
      stop,
      finish: async (deadline) => {
        // Keep writing until one succeeds after the promotion (bounded by the failover budget).
        const since = this.clock.now();
        for (let i = 0; i < 100_000 && this.clock.now() < deadline; i++) {
          if (outcomes.some((o) => o.at >= since && o.ok)) break;
          await this.clock.sleep(interval);
        }
        await stop();
        return summary();
      },
    };
  }

  private controller(): RedisNodeController {
    if (!this.opts.nodeController) {
      throw new FaultError(
        `Killing the Redis master of \`${this.masterName}\` needs a node controller (lab state dir or Docker) and none is configured`,
        {
          code: 'REDIS_NODE_CONTROLLER_MISSING',
        },
      );
    }
    return this.opts.nodeController;
  }

  private async answers(node: RedisNodeAddress): Promise<boolean> {
    try {
      return (await this.withClient(node, this.opts.password, (r) => r.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  private async majorityMaster(): Promise<RedisNodeAddress> {
    const answers = await Promise.all(
      this.opts.sentinels.map(async (s) => {
        try {
          const master = await this.withClient(s, this.opts.sentinelPassword, (r) =>
            masterAddr(r, this.masterName),
          );
          return master ? { sentinel: s, master } : { sentinel: s, error: 'unknown master name' };
        } catch (err) {
          return { sentinel: s, error: errorMessage(err) };
        }
      }),
    );
    const votes = new Map<string, { master: RedisNodeAddress; count: number }>();
    for (const a of answers) {
      if (!('master' in a) || !a.master) continue;
      const key = addr(a.master);
      const v = votes.get(key) ?? { master: a.master, count: 0 };
      v.count++;
      votes.set(key, v);
    }
    const needed = Math.floor(this.opts.sentinels.length / 2) + 1;
    for (const v of votes.values()) if (v.count >= needed) return v.master;
    const detail = answers
      .map(
        (a) =>
          `${addr(a.sentinel)}: ${'master' in a && a.master ? addr(a.master) : (a as { error: string }).error}`,
      )
      .join('; ');
    throw new FaultError(
      `No majority of Sentinels (${needed} of ${this.opts.sentinels.length}) agrees on a master for \`${this.masterName}\` (${detail})`,
      {
        code: 'SENTINEL_NO_MAJORITY',
        suggestions: this.opts.sentinels.map(
          (s) => `redis-cli -h ${s.host} -p ${s.port} SENTINEL get-master-addr-by-name ${this.masterName}`,
        ),
      },
    );
  }

  private async sendFailover(): Promise<void> {
    const errors: string[] = [];
    for (const s of this.opts.sentinels) {
      try {
        await this.withClient(s, this.opts.sentinelPassword, (r) =>
          r.call('SENTINEL', 'FAILOVER', this.masterName),
        );
        return;
      } catch (err) {
        const message = errorMessage(err);
        errors.push(`${addr(s)}: ${message}`);
        // The Sentinel answered and refused (INPROG, NOGOODSLAVE, no such master): asking another won't help.
        if (/INPROG|NOGOODSLAVE|No such master/i.test(message)) break;
      }
    }
    throw new FaultError(`Sentinel refused \`SENTINEL FAILOVER ${this.masterName}\` (${errors.join('; ')})`, {
      code: 'SENTINEL_FAILOVER_REFUSED',
      suggestions: [
        `redis-cli -h ${this.opts.sentinels[0]!.host} -p ${this.opts.sentinels[0]!.port} SENTINEL replicas ${this.masterName}`,
      ],
    });
  }

  /** Subscribes to `+switch-master` on the first Sentinel that answers; polling covers the rest. */
  private async watchSwitch(oldMaster: RedisNodeAddress): Promise<SwitchWatch> {
    let resolveSwitch!: (v: { newMaster: RedisNodeAddress; observedAt: number }) => void;
    const switched = new Promise<{ newMaster: RedisNodeAddress; observedAt: number }>(
      (r) => (resolveSwitch = r),
    );
    let subscriber: Redis | undefined;
    for (const s of this.opts.sentinels) {
      const r = this.client(s, this.opts.sentinelPassword);
      try {
        await r.connect();
        r.on('message', (_channel: string, message: string) => {
          // "<name> <old-ip> <old-port> <new-ip> <new-port>"
          const [name, , , host, port] = message.split(' ');
          if (name !== this.masterName || host === undefined || port === undefined) return;
          const newMaster = { host, port: Number(port) };
          if (!sameNode(newMaster, oldMaster)) resolveSwitch({ newMaster, observedAt: this.clock.now() });
        });
        await r.subscribe('+switch-master');
        subscriber = r;
        break;
      } catch {
        this.forget(r);
      }
    }
    return {
      switched,
      close: () => {
        if (subscriber) this.forget(subscriber);
      },
    };
  }

  private async waitPromotion(
    watch: SwitchWatch,
    oldMaster: RedisNodeAddress,
    deadline: number,
    budgetMs: number,
  ): Promise<{ newMaster: RedisNodeAddress; observedAt: number }> {
    let seen: { newMaster: RedisNodeAddress; observedAt: number } | undefined;
    void watch.switched.then((v) => (seen = v));
    for (let i = 0; i < 100_000; i++) {
      if (seen) return seen;
      const polled = await this.majorityMaster().catch(() => undefined);
      if (seen) return seen;
      if (polled && !sameNode(polled, oldMaster)) return { newMaster: polled, observedAt: this.clock.now() };
      if (this.clock.now() >= deadline) break;
      await Promise.race([
        watch.switched,
        this.clock.sleep(Math.min(250, Math.max(1, deadline - this.clock.now()))),
      ]);
    }
    throw new FaultError(
      `Sentinel did not promote a new master for \`${this.masterName}\` within ${formatBudget(budgetMs)} (master still ${addr(oldMaster)})`,
      {
        code: 'SENTINEL_PROMOTION_TIMEOUT',
        suggestions: this.opts.sentinels
          .slice(0, 1)
          .map((s) => `redis-cli -h ${s.host} -p ${s.port} SENTINEL master ${this.masterName}`),
      },
    );
  }

  private client(node: RedisNodeAddress, password: string | undefined): Redis {
    const r = probeClient(node, { timeoutMs: this.timeoutMs, password });
    this.open.add(r);
    return r;
  }

  private forget(r: Redis): void {
    r.disconnect();
    this.open.delete(r);
  }

  private async withClient<T>(
    node: RedisNodeAddress,
    password: string | undefined,
    fn: (r: Redis) => Promise<T>,
  ): Promise<T> {
    const r = this.client(node, password);
    try {
      await r.connect();
      return await fn(r);
    } finally {
      this.forget(r);
    }
  }
}

interface SwitchWatch {
  switched: Promise<{ newMaster: RedisNodeAddress; observedAt: number }>;
  close(): void;
}

export function addr(node: RedisNodeAddress): string {
  return `${node.host}:${node.port}`;
}

function sameNode(a: RedisNodeAddress, b: RedisNodeAddress): boolean {
  return a.port === b.port && normaliseHost(a.host) === normaliseHost(b.host);
}

function normaliseHost(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}
