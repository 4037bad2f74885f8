// `owui-chaos lab status`: each part of the lab with its health — each replica's /ready, the
// master as each Sentinel sees it, which replicas nginx routes to, Toxiproxy proxies and toxics.
// Exits 4 when the lab is not running or a part is unhealthy.

import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { labStatus, type LabStatus } from '../../lab/lab.js';
import { defaultLabStateDir } from '../../infra/lab-state.js';
import { ExitCode } from '../../core/errors.js';
import { formatMisconfigs } from '../../lab/misconfig.js';

export default class LabStatusCommand extends BaseCommand {
  static override summary = 'Show the health of every part of the lab';
  static override examples = ['<%= config.bin %> lab status', '<%= config.bin %> lab status --json'];

  static override flags = {
    name: Flags.string({ description: 'Lab name', default: 'default' }),
    'state-dir': Flags.string({ description: 'State directory of the lab (overrides --name)' }),
  };

  async run(): Promise<LabStatus> {
    const { flags } = await this.parse(LabStatusCommand);
    const status = await labStatus(flags['state-dir'] ?? defaultLabStateDir(flags.name));
    if (!status.running) {
      this.say(`lab ${status.name} is not running (${status.stateDir}); start it with: owui-chaos lab up`);
      process.exitCode = ExitCode.preflightFailed;
      return status;
    }
    const w1 = Math.max(...status.parts.map((p) => p.part.length));
    const w2 = Math.max(...status.parts.map((p) => p.name.length));
    const w3 = Math.max(...status.parts.map((p) => p.endpoint.length));
    for (const p of status.parts) {
      this.say(
        `${p.healthy ? 'ok  ' : 'FAIL'}  ${p.part.padEnd(w1)}  ${p.name.padEnd(w2)}  ${p.endpoint.padEnd(w3)}  ${p.detail}`,
      );
    }
    for (const proxy of status.toxiproxy?.proxies ?? []) {
      const toxics = proxy.toxics
        .map((t) => (t as { name?: string; type?: string }).name ?? (t as { type?: string }).type)
        .join(', ');
      this.say(
        `proxy ${proxy.name}: ${proxy.listen} → ${proxy.upstream}${proxy.enabled ? '' : ' (DISABLED)'}${toxics ? `; toxics: ${toxics}` : ''}`,
      );
    }
    this.say(`misconfig: ${formatMisconfigs(status.misconfig)}`);
    const env = status.replicaEnv;
    const envItems = [
      ...Object.keys(env?.all ?? {}).map((k) => k),
      ...Object.entries(env?.byReplica ?? {}).flatMap(([n, kv]) => Object.keys(kv).map((k) => `${n}:${k}`)),
    ];
    if (envItems.length > 0) this.say(`replica env overrides: ${envItems.join(', ')}`);
    if (status.targetFile) this.say(`target file: ${status.targetFile}`);
    this.say(status.healthy ? 'lab is healthy' : 'lab is NOT healthy');
    if (!status.healthy) process.exitCode = ExitCode.preflightFailed;
    return status;
  }
}
