// Lab part: the mock LLM (`owui-chaos mock-llm`), an OpenAI-compatible server the replicas reach
// through Toxiproxy's `llm` proxy.

import { freePort, stopProcess } from '../../infra/process/daemon.js';
import { probeHttpOk } from '../../infra/http-probe.js';
import { waitHealthy } from './health.js';
import { oneProcessEndpoints, partDir, spawnCli, type LabPart } from './part.js';

export const mockLlmPart: LabPart = {
  name: 'mock-llm',

  async up({ settings, state, save, progress }) {
    progress('starting mock LLM');
    const port = await freePort();
    const dir = partDir(settings.stateDir, 'mock-llm');
    const llm = await spawnCli(settings.stateDir, dir, 'mock-llm', ['mock-llm', '--port', String(port)]);
    const url = `http://127.0.0.1:${port}`;
    state.mockLlm = { ...llm, port, url };
    save();
    await waitHealthy('mock LLM', llm, settings.budgetMs, (timeoutMs) =>
      probeHttpOk(`${url}/v1/models`, { timeoutMs }),
    );
    progress(`mock LLM ready on ${url}`);
  },

  async status(state) {
    const m = state.mockLlm;
    if (!m) return { parts: [] };
    const ok = await probeHttpOk(`${m.url}/v1/models`);
    return {
      parts: [
        {
          part: 'mock-llm',
          name: 'mock-llm',
          endpoint: m.url,
          pid: m.pid,
          healthy: ok.ok,
          detail: ok.reason,
        },
      ],
    };
  },

  async down(state, d) {
    const m = state.mockLlm;
    if (m) await d.attempt('mock-llm', () => stopProcess(m.pid, 3000));
  },

  endpoints(state) {
    const m = state.mockLlm;
    return oneProcessEndpoints('mock-llm', m && { ...m, endpoint: m.url });
  },
};
