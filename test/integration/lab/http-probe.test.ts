// The one meaning of "healthy" for the lab and the drivers (src/infra/http-probe.ts), against real
// HTTP servers: the lab's Open WebUI simulator in two versions and plain node:http servers that
// answer the way a broken or foreign replica does.
//
// Before the probes were shared, the copies disagreed: `lab up` required `/ready` to answer JSON
// `{"status": true}` (a 0.6.30 replica, whose `/ready` is the web app's HTML, never became
// healthy); `lab status` and live scaling read only `/ready` (a replica whose `/health` failed
// passed); the drivers accepted an answer from any server on the port.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeHttpOk, probeJsonStatus, probeReplica } from '../../../src/infra/http-probe.js';
import { configFromEnv } from '../../../src/lab/owui-sim/config.js';
import { startOwuiSim, type OwuiSimHandle } from '../../../src/lab/owui-sim/server.js';

const servers: Array<{ close(): unknown }> = [];

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({ close: () => server.closeAllConnections() ?? server.close() });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function sim(version: string, instance: string): Promise<OwuiSimHandle> {
  const handle = await startOwuiSim(
    configFromEnv({
      PORT: '0',
      OWUI_SIM_VERSION: version,
      OWUI_SIM_REPLICA_NAME: `probe-${version}`,
      OWUI_SIM_INSTANCE_ID: instance,
      WEBUI_SECRET_KEY: 'k',
      OPENAI_API_BASE_URL: 'http://127.0.0.1:9/v1',
    }),
    { log: () => undefined },
  );
  servers.push(handle);
  return handle;
}

let newSim: OwuiSimHandle;
let oldSim: OwuiSimHandle;

beforeAll(async () => {
  newSim = await sim('0.12.4', 'slot-new');
  oldSim = await sim('0.6.30', 'slot-old');
});

afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('probeReplica', () => {
  it('a ready simulator (0.12.4) from the expected instance is healthy', async () => {
    const p = await probeReplica(newSim.url, { instance: 'slot-new' });
    expect(p).toEqual({ ok: true, reason: '/health and /ready 200' });
  });

  it('a 0.6.30 replica (no /ready endpoint: the web app answers it) is healthy', async () => {
    const ready = await fetch(`${oldSim.url}/ready`);
    expect(ready.headers.get('content-type')).toContain('text/html'); // what made `lab up` wait forever
    await ready.arrayBuffer();
    expect((await probeReplica(oldSim.url, { instance: 'slot-old' })).ok).toBe(true);
  });

  it('an answer from another instance (port taken) is not healthy', async () => {
    const p = await probeReplica(newSim.url, { instance: 'slot-other' });
    expect(p.ok).toBe(false);
    expect(p.reason).toMatch(/not from this replica/);
    // Without an instance (a real Open WebUI, a target the lab did not start) any answer counts.
    expect((await probeReplica(newSim.url)).ok).toBe(true);
  });

  it('/ready 503 is not ready; /ready 404 (no endpoint) is', async () => {
    const starting = await serve((req, res) => {
      if (req.url === '/health')
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":true}');
      else res.writeHead(503).end('{"detail":"Startup not complete"}');
    });
    expect(await probeReplica(starting)).toEqual({
      ok: false,
      reason: '/ready answered 503 {"detail":"Startup not complete"}',
    });
    const noReady = await serve((req, res) => {
      if (req.url === '/health') res.writeHead(200).end('{"status":true}');
      else res.writeHead(404).end('Not Found');
    });
    expect((await probeReplica(noReady)).ok).toBe(true);
  });

  it('a failing /health is not healthy even when /ready says 200 (lab status and scaling passed it)', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/health') res.writeHead(500).end('Internal Server Error');
      else res.writeHead(200).end('{"status":true}');
    });
    expect(await probeReplica(url)).toEqual({ ok: false, reason: '/health answered 500' });
    const noStatus = await serve((_req, res) => res.writeHead(200).end('{"status":false}'));
    expect((await probeReplica(noStatus)).reason).toMatch(/without "status": true/);
  });

  it('a server that never answers is unhealthy within the probe timeout, never a throw', async () => {
    const hung = await serve(() => undefined);
    const began = Date.now();
    const p = await probeReplica(hung, { timeoutMs: 300 });
    expect(p.ok).toBe(false);
    expect(p.reason).toMatch(/timeout|aborted/i);
    expect(Date.now() - began).toBeLessThan(5000);
    const refused = await probeHttpOk('http://127.0.0.1:9/v1/models');
    expect(refused.ok).toBe(false);
    expect(refused.reason).toMatch(/ECONNREFUSED|fetch failed/);
  });
});

describe('probeJsonStatus / probeHttpOk', () => {
  it('nginx-style /health and any 2xx', async () => {
    expect((await probeJsonStatus(`${newSim.url}/health`)).ok).toBe(true);
    expect((await probeJsonStatus(`${newSim.url}/api/version`)).ok).toBe(false);
    expect((await probeHttpOk(`${newSim.url}/health`)).ok).toBe(true);
    const down = await serve((_req, res) => res.writeHead(502).end('Bad Gateway'));
    expect(await probeHttpOk(`${down}/v1/models`)).toEqual({ ok: false, reason: '/v1/models answered 502' });
  });
});
