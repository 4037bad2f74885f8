// Stops and starts the lab's Redis data nodes (processes recorded in the lab state directory under
// `redis`, a RedisTopology). Nodes are matched by port, because roles change with failovers while
// ports do not. A restart re-spawns redis-server with the node's own config file and persists the
// new pid, so `lab down` and later rollbacks still find it.

import { FaultError } from '../../core/errors.js';
import type { RedisNodeAddress } from '../../core/ports.js';
import { isAlive, spawnDaemon, tcpOpen } from '../../infra/process/daemon.js';
import type { RedisNodeInfo } from '../../infra/lab-state.js';
import { type LabState, labStatePath, readLabState, writeLabState } from '../../infra/lab-state.js';
import { hasExited } from '../process/proc.js';
import type { RedisNodeController } from './ioredis-sentinel-driver.js';

export interface LabRedisNodeControllerOptions {
  stateDir: string;
  /** Budget for a killed node to disappear and a started one to accept connections. Default 10 s. */
  budgetMs?: number;
}

type DataNodeKey = 'master' | 'replica';

export class LabRedisNodeController implements RedisNodeController {
  constructor(private readonly opts: LabRedisNodeControllerOptions) {}

  async kill(node: RedisNodeAddress): Promise<void> {
    const { info } = this.find(node);
    if (!isAlive(info.pid)) return;
    try {
      process.kill(info.pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
    await this.until(
      () => Promise.resolve(hasExited(info.pid)),
      `Redis node ${node.host}:${node.port} (pid ${info.pid}) did not exit after SIGKILL`,
    );
  }

  async start(node: RedisNodeAddress): Promise<void> {
    const { info, key } = this.find(node);
    if (isAlive(info.pid)) return;
    const daemon = await spawnDaemon({
      name: info.name,
      command: info.command,
      args: info.args,
      logFile: info.logFile,
    });
    const state = this.state();
    const record = state.redis?.[key];
    if (record) {
      record.pid = daemon.pid;
      writeLabState(state);
    }
    await this.until(
      () => tcpOpen(node.port, node.host),
      `Redis node ${node.host}:${node.port} did not accept connections after a restart`,
    );
  }

  private find(node: RedisNodeAddress): { info: RedisNodeInfo; key: DataNodeKey } {
    const redis = this.state().redis;
    if (!redis) {
      throw new FaultError(`The lab state ${labStatePath(this.opts.stateDir)} has no Redis topology`, {
        code: 'LAB_REDIS_MISSING',
      });
    }
    for (const key of ['master', 'replica'] as const) {
      if (redis[key].port === node.port) return { info: redis[key], key };
    }
    throw new FaultError(
      `No lab Redis node listens on port ${node.port} (known: ${redis.master.port}, ${redis.replica.port})`,
      {
        code: 'LAB_REDIS_NODE_UNKNOWN',
      },
    );
  }

  private state(): LabState {
    const state = readLabState(this.opts.stateDir);
    if (!state) {
      throw new FaultError(`No lab state at ${labStatePath(this.opts.stateDir)}: the lab is not up`, {
        code: 'LAB_NOT_UP',
        suggestions: ['owui-chaos lab up'],
      });
    }
    return state;
  }

  private async until(done: () => Promise<boolean>, failure: string): Promise<void> {
    const budget = this.opts.budgetMs ?? 10_000;
    const deadline = Date.now() + budget;
    for (let i = 0; i < 100_000; i++) {
      if (await done()) return;
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new FaultError(`${failure} within ${Math.round(budget / 1000)} s`, {
      code: 'LAB_REDIS_NODE_TIMEOUT',
    });
  }
}
