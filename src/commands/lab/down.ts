// `owui-chaos lab down`: stops every process and removes every container of a lab (or of all labs
// with --all). Idempotent; works after a crash of `lab up`.

import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { defaultLabRoot, labDown, labDownAll, type LabDownResult } from '../../lab/lab.js';
import { defaultLabStateDir } from '../../infra/lab-state.js';
import { FaultError } from '../../core/errors.js';

export default class LabDown extends BaseCommand {
  static override summary = 'Stop the lab and remove its containers';
  static override examples = [
    '<%= config.bin %> lab down',
    '<%= config.bin %> lab down --name ci-1',
    '<%= config.bin %> lab down --all',
  ];

  static override flags = {
    name: Flags.string({ description: 'Lab name', default: 'default' }),
    'state-dir': Flags.string({ description: 'State directory of the lab (overrides --name)' }),
    all: Flags.boolean({ description: 'Stop every lab under the state root', default: false }),
  };

  async run(): Promise<{ labs: LabDownResult[] }> {
    const { flags } = await this.parse(LabDown);
    const labs = flags.all
      ? await labDownAll(defaultLabRoot())
      : [await labDown(flags['state-dir'] ?? defaultLabStateDir(flags.name))];
    for (const lab of labs) {
      const extra = [
        lab.containersRemoved.length ? `${lab.containersRemoved.length} containers removed` : '',
        lab.orphans.length ? `${lab.orphans.length} orphan processes stopped` : '',
      ].filter(Boolean);
      this.say(
        `lab ${lab.name}: ${lab.stopped.length ? `stopped ${lab.stopped.join(', ')}` : 'nothing running'}${extra.length ? `; ${extra.join('; ')}` : ''}`,
      );
      for (const e of lab.errors) this.say(`  failed: ${e}`);
    }
    if (flags.all && labs.length === 0) this.say('no labs found');
    const errors = labs.flatMap((l) => l.errors);
    if (errors.length > 0) {
      throw new FaultError(`lab down left something running (${errors.length} failures)`, {
        code: 'LAB_DOWN_INCOMPLETE',
        suggestions: ['owui-chaos lab down --all', 'docker ps -a --filter label=owui-chaos.lab'],
        cause: new Error(errors.join('\n')),
      });
    }
    return { labs };
  }
}
