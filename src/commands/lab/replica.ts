// Hidden: `owui-chaos lab replica` runs ONE Open WebUI simulator replica in the foreground until
// SIGTERM/SIGINT. It reads only environment variables (PORT, HOST, WEBUI_SECRET_KEY, REDIS_URL,
// REDIS_SENTINEL_HOSTS, …; see src/lab/owui-sim/config.ts), so `lab up` starts it the same way
// as a process or inside a container.

import { BaseCommand } from '../../cli/base-command.js';
import { runReplica } from '../../lab/owui-sim/replica-main.js';

export default class LabReplica extends BaseCommand {
  static override hidden = true;
  static override enableJsonFlag = false;
  static override description = 'Run one Open WebUI simulator replica (configured from env) until SIGTERM';

  async run(): Promise<void> {
    await this.parse(LabReplica);
    await runReplica(process.env);
  }
}
