// `owui-chaos lab toxiproxy-server` (hidden): the lab's Toxiproxy-compatible server on its own,
// started by `lab up` when no `toxiproxy-server` binary is on PATH. Runs until SIGINT/SIGTERM;
// with --json prints `{"url":…}` on one line once listening and keeps running.

import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { PreflightError } from '../../core/errors.js';
import { waitForSignal } from '../../cli/signals.js';
import { startToxiproxyServer } from '../../lab/toxiproxy/server.js';

export default class LabToxiproxyServer extends BaseCommand {
  static override hidden = true;
  static override summary = "Run the lab's Toxiproxy-compatible server (Toxiproxy's HTTP API and toxics)";
  static override examples = ['<%= config.bin %> lab toxiproxy-server --port 8474'];

  static override flags = {
    port: Flags.integer({ description: 'API port (0 = a free port)', default: 8474, min: 0, max: 65535 }),
    host: Flags.string({ description: 'Address to bind', default: '127.0.0.1' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LabToxiproxyServer);
    let server;
    try {
      server = await startToxiproxyServer({ host: flags.host, port: flags.port });
    } catch (error) {
      throw new PreflightError(
        `The Toxiproxy-compatible server could not listen on ${flags.host}:${flags.port}`,
        {
          code: 'TOXIPROXY_LISTEN',
          cause: error,
          suggestions: ['owui-chaos lab toxiproxy-server --port 0'],
        },
      );
    }
    // One line, so a parent process can read the URL as soon as it is printed.
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
    else this.log(`Toxiproxy-compatible API listening on ${server.url} (Ctrl-C to stop)`);
    await waitForSignal();
    await server.close();
  }
}
