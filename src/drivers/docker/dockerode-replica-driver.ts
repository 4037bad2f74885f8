// Open WebUI replicas as Docker containers, through dockerode (the one module that loads the SDK).
// Replicas are found by exact container names or by labels (compose's
// `com.docker.compose.service=<service>` included). Verbs are idempotent where Docker allows it:
// starting a running container, stopping a stopped one, unpausing a running one and killing a dead
// one all succeed, so reverts can be replayed. `waitHealthy` needs the container running and, when
// the replica's URL is known (option `urls` or the `owui-chaos.url` label), `/health` answering.

import Docker from 'dockerode';
import { type Clock, systemClock } from '../../core/clock.js';
import { FaultError } from '../../core/errors.js';
import type { ReplicaDriver, ReplicaInfo } from '../../core/ports.js';
import { type DriverLogger, formatBudget, silentLogger, step } from '../driver-log.js';
import { pollHealthy, probeReplica } from '../../infra/http-probe.js';
import { type ContainerExec, type ExecResult, dockerodeExec } from './docker-exec.js';

export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const DEFAULT_URL_LABEL = 'owui-chaos.url';

export interface DockerConnectionOptions {
  socketPath?: string;
  /** A host name, or a whole engine address such as `tcp://10.0.0.5:2375` (port/protocol taken from it). */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
}

/** Dockerode options from a connection; `tcp://h:p` (Docker's DOCKER_HOST form) becomes http://h:p. */
export function dockerodeOptions(c: DockerConnectionOptions = {}): Docker.DockerOptions {
  if (c.host && /^(tcp|https?):\/\//.test(c.host)) {
    const tcp = c.host.startsWith('tcp:');
    const u = new URL(tcp ? c.host.replace(/^tcp:/, 'http:') : c.host);
    // URL drops a scheme's default port, so put it back; bare tcp:// means Docker's 2375.
    const defaultPort = tcp ? 2375 : u.protocol === 'https:' ? 443 : 80;
    return {
      host: u.hostname,
      port: c.port ?? (u.port ? Number(u.port) : defaultPort),
      protocol: c.protocol ?? (u.protocol === 'https:' ? 'https' : 'http'),
    };
  }
  const out: Docker.DockerOptions = {};
  if (c.socketPath !== undefined) out.socketPath = c.socketPath;
  if (c.host !== undefined) out.host = c.host;
  if (c.port !== undefined) out.port = c.port;
  if (c.protocol !== undefined) out.protocol = c.protocol;
  return out;
}

export interface DockerodeReplicaDriverOptions {
  /** Where the engine is; default: DOCKER_HOST, else /var/run/docker.sock. */
  docker?: DockerConnectionOptions;
  /** Exact container names (with or without the leading `/`). */
  names?: string[];
  /** Label filters, `key=value` or `key` (all must match). */
  labels?: string[];
  /** Shorthand for the label `com.docker.compose.service=<service>`. */
  composeService?: string;
  /** With `composeService`: also require `com.docker.compose.project=<project>`. */
  composeProject?: string;
  /** Container name → direct replica URL (for `/health`). */
  urls?: Record<string, string>;
  /** Label carrying the replica URL when `urls` has none. Default `owui-chaos.url`. */
  urlLabel?: string;
  /** Seconds Docker waits between SIGTERM and SIGKILL on stop/restart. Default 10. */
  stopTimeoutS?: number;
  logger?: DriverLogger;
  clock?: Clock;
}

const DRIVER = 'docker';

export class DockerodeReplicaDriver implements ReplicaDriver {
  private readonly docker: Docker;
  private readonly log: DriverLogger;
  private readonly clock: Clock;
  private readonly labelFilters: string[];

  constructor(private readonly opts: DockerodeReplicaDriverOptions) {
    this.docker = new Docker(dockerodeOptions(opts.docker));
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.labelFilters = [...(opts.labels ?? [])];
    if (opts.composeService) {
      this.labelFilters.push(`${COMPOSE_SERVICE_LABEL}=${opts.composeService}`);
      if (opts.composeProject) this.labelFilters.push(`${COMPOSE_PROJECT_LABEL}=${opts.composeProject}`);
    }
    if (!opts.names?.length && this.labelFilters.length === 0) {
      throw new FaultError(
        'The Docker replica driver needs container names, labels or a compose service to find replicas',
        {
          code: 'DOCKER_SELECTOR_MISSING',
        },
      );
    }
  }

  /** Whether the engine answers (for preflight and for skipping tests). */
  async ping(): Promise<boolean> {
    try {
      await this.docker.ping();
      return true;
    } catch {
      return false;
    }
  }

  async list(): Promise<ReplicaInfo[]> {
    return step(
      this.log,
      DRIVER,
      `list replicas (${this.selectorText()})`,
      async () => {
        const filters: Record<string, string[]> = {};
        if (this.labelFilters.length) filters.label = this.labelFilters;
        const wanted = this.opts.names?.map((n) => n.replace(/^\//, ''));
        if (wanted?.length) filters.name = wanted.map((n) => `^/${escapeRegExp(n)}$`);
        const containers = await this.docker.listContainers({ all: true, filters });
        const infos = containers.map((c): ReplicaInfo => {
          const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
          const url = this.urlFor(name, c.Labels);
          return { id: c.Id, name, state: mapState(c.State), ...(url === undefined ? {} : { url }) };
        });
        // Names in the order they were given; labels by name, so ids are stable across calls.
        if (wanted?.length) infos.sort((a, b) => wanted.indexOf(a.name) - wanted.indexOf(b.name));
        else infos.sort((a, b) => a.name.localeCompare(b.name));
        return infos;
      },
      {
        code: 'DOCKER_LIST_FAILED',
        message: `Could not list replica containers (${this.selectorText()})`,
        suggestions: ['docker info', 'docker ps -a'],
      },
      this.clock,
    );
  }

  async kill(id: string, signal = 'SIGKILL'): Promise<void> {
    await this.verb(`kill replica container ${id} with ${signal}`, async () => {
      try {
        await this.docker.getContainer(id).kill({ signal });
      } catch (err) {
        if (!isStatus(err, 409)) throw err; // 409: not running — already dead
      }
      if (signal === 'SIGKILL' || signal === 'KILL' || signal === '9') {
        await this.waitState(id, (s) => !s.Running, 10_000, 'stop running after SIGKILL');
      }
    });
  }

  async stop(id: string): Promise<void> {
    await this.verb(`stop replica container ${id}`, async () => {
      try {
        await this.docker.getContainer(id).stop({ t: this.stopTimeoutS() });
      } catch (err) {
        if (!isStatus(err, 304)) throw err; // already stopped
      }
    });
  }

  async start(id: string): Promise<void> {
    await this.verb(`start replica container ${id}`, async () => {
      const container = this.docker.getContainer(id);
      const state = (await container.inspect()).State;
      if (state.Paused) {
        await container.unpause();
        return;
      }
      if (state.Running) return;
      try {
        await container.start();
      } catch (err) {
        if (!isStatus(err, 304)) throw err; // already started
      }
    });
  }

  async restart(id: string): Promise<void> {
    await this.verb(`restart replica container ${id}`, async () => {
      await this.docker.getContainer(id).restart({ t: this.stopTimeoutS() });
    });
  }

  async pause(id: string): Promise<void> {
    await this.verb(`pause replica container ${id}`, async () => {
      const container = this.docker.getContainer(id);
      if ((await container.inspect()).State.Paused) return;
      await container.pause();
    });
  }

  async unpause(id: string): Promise<void> {
    await this.verb(`unpause replica container ${id}`, async () => {
      const container = this.docker.getContainer(id);
      if (!(await container.inspect()).State.Paused) return;
      await container.unpause();
    });
  }

  async waitHealthy(id: string, budgetMs: number): Promise<void> {
    const deadline = this.clock.now() + budgetMs;
    await step(
      this.log,
      DRIVER,
      `wait for replica container ${id} to be healthy`,
      async () => {
        const inspected = await this.waitState(
          id,
          (s) => s.Running && !s.Paused && (s.Health === undefined || s.Health.Status === 'healthy'),
          budgetMs,
          'become running and healthy',
        );
        const name = inspected.Name.replace(/^\//, '');
        const url = this.urlFor(name, inspected.Config.Labels ?? {});
        if (url === undefined) return;
        const probe = await pollHealthy(
          (timeoutMs) => probeReplica(url, { timeoutMs }),
          Math.max(0, deadline - this.clock.now()),
          { clock: this.clock },
        );
        if (!probe.ok) {
          throw new FaultError(
            `Replica container ${name} did not answer ${url}/health within ${formatBudget(budgetMs)} (${probe.reason})`,
            {
              code: 'REPLICA_UNHEALTHY',
              suggestions: [`docker logs --tail 50 ${name}`],
            },
          );
        }
      },
      { code: 'REPLICA_UNHEALTHY' },
      this.clock,
    );
  }

  /** Runs a command inside a container (used by the nginx driver for containerised nginx). */
  readonly exec: ContainerExec = (container, cmd, opts) =>
    dockerodeExec(this.docker, container, cmd, opts?.timeoutMs);

  /** The exec helper over an engine without a replica selector (e.g. only nginx is in a container). */
  static execFor(connection: DockerConnectionOptions = {}): ContainerExec {
    const docker = new Docker(dockerodeOptions(connection));
    return (container, cmd, opts): Promise<ExecResult> =>
      dockerodeExec(docker, container, cmd, opts?.timeoutMs);
  }

  private async verb(action: string, fn: () => Promise<void>): Promise<void> {
    await step(
      this.log,
      DRIVER,
      action,
      fn,
      (err) => ({
        code: isStatus(err, 404) ? 'REPLICA_NOT_FOUND' : 'DOCKER_ACTION_FAILED',
        message: `Could not ${action}`,
        suggestions: [
          'docker ps -a',
          ...(this.opts.names?.length ? [] : [`docker ps -a --filter label=${this.labelFilters[0] ?? ''}`]),
        ],
      }),
      this.clock,
    );
  }

  private async waitState(
    id: string,
    ok: (s: Docker.ContainerInspectInfo['State']) => boolean,
    budgetMs: number,
    what: string,
  ): Promise<Docker.ContainerInspectInfo> {
    const deadline = this.clock.now() + budgetMs;
    let last: Docker.ContainerInspectInfo | undefined;
    for (let i = 0; i < 100_000; i++) {
      last = await this.docker.getContainer(id).inspect();
      if (ok(last.State)) return last;
      if (this.clock.now() >= deadline) break;
      await this.clock.sleep(Math.min(100, Math.max(1, deadline - this.clock.now())));
    }
    const s = last?.State;
    throw new FaultError(
      `Replica container ${id} did not ${what} within ${formatBudget(budgetMs)} (state ${s?.Status ?? 'unknown'}${s?.Health ? `, health ${s.Health.Status}` : ''})`,
      { code: 'REPLICA_UNHEALTHY', suggestions: [`docker inspect ${id}`, `docker logs --tail 50 ${id}`] },
    );
  }

  private urlFor(name: string, labels: Record<string, string>): string | undefined {
    return this.opts.urls?.[name] ?? labels[this.opts.urlLabel ?? DEFAULT_URL_LABEL];
  }

  private stopTimeoutS(): number {
    return this.opts.stopTimeoutS ?? 10;
  }

  private selectorText(): string {
    return this.opts.names?.length
      ? `names ${this.opts.names.join(', ')}`
      : `labels ${this.labelFilters.join(', ')}`;
  }
}

function mapState(state: string): ReplicaInfo['state'] {
  switch (state) {
    case 'running':
    case 'restarting':
      return 'running';
    case 'paused':
      return 'paused';
    case 'exited':
    case 'created':
    case 'dead':
    case 'removing':
      return 'stopped';
    default:
      return 'unknown';
  }
}

function isStatus(err: unknown, status: number): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: unknown }).statusCode === status;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
