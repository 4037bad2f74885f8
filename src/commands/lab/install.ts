// `owui-chaos lab install`: installs what `lab up --openwebui real` runs — Open WebUI from PyPI
// (pinned) in a cached uv virtualenv and the pinned toxiproxy-server — and prints how long each
// took. Idempotent: a finished install is found by its marker and skipped at once.

import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import {
  DEFAULT_OPENWEBUI_VERSION,
  installOpenWebui,
  installToxiproxy,
  type InstallResult,
} from '../../lab/openwebui/install.js';

export default class LabInstall extends BaseCommand {
  static override summary = 'Install real Open WebUI (PyPI, pinned) and toxiproxy-server into the cache';
  static override description =
    'Open WebUI goes into a uv virtualenv under $OWUI_CHAOS_CACHE, else $OWUI_CHAOS_HOME, else ~/.cache/owui-chaos (openwebui/<version>/); toxiproxy-server is built with `go install` into bin/ there. A second run finds both and returns at once.';
  static override examples = [
    '<%= config.bin %> lab install',
    '<%= config.bin %> lab install --openwebui-version 0.11.0',
    '<%= config.bin %> lab install --no-toxiproxy',
  ];

  static override flags = {
    'openwebui-version': Flags.string({
      description: 'Open WebUI release on PyPI',
      default: DEFAULT_OPENWEBUI_VERSION,
    }),
    toxiproxy: Flags.boolean({
      description: 'also build the pinned toxiproxy-server',
      default: true,
      allowNo: true,
    }),
  };

  async run(): Promise<{ installs: InstallResult[] }> {
    const { flags } = await this.parse(LabInstall);
    const onProgress = (m: string): void => this.say(`  … ${m}`);
    const installs: InstallResult[] = [];
    const show = (r: InstallResult): void =>
      this.say(
        r.installed
          ? `installed ${r.what} ${r.version} in ${r.seconds.toFixed(1)} s: ${r.path}`
          : `${r.what} ${r.version} already installed: ${r.path}`,
      );
    const owui = await installOpenWebui(flags['openwebui-version'], { onProgress });
    installs.push(owui);
    show(owui);
    if (flags.toxiproxy) {
      const toxi = await installToxiproxy({ onProgress });
      installs.push(toxi);
      show(toxi);
    }
    return { installs };
  }
}
