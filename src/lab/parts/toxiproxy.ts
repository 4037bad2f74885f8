// Lab part: Toxiproxy (the real `toxiproxy-server` when installed, else the lab's own server) with
// the `llm` proxy in front of the mock LLM. Later parts put their own proxies in it through
// `createProxy`; the HTTP calls are src/infra/toxiproxy-api.ts, shared with the Toxiproxy driver.

import { PreflightError, errorMessage } from '../../core/errors.js';
import type { LabProxyRecord, LabState } from '../../infra/lab-state.js';
import { freePort, spawnDaemon, stopProcess, tailFile } from '../../infra/process/daemon.js';
import { join } from 'node:path';
import { findToxiproxyServer } from '../openwebui/install.js';
import { probeHttpOk } from '../../infra/http-probe.js';
import * as toxiproxyApi from '../../infra/toxiproxy-api.js';
import { waitHealthy } from './health.js';
import { LAB_DIR_ENV, PROXY_LLM } from './names.js';
import {
  NO_ENDPOINTS,
  hostPort,
  partDir,
  spawnCli,
  type LabPart,
  type LabUpContext,
  type ToxiproxyView,
} from './part.js';

export const toxiproxyPart: LabPart = {
  name: 'toxiproxy',

  async up(ctx) {
    const { settings, state, save, progress } = ctx;
    const real = findToxiproxyServer();
    progress(real ? `starting toxiproxy-server (${real})` : 'starting the lab Toxiproxy server');
    const port = await freePort();
    const dir = partDir(settings.stateDir, 'toxiproxy');
    const daemon = real
      ? await spawnDaemon({
          name: 'toxiproxy',
          command: real,
          // -proxy-metrics: per-proxy byte counts, so a run can tell a fault no traffic reached.
          args: ['-host', '127.0.0.1', '-port', String(port), '-proxy-metrics'],
          logFile: join(dir, 'toxiproxy.log'),
          env: { ...process.env, [LAB_DIR_ENV]: settings.stateDir },
          cwd: dir,
        })
      : await spawnCli(settings.stateDir, dir, 'toxiproxy', [
          'lab',
          'toxiproxy-server',
          '--port',
          String(port),
        ]);
    const url = `http://127.0.0.1:${port}`;
    state.toxiproxy = { url, port, real: real !== undefined, daemon, proxies: [] };
    save();
    await waitHealthy('Toxiproxy', daemon, settings.budgetMs, (timeoutMs) =>
      probeHttpOk(`${url}/version`, { timeoutMs }),
    );
    const llm = await createProxy(ctx, PROXY_LLM, state.mockLlm!.port);
    progress(`Toxiproxy ready on ${url} (proxy llm ${llm.listen} → ${llm.upstream})`);
  },

  async status(state) {
    const t = state.toxiproxy;
    if (!t) return { parts: [] };
    const name = t.real ? 'toxiproxy-server' : 'toxiproxy (lab)';
    const pid = t.daemon ? { pid: t.daemon.pid } : {};
    try {
      const proxies = await toxiproxyApi.listProxies(t.url);
      const view: ToxiproxyView = { url: t.url, proxies };
      const names = new Set(proxies.map((p) => p.name));
      const missing = t.proxies.filter((p) => !names.has(p.name)).map((p) => p.name);
      return {
        toxiproxy: view,
        parts: [
          {
            part: 'toxiproxy',
            name,
            endpoint: t.url,
            ...pid,
            healthy: missing.length === 0,
            detail: missing.length ? `proxies missing: ${missing.join(', ')}` : `${proxies.length} proxies`,
          },
        ],
      };
    } catch (err) {
      return {
        parts: [
          {
            part: 'toxiproxy',
            name: 'toxiproxy',
            endpoint: t.url,
            ...pid,
            healthy: false,
            detail: errorMessage(err),
          },
        ],
      };
    }
  },

  async down(state, d) {
    const daemon = state.toxiproxy?.daemon;
    if (daemon) await d.attempt('toxiproxy', () => stopProcess(daemon.pid, 3000));
  },

  endpoints(state) {
    const t = state.toxiproxy;
    if (!t) return NO_ENDPOINTS;
    return {
      rows: [
        {
          part: 'toxiproxy',
          name: t.real ? 'toxiproxy-server' : 'toxiproxy (lab)',
          endpoint: t.url,
          ...(t.daemon ? { pid: t.daemon.pid } : {}),
        },
        ...t.proxies.map((p) => ({ part: 'proxy', name: p.name, endpoint: `${p.listen} → ${p.upstream}` })),
      ],
      pids: t.daemon ? [{ part: 'toxiproxy', pid: t.daemon.pid }] : [],
      ports: [t.port, ...t.proxies.map((p) => hostPort(p.listen).port)],
    };
  },
};

/** Creates proxy `name` → 127.0.0.1:`upstreamPort` on a free port, and records it in the state. */
export async function createProxy(
  { state, save }: Pick<LabUpContext, 'state' | 'save'>,
  name: string,
  upstreamPort: number,
): Promise<LabProxyRecord> {
  const toxi = requireToxiproxy(state);
  const listenPort = await freePort();
  const body = {
    name,
    listen: `127.0.0.1:${listenPort}`,
    upstream: `127.0.0.1:${upstreamPort}`,
    enabled: true,
  };
  const logFile = toxi.daemon?.logFile ?? '';
  let created: { listen?: string; upstream?: string };
  try {
    created = await toxiproxyApi.createProxy(toxi.url, body);
  } catch (err) {
    const status = err instanceof toxiproxyApi.ToxiproxyHttpError ? `HTTP ${err.status}` : errorMessage(err);
    throw new PreflightError(`Toxiproxy refused to create proxy \`${name}\` (${status})`, {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`cat ${logFile}`],
      cause: new Error(`${errorMessage(err)}\n${tailFile(logFile, 10)}`),
    });
  }
  const record: LabProxyRecord = {
    name,
    listen: created.listen || body.listen,
    upstream: created.upstream || body.upstream,
  };
  toxi.proxies.push(record);
  save();
  return record;
}

function requireToxiproxy(state: LabState): NonNullable<LabState['toxiproxy']> {
  if (!state.toxiproxy) throw new Error('the lab has no Toxiproxy yet (parts out of order?)');
  return state.toxiproxy;
}
