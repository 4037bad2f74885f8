// The lab's target file (DESIGN §3): what `owui-chaos run … --target lab` reads to find the lab.
// Built from the lab's state as a pure function, in the input shape of `TargetSchema`
// (src/core/config/target.ts), so a lab target always validates.
//
// The lab is local and throwaway: its admin and load-user passwords are written into the target
// file (inside the lab's state directory) so a new process can sign in; real targets keep
// secrets in env vars.

import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TargetInput } from '../core/config/target.js';
import { LAB_LABEL } from './docker/docker-replicas.js';
import type { LabState } from '../infra/lab-state.js';

export const LAB_MODEL = 'owui-chaos-mock';
export const LAB_TARGET_FILE = 'target.yaml';
/** How many load users the run may provision through the lab admin. */
export const LAB_LOAD_USERS = 50;

/** Where `lab up` writes the target file of the lab in `stateDir` (what `--target lab` loads). */
export function labTargetFile(stateDir: string): string {
  return join(stateDir, LAB_TARGET_FILE);
}

export function buildLabTarget(state: LabState): TargetInput {
  if (!state.nginx || !state.admin || !state.redis || !state.toxiproxy) {
    throw new Error(`lab ${state.name} is not fully started; no target can be written`);
  }
  const target: TargetInput = {
    name: `lab-${state.name}`,
    description: `owui-chaos lab \`${state.name}\` (${state.replicas.length} ${state.openwebui?.server === 'real' ? `real Open WebUI ${state.openwebui.version ?? ''} ` : ''}replicas as ${state.replicasIn === 'docker' ? 'containers' : 'processes'}, nginx buffering ${state.buffering}${state.misconfig?.length ? `; misconfigured: ${state.misconfig.map((m) => (m.value === undefined ? m.name : `${m.name}=${m.value}`)).join(',')}` : ''})`,
    openwebui: {
      url: state.nginx.url,
      replicas: state.replicas.map((r) => ({ name: r.name, url: r.url })),
      version: 'auto',
    },
    auth: {
      admin: { email: state.admin.email, password: state.admin.password },
      users: {
        provision: { count: LAB_LOAD_USERS, emailPrefix: 'owui-chaos-load', password: state.admin.password },
      },
    },
    model: LAB_MODEL,
    replicas:
      state.replicasIn === 'docker'
        ? { type: 'docker', docker: { label: `${LAB_LABEL}=${state.name}` } }
        : {
            type: 'lab-process',
            'lab-process': { stateDir: state.stateDir },
            // Real Open WebUI needs 40 s (idle box) to minutes (loaded box) to start again.
            ...(state.openwebui?.server === 'real' ? { startupBudget: '300s' } : {}),
          },
    redis: {
      sentinels: state.redis.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      masterName: state.redis.masterName,
    },
    toxiproxy: {
      url: state.toxiproxy.url,
      proxies: state.toxiproxy.proxies.map((p) => ({ name: p.name, listen: p.listen, upstream: p.upstream })),
    },
    nginx: {
      type: 'local',
      config: state.nginx.configFile,
      binary: state.nginx.binary,
      prefix: state.nginx.prefix,
    },
    safety: { allowDestructive: true, maxUnavailable: 1 },
  };
  return target;
}

export function renderLabTarget(state: LabState): string {
  return `# Written by \`owui-chaos lab up\`; removed by \`owui-chaos lab down\`.\n${stringify(buildLabTarget(state))}`;
}
