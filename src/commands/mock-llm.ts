// `owui-chaos mock-llm`: the lab's OpenAI-compatible mock LLM on its own, so a real Open WebUI
// can be pointed at it as an OpenAI connection. Runs until SIGINT/SIGTERM. With --json it prints
// `{"url":…}` on one line once listening and keeps running.

import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { PreflightError } from '../core/errors.js';
import { MOCK_LLM_MODEL, startMockLlm } from '../lab/mock-llm/server.js';
import type { Pacing } from '../lab/mock-llm/pacing.js';
import { waitForSignal } from '../cli/signals.js';

export default class MockLlm extends BaseCommand {
  static override summary = 'Run the OpenAI-compatible mock LLM on its own';
  static override description =
    'Serves GET /v1/models and POST /v1/chat/completions (streaming and not) with deterministic, verifiable output. ' +
    'Put `[owui-chaos seed=N tokens=N]` in the last user message to choose the answer; optional keys first_token_ms, tps, jitter and write override the pacing per request.';
  static override examples = [
    '<%= config.bin %> mock-llm --port 8085',
    '<%= config.bin %> mock-llm --port 8085 --first-token-ms 500 --tps 20 --write split',
  ];

  static override flags = {
    port: Flags.integer({
      description: 'Port to listen on (0 = a free port)',
      default: 0,
      min: 0,
      max: 65535,
    }),
    host: Flags.string({ description: 'Address to bind', default: '127.0.0.1' }),
    'first-token-ms': Flags.integer({ description: 'Delay before the first token, ms', min: 0 }),
    tps: Flags.integer({ description: 'Tokens per second (0 = as fast as possible)', min: 0 }),
    jitter: Flags.string({ description: 'Relative jitter of each interval, 0..1' }),
    write: Flags.string({
      description: 'How events map to socket writes',
      options: ['event', 'batch', 'split'],
    }),
    tokens: Flags.integer({ description: 'Answer length when the prompt carries no directive', min: 0 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(MockLlm);
    const pacing: Partial<Pacing> = {};
    if (flags['first-token-ms'] !== undefined) pacing.firstTokenMs = flags['first-token-ms'];
    if (flags.tps !== undefined) pacing.tokensPerSecond = flags.tps;
    if (flags.jitter !== undefined) {
      const jitter = Number(flags.jitter);
      if (!Number.isFinite(jitter) || jitter < 0 || jitter > 1) {
        this.error(`--jitter must be a number between 0 and 1, got "${flags.jitter}"`, { exit: 2 });
      }
      pacing.jitter = jitter;
    }
    if (flags.write !== undefined) pacing.write = flags.write as Pacing['write'];

    let server;
    try {
      server = await startMockLlm({
        host: flags.host,
        port: flags.port,
        pacing,
        ...(flags.tokens === undefined ? {} : { defaultTokens: flags.tokens }),
      });
    } catch (error) {
      throw new PreflightError(`The mock LLM could not listen on ${flags.host}:${flags.port}`, {
        code: 'MOCK_LLM_LISTEN',
        cause: error,
        suggestions: ['owui-chaos mock-llm --port 0'],
      });
    }

    // One line, so a parent process can read the URL as soon as it is printed.
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
    else {
      this.log(`mock LLM listening on ${server.url}`);
      this.log(`  OpenAI base URL: ${server.url}/v1   model: ${MOCK_LLM_MODEL}   stats: ${server.url}/stats`);
      this.log('  Ctrl-C to stop');
    }
    await waitForSignal();
    await server.close();
  }
}
