// ToxiproxyClientDriver against a Toxiproxy API: the lab's compatible server (src/lab/toxiproxy),
// or a real toxiproxy-server when TOXIPROXY_URL is set. Effects are observed from outside through a
// TCP echo server behind a proxy: round-trip time rises by the latency, `down` refuses
// connections, and every revert (handle or replayed record) brings the proxy back as it was.

import { existsSync, readdirSync } from 'node:fs';
import { type AddressInfo, type Server, connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultError } from '../../../src/core/errors.js';
import type { ToxicSpec } from '../../../src/core/ports.js';
import { revertFromRecord } from '../../../src/drivers/revert-records.js';
import { ToxiproxyClientDriver } from '../../../src/drivers/toxiproxy/toxiproxy-driver.js';
import { freePort } from '../../../src/infra/process/daemon.js';

type StartServer = (opts: { port: number }) => Promise<{ url: string; close(): Promise<void> }>;

/** The lab's server, found by its export rather than a file name (it is written concurrently). */
async function findLabServer(): Promise<StartServer | undefined> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../src/lab/toxiproxy');
  if (!existsSync(dir)) return undefined;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { startToxiproxyServer?: StartServer };
    if (typeof mod.startToxiproxyServer === 'function') return mod.startToxiproxyServer;
  }
  return undefined;
}

const realUrl = process.env.TOXIPROXY_URL;
const labServer = realUrl ? undefined : await findLabServer();
const skipReason =
  realUrl || labServer
    ? undefined
    : 'no Toxiproxy API: src/lab/toxiproxy has no startToxiproxyServer yet and TOXIPROXY_URL is not set';
if (skipReason) console.warn(`[skip] toxiproxy-driver: ${skipReason}`);

/** Connects, sends one line, resolves with the ms until it is echoed back (or the failure). */
function roundTrip(port: number, timeoutMs = 3000): Promise<number | 'refused' | 'timeout' | 'closed'> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port });
    const done = (v: number | 'refused' | 'timeout' | 'closed'): void => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done('timeout'));
    socket.once('connect', () => socket.write('ping\n'));
    socket.once('data', () => done(performance.now() - started));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'refused' : 'closed'),
    );
    socket.once('end', () => done('closed'));
  });
}

async function medianRoundTrip(port: number, n = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = await roundTrip(port);
    if (typeof t !== 'number') throw new Error(`echo through the proxy failed: ${t}`);
    times.push(t);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)]!;
}

const latency = (name: string, ms: number): ToxicSpec => ({
  name,
  type: 'latency',
  stream: 'downstream',
  toxicity: 1,
  attributes: { latency: ms, jitter: 0 },
});

describe.skipIf(skipReason !== undefined)('ToxiproxyClientDriver (Toxiproxy API + TCP echo)', () => {
  let echo: Server;
  let server: { url: string; close(): Promise<void> } | undefined;
  let driver: ToxiproxyClientDriver;
  let listenPort: number;
  const proxy = `echo-${process.pid}`;

  beforeAll(async () => {
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const echoPort = (echo.address() as AddressInfo).port;
    if (labServer) server = await labServer({ port: 0 });
    driver = new ToxiproxyClientDriver({ url: realUrl ?? server!.url });
    listenPort = await freePort();
    await driver.createProxy({
      name: proxy,
      listen: `127.0.0.1:${listenPort}`,
      upstream: `127.0.0.1:${echoPort}`,
    });
  });

  afterAll(async () => {
    await driver?.reset().catch(() => undefined);
    if (realUrl) await fetch(`${realUrl}/proxies/${proxy}`, { method: 'DELETE' }).catch(() => undefined);
    await server?.close();
    await new Promise<void>((r) => (echo ? echo.close(() => r()) : r()));
  });

  it('lists the proxy, enabled, without toxics', async () => {
    const found = (await driver.listProxies()).find((p) => p.name === proxy);
    expect(found).toEqual({
      name: proxy,
      listen: `127.0.0.1:${listenPort}`,
      upstream: expect.stringMatching(/:\d+$/),
      enabled: true,
      toxics: [],
    });
  });

  it('a latency toxic raises the round trip by about its latency; revert brings it back', async () => {
    const base = await medianRoundTrip(listenPort);
    const prepared = driver.prepareToxic(proxy, latency('lat', 300));
    expect(prepared.record).toEqual({
      driver: 'toxiproxy',
      op: 'removeToxic',
      args: { proxy, toxic: 'lat' },
    });
    const handle = await prepared.apply();
    expect(handle.description).toBe(`latency toxic lat (downstream, latency=300 jitter=0) on proxy ${proxy}`);
    expect((await driver.getProxy(proxy)).toxics).toEqual([latency('lat', 300)]);
    const slowed = await medianRoundTrip(listenPort);
    expect(slowed - base).toBeGreaterThanOrEqual(280);
    expect(slowed - base).toBeLessThan(600);

    await handle.revert();
    await handle.revert(); // idempotent
    expect((await driver.getProxy(proxy)).toxics).toEqual([]);
    expect(await medianRoundTrip(listenPort)).toBeLessThan(base + 150);
  });

  it('a record replayed by a fresh driver (rollback after a crash) removes the toxic', async () => {
    const handle = await driver.injectToxic(proxy, latency('crash', 200));
    const record = JSON.parse(JSON.stringify(handle.revertRecord)) as typeof handle.revertRecord;
    const fresh = new ToxiproxyClientDriver({ url: realUrl ?? server!.url });
    await revertFromRecord(record, { toxiproxy: fresh });
    await revertFromRecord(record, { toxiproxy: fresh }); // already gone: still fine
    expect((await driver.getProxy(proxy)).toxics).toEqual([]);
  });

  it('updating a toxic changes the latency; its revert restores the previous attributes', async () => {
    await driver.addToxic(proxy, latency('lat2', 100));
    const update = await driver.prepareToxicUpdate(proxy, latency('lat2', 500));
    expect(update.record).toMatchObject({ op: 'restoreToxic', args: { proxy, toxic: latency('lat2', 100) } });
    const handle = await update.apply();
    expect(await medianRoundTrip(listenPort)).toBeGreaterThanOrEqual(480);
    await handle.revert();
    expect((await driver.getProxy(proxy)).toxics).toEqual([latency('lat2', 100)]);
    const t = await medianRoundTrip(listenPort);
    expect(t).toBeGreaterThanOrEqual(90);
    expect(t).toBeLessThan(400);
    await driver.removeToxic(proxy, 'lat2');
  });

  it('down (enabled: false) refuses connections; revert accepts them again', async () => {
    const handle = await driver.disableProxy(proxy);
    expect(handle.revertRecord).toEqual({
      driver: 'toxiproxy',
      op: 'setEnabled',
      args: { proxy, enabled: true },
    });
    expect((await driver.getProxy(proxy)).enabled).toBe(false);
    expect(await roundTrip(listenPort)).toBe('refused');
    await handle.revert();
    await handle.revert();
    expect((await driver.getProxy(proxy)).enabled).toBe(true);
    expect(typeof (await roundTrip(listenPort))).toBe('number');
  });

  it('reset enables every proxy and removes every toxic', async () => {
    await driver.addToxic(proxy, latency('x', 50));
    await driver.setEnabled(proxy, false);
    await driver.reset();
    expect(await driver.getProxy(proxy)).toMatchObject({ enabled: true, toxics: [] });
  });

  it('errors say what failed on what: duplicate toxic, unknown proxy, unreachable API', async () => {
    await driver.addToxic(proxy, latency('dup', 10));
    const dup = await driver.addToxic(proxy, latency('dup', 10)).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(FaultError);
    expect((dup as FaultError).code).toBe('TOXIC_ADD_FAILED');
    expect((dup as FaultError).message).toContain(`to proxy ${proxy} (it already exists)`);
    await driver.removeToxic(proxy, 'dup');

    const unknown = await driver.setEnabled('no-such-proxy', false).catch((e: unknown) => e);
    expect((unknown as FaultError).message).toContain('disable proxy no-such-proxy (not found)');

    const down = new ToxiproxyClientDriver({ url: `http://127.0.0.1:${await freePort()}` });
    const err = await down.listProxies().catch((e: unknown) => e);
    expect((err as FaultError).code).toBe('TOXIPROXY_UNREACHABLE');
  });
});
