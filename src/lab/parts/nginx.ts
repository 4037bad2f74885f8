// Lab part: nginx in front of the replicas (config: src/lab/nginx/nginx-config.ts, with the
// misconfiguration plan's nginx tweaks and the lab's buffering). Status sends a few /health probes
// through it and counts which replica served each.

import { nginxBinary, startNginx, stopNginx } from '../nginx/nginx-process.js';
import { nginxOptionsFor } from '../misconfig.js';
import { probeJsonStatus } from '../../infra/http-probe.js';
import { waitHealthy } from './health.js';
import { oneProcessEndpoints, partDir, type LabPart, type NginxView } from './part.js';

export const nginxPart: LabPart = {
  name: 'nginx',

  check({ prepared }) {
    prepared.nginxBinary = nginxBinary();
  },

  async up(ctx) {
    const { settings, state, save, progress } = ctx;
    progress('starting nginx');
    const prefix = partDir(settings.stateDir, 'nginx');
    const ports = await ctx.wiring.ports();
    const ngx = await startNginx({
      binary: ctx.prepared.nginxBinary ?? nginxBinary(),
      prefix,
      config: {
        prefix,
        listenPort: ports.nginx,
        upstreams: state.replicas.map((r) => ({ host: '127.0.0.1', port: r.port })),
        ...nginxOptionsFor(ctx.wiring.plan().nginx),
        buffering: state.buffering,
        ...(process.getuid?.() === 0 ? { user: 'root' } : {}),
      },
      readyBudgetMs: settings.budgetMs,
    });
    state.nginx = {
      name: ngx.name,
      pid: ngx.pid,
      logFile: ngx.logFile,
      command: ngx.command,
      args: ngx.args,
      port: ngx.port,
      url: ngx.url,
      configFile: ngx.configFile,
      prefix: ngx.prefix,
      binary: ngx.binary,
    };
    save();
    await waitHealthy('nginx', ngx, settings.budgetMs, (timeoutMs) =>
      probeJsonStatus(`${ngx.url}/health`, { timeoutMs }),
    );
    progress(`nginx ready on ${ngx.url} (buffering ${state.buffering})`);
  },

  async status(state, opts) {
    const nginx = state.nginx;
    if (!nginx) return { parts: [] };
    const n: NginxView = {
      url: nginx.url,
      probes: opts.nginxProbes ?? 2 * Math.max(1, state.replicas.length),
      upstreams: {},
      replicas: {},
      errors: 0,
    };
    for (let i = 0; i < n.probes; i++) {
      try {
        const res = await fetch(`${nginx.url}/health`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        const up = res.headers.get('x-upstream') ?? '?';
        // The simulator names itself; real Open WebUI does not, so nginx's upstream address names it.
        const rep =
          res.headers.get('x-owui-replica') ??
          state.replicas.find((r) => up === `127.0.0.1:${r.port}`)?.name ??
          '?';
        n.upstreams[up] = (n.upstreams[up] ?? 0) + 1;
        n.replicas[rep] = (n.replicas[rep] ?? 0) + 1;
        if (!res.ok) n.errors++;
      } catch {
        n.errors++;
      }
    }
    const served =
      Object.entries(n.replicas)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ') || 'none';
    return {
      nginx: n,
      parts: [
        {
          part: 'nginx',
          name: 'nginx',
          endpoint: nginx.url,
          pid: nginx.pid,
          healthy: n.errors === 0,
          detail: `buffering ${state.buffering}; served by ${served}${n.errors ? `; ${n.errors} failed probes` : ''}`,
        },
      ],
    };
  },

  async down(state, d) {
    const nginx = state.nginx;
    if (nginx) await d.attempt('nginx', () => stopNginx(nginx.pid));
  },

  endpoints(state) {
    const nginx = state.nginx;
    return oneProcessEndpoints('nginx', nginx && { ...nginx, endpoint: nginx.url });
  },
};
