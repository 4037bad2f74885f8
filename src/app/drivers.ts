// Builds the fault drivers a target describes (DESIGN §3 → §2 adapters). Drivers are created
// lazily, so an experiment that only injects toxics never connects to Docker or Sentinel, and a
// missing section fails only when a fault needs it — with a message naming the section to add.

import { FaultError } from '../core/errors.js';
import type { Target } from '../core/config/target.js';
import type { FaultPorts } from '../core/faults/kind.js';
import type { RevertDrivers } from '../core/faults/revert-record.js';
import { scaleCommandScaler } from './capacity-scale.js';
import type { NginxDriver, ReplicaDriver, SentinelDriver, ToxiproxyDriver } from '../core/ports.js';
import { DockerodeReplicaDriver } from '../drivers/docker/dockerode-replica-driver.js';
import type { DriverLogger } from '../drivers/driver-log.js';
import { ContainerNginxDriver, LocalNginxDriver } from '../drivers/nginx/nginx-driver.js';
import { LabProcessReplicaDriver } from '../drivers/process/lab-process-replica-driver.js';
import { IoredisSentinelDriver } from '../drivers/sentinel/ioredis-sentinel-driver.js';
import { LabRedisNodeController } from '../drivers/sentinel/lab-redis-node-controller.js';
import { ToxiproxyClientDriver } from '../drivers/toxiproxy/toxiproxy-driver.js';

/** The ports a target offers (src/core/ports.ts), not the classes behind them. */
export interface TargetDrivers extends FaultPorts {
  /** The same ports, shaped for `replayRevert`; each resolved only when a record needs it. */
  forReverts(): RevertDrivers;
  close(): Promise<void>;
}

export interface DriverFactoryOptions {
  /** The lab's state directory when the target is the lab (process control of Redis nodes). */
  labStateDir?: string;
  logger?: DriverLogger;
}

function missing(section: string, fault: string): FaultError {
  return new FaultError(`The target has no \`${section}\` section, which ${fault} needs`, {
    code: 'TARGET_SECTION_MISSING',
    suggestions: [`Add \`${section}:\` to the target file (see experiments/target.schema.json)`],
  });
}

export function driversForTarget(target: Target, opts: DriverFactoryOptions = {}): TargetDrivers {
  const logger = opts.logger;
  const log = logger ? { logger } : {};
  let replicas: ReplicaDriver | undefined;
  let sentinel: (SentinelDriver & { close(): Promise<void> }) | undefined;
  let toxiproxy: ToxiproxyDriver | undefined;
  let nginx: NginxDriver | undefined;

  const drivers: TargetDrivers = {
    replicas() {
      if (replicas) return replicas;
      const spec = target.replicas;
      if (!spec || spec.type === 'none') throw missing('replicas', 'a replica fault');
      if (spec.type === 'lab-process') {
        replicas = new LabProcessReplicaDriver({ stateDir: spec['lab-process'].stateDir, ...log });
      } else {
        const urls = Object.fromEntries((target.openwebui.replicas ?? []).map((r) => [r.name, r.url]));
        replicas = new DockerodeReplicaDriver({
          docker: {
            ...(spec.docker.socketPath ? { socketPath: spec.docker.socketPath } : {}),
            ...dockerHost(spec.docker.host),
          },
          ...(spec.docker.names ? { names: spec.docker.names } : {}),
          ...(spec.docker.label ? { labels: [spec.docker.label] } : {}),
          urls,
          ...log,
        });
      }
      return replicas;
    },
    sentinel() {
      if (sentinel) return sentinel;
      const redis = target.redis;
      if (!redis) throw missing('redis', 'a Redis fault');
      const stateDir =
        opts.labStateDir ??
        (target.replicas?.type === 'lab-process' ? target.replicas['lab-process'].stateDir : undefined);
      sentinel = new IoredisSentinelDriver({
        sentinels: redis.sentinels,
        masterName: redis.masterName,
        ...(redis.password ? { password: redis.password } : {}),
        ...(redis.sentinelPassword ? { sentinelPassword: redis.sentinelPassword } : {}),
        ...(stateDir ? { nodeController: new LabRedisNodeController({ stateDir }) } : {}),
        ...log,
      });
      return sentinel;
    },
    toxiproxy() {
      if (toxiproxy) return toxiproxy;
      if (!target.toxiproxy) throw missing('toxiproxy', 'a toxic');
      toxiproxy = new ToxiproxyClientDriver({ url: target.toxiproxy.url, ...log });
      return toxiproxy;
    },
    nginx() {
      if (nginx) return nginx;
      const spec = target.nginx;
      if (!spec || spec.type === 'none') throw missing('nginx', '`nginx.buffering`');
      nginx =
        spec.type === 'local'
          ? new LocalNginxDriver({
              configFile: spec.config,
              binary: spec.binary,
              ...(spec.prefix ? { prefix: spec.prefix } : {}),
              ...log,
            })
          : new ContainerNginxDriver({
              configFile: spec.config,
              binary: spec.binary,
              container: spec.container.name,
              exec: DockerodeReplicaDriver.execFor(),
              ...log,
            });
      return nginx;
    },
    forReverts() {
      // Getters: a record resolves only the driver it names (a rollback of a toxic must not need Docker).
      return {
        get replicas() {
          return drivers.replicas();
        },
        get sentinel() {
          return drivers.sentinel();
        },
        get toxiproxy() {
          return drivers.toxiproxy();
        },
        get nginx() {
          return drivers.nginx();
        },
        // `capacity --scale-cmd`: the record carries the operator's command (docs/capacity.md).
        scaler: scaleCommandScaler(),
      };
    },
    async close() {
      await sentinel?.close();
    },
  };
  return drivers;
}

function dockerHost(host: string | undefined): { host?: string; port?: number; protocol?: 'http' | 'https' } {
  if (!host) return {};
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return {
    host: url.hostname,
    port: Number(url.port || 2375),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  };
}
