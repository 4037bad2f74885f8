// `owui-chaos lab up`: starts the local HA lab (mock LLM, Toxiproxy, Redis + 3 Sentinels, N Open
// WebUI simulator replicas, nginx), prints progress while starting and a table of endpoints, and
// writes the lab's target file. `--json` returns the lab summary (including the target file path).

import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { labSummary, labUp, type LabSummary } from '../../lab/lab.js';
import {
  MISCONFIG_CATALOGUE,
  MISCONFIG_NAMES,
  formatMisconfigs,
  parseMisconfigs,
  parseReplicaEnv,
} from '../../lab/misconfig.js';
import { capacityEnv } from '../../lab/owui-sim/capacity.js';
import { DEFAULT_OPENWEBUI_VERSION } from '../../lab/openwebui/install.js';
import { defaultLabStateDir } from '../../infra/lab-state.js';

export default class LabUp extends BaseCommand {
  static override summary = 'Start the local HA lab and write its target file';
  static override description =
    'Everything runs on 127.0.0.1 with free ports: nginx in front of N Open WebUI simulator replicas, a Redis master and replica with 3 Sentinels, Toxiproxy in front of the LLM and of each Redis node, and the mock LLM. Returns once every part is healthy. Stop it with `owui-chaos lab down`.';
  static override examples = [
    '<%= config.bin %> lab up',
    '<%= config.bin %> lab up --replicas 2 --buffering on',
    '<%= config.bin %> lab up --replicas-in docker --json',
    '<%= config.bin %> lab up --name mc-1 --misconfig no-upgrade-headers',
    '<%= config.bin %> lab up --misconfig short-read-timeout=5s,secret-per-replica',
    '<%= config.bin %> lab up --replica-env WEBUI_SECRET_KEY=abc --replica-env 2:WEBUI_SECRET_KEY=other',
    '<%= config.bin %> lab up --openwebui real --name rw-1',
  ];

  static override flags = {
    name: Flags.string({ description: 'Lab name (one state directory per name)', default: 'default' }),
    'state-dir': Flags.string({
      description: 'State directory (default: $OWUI_CHAOS_HOME/labs/<name>, else ./.owui-chaos/labs/<name>)',
    }),
    replicas: Flags.integer({ description: 'Number of Open WebUI replicas', default: 3, min: 1, max: 16 }),
    'replicas-in': Flags.string({
      description: 'Run replicas as processes or Docker containers',
      options: ['process', 'docker'],
      default: 'process',
    }),
    buffering: Flags.string({ description: 'nginx proxy_buffering', options: ['on', 'off'], default: 'off' }),
    misconfig: Flags.string({
      description: `Build in deployment mistakes of the HA guides (comma-separated, repeatable): ${MISCONFIG_NAMES.map(
        (n) =>
          `${n}${MISCONFIG_CATALOGUE[n].defaultValue ? `[=${MISCONFIG_CATALOGUE[n].defaultValue}]` : ''}`,
      ).join(', ')}. See docs/lab-misconfig.md`,
      multiple: true,
    }),
    'replica-env': Flags.string({
      description:
        'Extra env for every replica (KEY=VALUE) or for one (N:KEY=VALUE, N from 1); repeatable; wins over --misconfig',
      multiple: true,
    }),
    // The capacity model (src/lab/owui-sim/capacity.ts, docs/capacity.md): a known knee per replica.
    'max-streams': Flags.integer({
      description:
        'Capacity model: concurrent chat streams one replica serves (OWUI_SIM_MAX_STREAMS); more wait in a FIFO queue',
      min: 1,
      helpGroup: 'CAPACITY',
    }),
    'token-cost': Flags.integer({
      description: 'Capacity model: ms of slot time per content token (OWUI_SIM_TOKEN_COST_MS)',
      min: 0,
      default: 0,
      helpGroup: 'CAPACITY',
    }),
    'request-cost': Flags.integer({
      description:
        'Capacity model: ms of slot time per request before its first token (OWUI_SIM_REQUEST_COST_MS)',
      min: 0,
      default: 0,
      helpGroup: 'CAPACITY',
    }),
    'queue-limit': Flags.integer({
      description:
        'Capacity model: chats that may wait for a slot before the replica answers 503 (0 = no limit)',
      min: 0,
      default: 0,
      helpGroup: 'CAPACITY',
    }),
    openwebui: Flags.string({
      description:
        'Replicas: the lab simulator, or real Open WebUI from `owui-chaos lab install` (with Postgres)',
      options: ['sim', 'real'],
      default: 'sim',
    }),
    'openwebui-version': Flags.string({
      description: 'Real Open WebUI version (installed with `lab install --openwebui-version X`)',
      default: DEFAULT_OPENWEBUI_VERSION,
    }),
  };

  async run(): Promise<LabSummary> {
    const { flags } = await this.parse(LabUp);
    const misconfig = parseMisconfigs(flags.misconfig);
    const replicaEnv = parseReplicaEnv(flags['replica-env'], flags.replicas);
    const state = await labUp({
      misconfig,
      // Capacity-model env first, so an explicit --replica-env still wins.
      replicaEnv: {
        ...(flags['max-streams'] !== undefined
          ? capacityEnv({
              maxStreams: flags['max-streams'],
              tokenCostMs: flags['token-cost'],
              requestCostMs: flags['request-cost'],
              queueLimit: flags['queue-limit'],
            })
          : {}),
        ...replicaEnv.all,
      },
      replicaEnvByReplica: replicaEnv.byReplica,
      name: flags.name,
      stateDir: flags['state-dir'] ?? defaultLabStateDir(flags.name),
      replicas: flags.replicas,
      replicasIn: flags['replicas-in'] as 'process' | 'docker',
      buffering: flags.buffering as 'on' | 'off',
      openwebui: flags.openwebui === 'real' ? 'real' : 'simulator',
      openwebuiVersion: flags['openwebui-version'],
      onProgress: (m) => this.say(`  … ${m}`),
    });
    const summary = labSummary(state);
    this.say('');
    const w1 = Math.max(...summary.endpoints.map((e) => e.part.length));
    const w2 = Math.max(...summary.endpoints.map((e) => e.name.length));
    const w3 = Math.max(...summary.endpoints.map((e) => e.endpoint.length));
    for (const e of summary.endpoints) {
      const who = e.container ?? (e.pid !== undefined ? `pid ${e.pid}` : '');
      this.say(`${e.part.padEnd(w1)}  ${e.name.padEnd(w2)}  ${e.endpoint.padEnd(w3)}  ${who}`);
    }
    this.say('');
    const kind =
      summary.openwebui.server === 'real'
        ? `real Open WebUI ${summary.openwebui.version ?? '?'}`
        : 'the Open WebUI simulator';
    this.say(
      `Open WebUI (through nginx, ${kind}): ${summary.url ?? '?'}   admin: ${summary.admin?.email ?? '?'}`,
    );
    if (summary.misconfig.length > 0)
      this.say(`Misconfigured on purpose: ${formatMisconfigs(summary.misconfig)}`);
    const custom = flags['state-dir'] !== undefined || flags.name !== 'default';
    this.say(
      `Target file: ${summary.targetFile ?? '?'}   (use it with --target ${custom ? summary.targetFile : 'lab'})`,
    );
    const which =
      flags['state-dir'] !== undefined
        ? ` --state-dir ${flags['state-dir']}`
        : flags.name === 'default'
          ? ''
          : ` --name ${flags.name}`;
    this.say(`Status: owui-chaos lab status${which}   Stop: owui-chaos lab down${which}`);
    return summary;
  }
}
