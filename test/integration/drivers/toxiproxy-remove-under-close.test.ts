// Removing a toxic while the connections through its proxy close, on a real toxiproxy-server.
// Toxiproxy 2.12's DELETE of a latency toxic at that moment hangs its whole API for 25 s and more
// (docs/faults.md, "Reverting under load"); the driver neutralizes the toxic first, so its remove
// right after the close returns at once (during the close it still can hang, so that is not
// claimed). The control proves the condition is real: a bare DELETE at the same moment hangs.

import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ToxiproxyClientDriver } from '../../../src/drivers/toxiproxy/toxiproxy-driver.js';
import { pollHealthy, probeHttpOk } from '../../../src/infra/http-probe.js';
import { freePort } from '../../../src/infra/process/daemon.js';
import { findToxiproxyServer } from '../../../src/lab/openwebui/install.js';

const realBin = findToxiproxyServer();
if (!realBin)
  console.warn('[skip] toxiproxy-remove-under-close: no toxiproxy-server (owui-chaos lab install)');

const CLIENTS = 50;
const ANSWER_MS = 3000;

interface Bench {
  url: string;
  clients: net.Socket[];
  stop(): Promise<void>;
}

/** toxiproxy-server, an upstream that streams 5 KB/s per connection, and clients reading through a 300 ms latency toxic. */
async function startBench(): Promise<Bench> {
  const upstream = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const timer = setInterval(() => {
      res.write(`data: {"i":${i++},"pad":"${'x'.repeat(100)}"}\n\n`);
      if (i >= 1000) {
        clearInterval(timer);
        res.end();
      }
    }, 20);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upstreamPort = (upstream.address() as net.AddressInfo).port;
  const [apiPort, listenPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(realBin as string, ['-host', '127.0.0.1', '-port', String(apiPort)], {
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${apiPort}`;
  const stop = async (): Promise<void> => {
    for (const c of clients) c.destroy();
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  };
  const clients: net.Socket[] = [];
  try {
    const up = await pollHealthy((timeoutMs) => probeHttpOk(`${url}/version`, { timeoutMs }), 10_000);
    if (!up.ok) throw new Error(`toxiproxy-server did not answer /version within 10 s: ${up.reason}`);
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    expect(
      (
        await post('/proxies', {
          name: 'llm',
          listen: `127.0.0.1:${listenPort}`,
          upstream: `127.0.0.1:${upstreamPort}`,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await post('/proxies/llm/toxics', {
          name: 'slow',
          type: 'latency',
          stream: 'downstream',
          attributes: { latency: 300 },
        })
      ).status,
    ).toBe(200);
    let reading = 0;
    await new Promise<void>((resolve, reject) => {
      for (let k = 0; k < CLIENTS; k++) {
        const s = net.connect(listenPort, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: llm\r\n\r\n'));
        s.once('data', () => {
          if (++reading === CLIENTS) resolve();
        });
        s.on('data', () => undefined);
        s.on('error', () => undefined);
        clients.push(s);
      }
      setTimeout(
        () => reject(new Error(`only ${reading} of ${CLIENTS} clients read through the toxic`)),
        10_000,
      ).unref();
    });
    // The toxic now holds ~300 ms of every stream.
    await new Promise((r) => setTimeout(r, 1000));
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, clients, stop };
}

/** Resolves with how the API answers a list of proxies within ANSWER_MS. */
async function apiAnswers(url: string): Promise<number | 'no answer'> {
  return fetch(`${url}/proxies`, { signal: AbortSignal.timeout(ANSWER_MS) }).then(
    (r) => r.status,
    () => 'no answer' as const,
  );
}

describe.skipIf(!realBin)('removing a toxic while its connections close (real toxiproxy-server)', () => {
  let bench: Bench | undefined;
  afterEach(async () => {
    await bench?.stop();
    bench = undefined;
  });

  it('the driver removes it at once when the clients have just gone, and the API still answers', async () => {
    bench = await startBench();
    const driver = new ToxiproxyClientDriver({ url: bench.url });
    for (const c of bench.clients) c.destroy();
    const t0 = performance.now();
    await driver.removeToxic('llm', 'slow');
    expect(performance.now() - t0).toBeLessThan(ANSWER_MS);
    expect(await apiAnswers(bench.url)).toBe(200);
    expect((await driver.getProxy('llm')).toxics).toEqual([]);
  }, 30_000);

  // Not tested as fixed: a removal sent WHILE the clients close, and /reset right after they
  // closed, still hang now and then (docs/faults.md, "Reverting under load").

  it('control: a bare DELETE at the same moment hangs Toxiproxy (the condition the driver avoids is real)', async () => {
    bench = await startBench();
    for (const c of bench.clients) c.destroy();
    const status = await fetch(`${bench.url}/proxies/llm/toxics/slow`, {
      method: 'DELETE',
      signal: AbortSignal.timeout(ANSWER_MS),
    }).then(
      (r) => r.status,
      () => 'no answer' as const,
    );
    // If this ever answers 204, Toxiproxy fixed Shopify/toxiproxy#558: the neutralize step may go.
    expect(status).toBe('no answer');
    expect(await apiAnswers(bench.url)).toBe('no answer');
  }, 30_000);
});
