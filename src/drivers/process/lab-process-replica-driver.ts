// Lab replicas that run as OS processes, driven with signals. The lab state directory is the source
// of truth (pid and the exact spawn record of each replica), so a NEW process — `owui-chaos
// rollback` after a crash — can kill, re-spawn and resume replicas the lab started. Every start
// persists the new pid. Verbs are idempotent: killing a dead replica, starting a running one and
// unpausing a running one succeed without doing anything.
//
// kill = signal (default SIGKILL), stop = SIGTERM then SIGKILL after a grace period, start =
// re-spawn from the spawn record, pause/unpause = SIGSTOP/SIGCONT, waitHealthy = healthy as src/infra/http-probe.ts says (from the
// instance the lab started in that slot), failing at once when the process exits.

import { type Clock, systemClock } from '../../core/clock.js';
import { FaultError } from '../../core/errors.js';
import type { ReplicaDriver, ReplicaInfo } from '../../core/ports.js';
import { isAlive, spawnDaemon, stopProcess, tailFile } from '../../infra/process/daemon.js';
import {
  type LabReplicaRecord,
  type LabState,
  labStatePath,
  readLabState,
  writeLabState,
} from '../../infra/lab-state.js';
import { hasExited, isStopped } from './proc.js';
import { type DriverLogger, formatBudget, silentLogger, step } from '../driver-log.js';
import { pollHealthy, probeReplica } from '../../infra/http-probe.js';

export interface LabProcessReplicaDriverOptions {
  /** The lab's state directory (holds `state.json`). */
  stateDir: string;
  /** SIGTERM → SIGKILL grace period for `stop` and `restart`. Default 5000 ms. */
  stopGraceMs?: number;
  logger?: DriverLogger;
  clock?: Clock;
}

const DRIVER = 'process';
const KILLING_SIGNALS = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP']);

export class LabProcessReplicaDriver implements ReplicaDriver {
  private readonly log: DriverLogger;
  private readonly clock: Clock;

  constructor(private readonly opts: LabProcessReplicaDriverOptions) {
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
  }

  async list(): Promise<ReplicaInfo[]> {
    const state = this.state();
    return state.replicas
      .filter((r) => r.mode === 'process')
      .map((r) => ({ id: r.name, name: r.name, state: processState(r.pid), url: r.url }));
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.verb(`kill replica process ${id} with ${signal}`, async () => {
      const pid = this.replica(id).pid;
      if (pid === undefined || hasExited(pid)) return;
      if (!isAlive(pid)) {
        await this.waitGone(pid, 5000, 'finish exiting', id); // killed before, threads still exiting
        return;
      }
      try {
        process.kill(pid, signal as NodeJS.Signals);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        return;
      }
      if (KILLING_SIGNALS.has(signal)) {
        // A stopped (paused) process only acts on SIGTERM & co once it runs again.
        if (signal !== 'SIGKILL' && isStopped(pid)) process.kill(pid, 'SIGCONT');
        await this.waitGone(
          pid,
          signal === 'SIGKILL' ? 5000 : (this.opts.stopGraceMs ?? 5000),
          `exit after ${signal}`,
          id,
        );
      }
    });
  }

  async stop(id: string): Promise<void> {
    await this.verb(`stop replica process ${id}`, async () => {
      const pid = this.replica(id).pid;
      if (pid === undefined || !isAlive(pid)) return;
      if (isStopped(pid)) {
        process.kill(pid, 'SIGTERM');
        process.kill(pid, 'SIGCONT');
      }
      await stopProcess(pid, this.opts.stopGraceMs ?? 5000);
      await this.waitGone(pid, 5000, 'exit after SIGTERM and SIGKILL', id);
    });
  }

  async start(id: string): Promise<void> {
    await this.verb(`start replica process ${id}`, async () => {
      const record = this.replica(id);
      if (record.pid !== undefined && isAlive(record.pid)) {
        if (isStopped(record.pid)) process.kill(record.pid, 'SIGCONT');
        return;
      }
      // Its port is free only once every thread of the old process is gone.
      if (record.pid !== undefined) await this.waitGone(record.pid, 5000, 'finish exiting', id);
      const daemon = await spawnDaemon({
        name: record.name,
        command: record.spawn.command,
        args: record.spawn.args,
        // The record's env wins; the current env fills in what it does not set (PATH, HOME).
        env: { ...process.env, ...record.spawn.env },
        logFile: record.spawn.logFile,
      });
      this.persistPid(id, daemon.pid);
    });
  }

  async restart(id: string): Promise<void> {
    await this.stop(id);
    await this.start(id);
  }

  async pause(id: string): Promise<void> {
    await this.verb(`pause replica process ${id}`, async () => {
      const pid = this.replica(id).pid;
      if (pid === undefined || !isAlive(pid))
        throw new Error(`replica ${id} is not running, so it cannot be paused`);
      process.kill(pid, 'SIGSTOP');
      // Delivery is asynchronous: return once the kernel shows the process stopped.
      await this.waitUntil(() => isStopped(pid) || !isAlive(pid), 2000, `stop after SIGSTOP`, id);
    });
  }

  async unpause(id: string): Promise<void> {
    await this.verb(`unpause replica process ${id}`, async () => {
      const pid = this.replica(id).pid;
      if (pid === undefined || !isAlive(pid)) return;
      process.kill(pid, 'SIGCONT');
      await this.waitUntil(() => !isStopped(pid), 2000, `resume after SIGCONT`, id);
    });
  }

  async waitHealthy(id: string, budgetMs: number): Promise<void> {
    await step(
      this.log,
      DRIVER,
      `wait for replica process ${id} to be healthy`,
      async () => {
        const record = this.replica(id);
        const probe = await pollHealthy(
          (timeoutMs) =>
            probeReplica(record.url, { timeoutMs, instance: record.spawn.env.OWUI_SIM_INSTANCE_ID }),
          budgetMs,
          { clock: this.clock, watch: { pid: record.pid } },
        );
        if (probe.ok) return;
        const pid = this.replica(id).pid;
        const proc = pid === undefined ? 'no pid recorded' : `pid ${pid} ${processState(pid)}`;
        throw new FaultError(
          `Replica ${id} did not answer ${record.url}/health within ${formatBudget(budgetMs)} (${probe.reason}; ${proc})`,
          {
            code: 'REPLICA_UNHEALTHY',
            suggestions: [`tail -n 50 ${record.spawn.logFile}`],
            cause: new Error(tailFile(record.spawn.logFile, 15) || 'log is empty'),
          },
        );
      },
      { code: 'REPLICA_UNHEALTHY' },
      this.clock,
    );
  }

  private async verb(action: string, fn: () => Promise<void>): Promise<void> {
    await step(this.log, DRIVER, action, fn, { code: 'PROCESS_ACTION_FAILED' }, this.clock);
  }

  private state(): LabState {
    let state: LabState | undefined;
    try {
      state = readLabState(this.opts.stateDir);
    } catch (err) {
      throw new FaultError(`Could not read the lab state ${labStatePath(this.opts.stateDir)}`, {
        code: 'LAB_STATE_UNREADABLE',
        cause: err,
      });
    }
    if (!state) {
      throw new FaultError(`No lab state at ${labStatePath(this.opts.stateDir)}: the lab is not up`, {
        code: 'LAB_NOT_UP',
        suggestions: ['owui-chaos lab up', 'owui-chaos lab status'],
      });
    }
    return state;
  }

  private replica(id: string): LabReplicaRecord {
    const state = this.state();
    const record = state.replicas.find((r) => r.name === id && r.mode === 'process');
    if (!record) {
      const names = state.replicas.filter((r) => r.mode === 'process').map((r) => r.name);
      throw new FaultError(`No lab replica process named \`${id}\` (known: ${names.join(', ') || 'none'})`, {
        code: 'REPLICA_NOT_FOUND',
        suggestions: ['owui-chaos lab status'],
      });
    }
    return record;
  }

  /** Re-reads the file right before writing, so concurrent updates to other parts are kept. */
  private persistPid(id: string, pid: number): void {
    const state = this.state();
    const record = state.replicas.find((r) => r.name === id);
    if (!record) throw new Error(`replica ${id} disappeared from the lab state`);
    record.pid = pid;
    writeLabState(state);
  }

  private async waitGone(pid: number, budgetMs: number, what: string, id: string): Promise<void> {
    await this.waitUntil(() => hasExited(pid), budgetMs, what, id, pid);
  }

  private async waitUntil(
    done: () => boolean,
    budgetMs: number,
    what: string,
    id: string,
    pid?: number,
  ): Promise<void> {
    const deadline = this.clock.now() + budgetMs;
    for (let i = 0; i < 100_000 && !done(); i++) {
      if (this.clock.now() >= deadline) {
        throw new FaultError(
          `Replica ${id}${pid === undefined ? '' : ` (pid ${pid})`} did not ${what} within ${formatBudget(budgetMs)}`,
          { code: 'PROCESS_ACTION_FAILED' },
        );
      }
      await this.clock.sleep(10);
    }
  }
}

function processState(pid: number | undefined): ReplicaInfo['state'] {
  if (pid === undefined || !isAlive(pid)) return 'stopped';
  return isStopped(pid) ? 'paused' : 'running';
}
