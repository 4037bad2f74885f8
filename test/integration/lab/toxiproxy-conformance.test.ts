// Toxiproxy API and toxic conformance, through toxiproxy-node-client AND raw fetch, against the
// lab's own server and, when one is on PATH, a real `toxiproxy-server`: both must behave alike.
// Toxic effects are measured on real TCP traffic through a proxy in front of an echo server.

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Toxiproxy } from 'toxiproxy-node-client';
import { findToxiproxyServer } from '../../../src/lab/openwebui/install.js';
import { startToxiproxyServer } from '../../../src/lab/toxiproxy/server.js';

interface Target {
  name: string;
  start(): Promise<{ url: string; stop(): Promise<void> }>;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const ours: Target = {
  name: 'owui-chaos toxiproxy-compatible server',
  start: async () => {
    const s = await startToxiproxyServer({ port: 0 });
    return { url: s.url, stop: () => s.close() };
  },
};

// The pinned build `owui-chaos lab install` puts in the cache, else one on PATH (as the lab does).
const realBin = findToxiproxyServer();
const real: Target = {
  name: 'real toxiproxy-server',
  start: async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(realBin as string, ['-host', '127.0.0.1', '-port', String(port)], {
      stdio: 'ignore',
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/version`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error('toxiproxy-server did not answer /version within 10 s');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      url,
      stop: async () => {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      },
    };
  },
};

const targets: Target[] = realBin ? [ours, real] : [ours];
if (!realBin)
  console.warn(
    'toxiproxy conformance: no `toxiproxy-server` (owui-chaos lab install, or on PATH), so only the lab server is tested (the real-server half is skipped)',
  );

describe.skipIf(Boolean(realBin))('Toxiproxy conformance against a real toxiproxy-server', () => {
  it.skip('skipped: no `toxiproxy-server` binary (owui-chaos lab install)', () => undefined);
});

/** A TCP client that records every read with its time. */
class Peer {
  readonly reads: { at: number; bytes: Buffer }[] = [];
  error: NodeJS.ErrnoException | undefined;
  closedAt: number | undefined;
  endedAt: number | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (bytes: Buffer) => {
      this.reads.push({ at: performance.now(), bytes });
      this.wake();
    });
    socket.on('end', () => {
      this.endedAt = performance.now();
      this.wake();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e;
      this.wake();
    });
    socket.on('close', () => {
      this.closedAt = performance.now();
      this.wake();
    });
  }

  static connect(address: string): Promise<Peer> {
    const i = address.lastIndexOf(':');
    const socket = net.connect({
      host: address.slice(0, i),
      port: Number(address.slice(i + 1)),
      allowHalfOpen: true,
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(new Peer(socket)));
      socket.once('error', reject);
    });
  }

  get received(): number {
    return this.reads.reduce((n, r) => n + r.bytes.length, 0);
  }

  get text(): string {
    return Buffer.concat(this.reads.map((r) => r.bytes)).toString('utf8');
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `check` holds, or with false after `ms`. */
  async until(check: () => boolean, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms;
    while (!check()) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  /** Sends `payload` and returns the ms until as many bytes more came back (echo round trip). */
  async roundTrip(payload = 'ping\n', budgetMs = 5000): Promise<number> {
    const want = this.received + Buffer.byteLength(payload);
    const t0 = performance.now();
    this.socket.write(payload);
    if (!(await this.until(() => this.received >= want, budgetMs)))
      throw new Error(`no echo within ${budgetMs} ms`);
    return performance.now() - t0;
  }

  close(): void {
    this.socket.destroy();
  }
}

describe.each(targets)('Toxiproxy conformance: $name', (target) => {
  let api: string;
  let stop: () => Promise<void>;
  let echo: net.Server;
  let upstream: string;
  let client: Toxiproxy;
  const peers: Peer[] = [];
  let n = 0;
  const uniq = (): string => `p${++n}_${Math.random().toString(36).slice(2, 6)}`;

  beforeAll(async () => {
    ({ url: api, stop } = await target.start());
    client = new Toxiproxy(api);
    echo = net.createServer((s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    upstream = `127.0.0.1:${(echo.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const p of peers) p.close();
    await stop?.();
    await new Promise<void>((r) => echo?.close(() => r()));
  });

  const connect = async (listen: string): Promise<Peer> => {
    const p = await Peer.connect(listen);
    peers.push(p);
    return p;
  };

  async function raw(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown; text: string }> {
    const res = await fetch(`${api}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : {
            body: typeof body === 'string' ? body : JSON.stringify(body),
            headers: { 'content-type': 'application/json' },
          }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  async function proxy(): Promise<{ name: string; listen: string }> {
    const created = await client.createProxy({ name: uniq(), listen: '127.0.0.1:0', upstream });
    return { name: created.name, listen: created.listen };
  }

  it('GET /version answers with a version', async () => {
    const res = await raw('GET', '/version');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ version: expect.any(String) });
    expect(await client.getVersion()).toContain('version');
  });

  it('creates, lists, shows and deletes proxies with the right status codes', async () => {
    const name = uniq();
    const created = await raw('POST', '/proxies', { name, listen: '127.0.0.1:0', upstream });
    expect(created.status).toBe(201);
    const body = created.json as {
      name: string;
      listen: string;
      upstream: string;
      enabled: boolean;
      toxics: unknown[];
    };
    expect(body).toEqual({
      name,
      listen: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      upstream,
      enabled: true,
      // Real toxiproxy-server (v2.12.0) serialises its proxy's exported zerolog field as `{}`.
      Logger: {},
      toxics: [],
    });
    expect(body.listen).not.toBe('127.0.0.1:0');
    // …in that key order, as Go's encoding/json writes the struct fields.
    expect(Object.keys(body)).toEqual(['name', 'listen', 'upstream', 'enabled', 'Logger', 'toxics']);

    const all = await raw('GET', '/proxies');
    expect(all.status).toBe(200);
    expect((all.json as Record<string, unknown>)[name]).toEqual(body);
    expect(Object.keys(await client.getAll())).toContain(name);

    expect((await raw('GET', `/proxies/${name}`)).json).toEqual(body);
    expect((await client.get(name)).listen).toBe(body.listen);

    const del = await raw('DELETE', `/proxies/${name}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    const gone = await raw('GET', `/proxies/${name}`);
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: 'proxy not found', status: 404 });
    expect((await raw('DELETE', `/proxies/${name}`)).status).toBe(404);
  });

  it('answers 409, 400 and 404 with Toxiproxy error bodies', async () => {
    const { name } = await proxy();
    const dup = await raw('POST', '/proxies', { name, listen: '127.0.0.1:0', upstream });
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual({ error: 'proxy already exists', status: 409 });
    await expect(client.createProxy({ name, listen: '127.0.0.1:0', upstream })).rejects.toThrow(/409/);

    const noUpstream = await raw('POST', '/proxies', { name: uniq(), listen: '127.0.0.1:0' });
    expect(noUpstream.status).toBe(400);
    expect(noUpstream.json).toEqual({ error: 'missing required field: upstream', status: 400 });
    const noName = await raw('POST', '/proxies', { upstream });
    expect(noName.json).toEqual({ error: 'missing required field: name', status: 400 });

    const badJson = await raw('POST', '/proxies', '{"name": ');
    expect(badJson.status).toBe(400);
    expect((badJson.json as { error: string }).error).toMatch(/^bad request body: /);

    const missing = await raw('GET', '/proxies/does-not-exist/toxics');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: 'proxy not found', status: 404 });
  });

  it('creates, shows, lists, updates and deletes toxics', async () => {
    const { name } = await proxy();
    const created = await raw('POST', `/proxies/${name}/toxics`, {
      type: 'latency',
      attributes: { latency: 10 },
    });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({
      attributes: { latency: 10, jitter: 0 },
      name: 'latency_downstream',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
    });
    const dup = await raw('POST', `/proxies/${name}/toxics`, { type: 'latency' });
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual({ error: 'toxic already exists', status: 409 });

    const badType = await raw('POST', `/proxies/${name}/toxics`, { name: 'x', type: 'no_such_toxic' });
    expect(badType.status).toBe(400);
    expect(badType.json).toEqual({ error: 'invalid toxic type', status: 400 });
    const badStream = await raw('POST', `/proxies/${name}/toxics`, {
      name: 'y',
      type: 'latency',
      stream: 'sideways',
    });
    expect(badStream.status).toBe(400);
    expect(badStream.json).toEqual({
      error: 'stream was invalid, can be either upstream or downstream',
      status: 400,
    });

    const p = await client.get(name);
    const viaClient = await p.addToxic({
      name: 'bw',
      type: 'bandwidth',
      stream: 'upstream',
      toxicity: 0.5,
      attributes: { rate: 100 },
    });
    expect(viaClient.toJson()).toEqual({
      attributes: { rate: 100 },
      name: 'bw',
      type: 'bandwidth',
      stream: 'upstream',
      toxicity: 0.5,
    });

    const list = await raw('GET', `/proxies/${name}/toxics`);
    expect((list.json as { name: string }[]).map((t) => t.name).sort()).toEqual(['bw', 'latency_downstream']);
    expect(((await raw('GET', `/proxies/${name}`)).json as { toxics: unknown[] }).toxics).toHaveLength(2);

    const updated = await raw('POST', `/proxies/${name}/toxics/latency_downstream`, {
      attributes: { jitter: 5 },
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ attributes: { latency: 10, jitter: 5 }, toxicity: 1 });
    const viaClientUpdate = await (
      await p.getToxic('bw')
    ).update({ attributes: { rate: 200 }, toxicity: 1 } as never);
    expect(viaClientUpdate.attributes).toEqual({ rate: 200 });
    expect(viaClientUpdate.toxicity).toBe(1);

    const del = await raw('DELETE', `/proxies/${name}/toxics/latency_downstream`);
    expect(del.status).toBe(204);
    const gone = await raw('GET', `/proxies/${name}/toxics/latency_downstream`);
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: 'toxic not found', status: 404 });
    expect((await raw('POST', `/proxies/${name}/toxics/latency_downstream`, { attributes: {} })).status).toBe(
      404,
    );
    await (await p.getToxic('bw')).remove();
    expect((await raw('GET', `/proxies/${name}/toxics`)).json).toEqual([]);
  });

  it('enabled: false closes connections and refuses new ones; true listens again on the same address', async () => {
    const { name, listen } = await proxy();
    const before = await connect(listen);
    await before.roundTrip();

    const off = await raw('POST', `/proxies/${name}`, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({ name, listen, enabled: false });
    expect(
      await before.until(() => before.endedAt !== undefined || before.closedAt !== undefined, 2000),
    ).toBe(true);
    await expect(Peer.connect(listen)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    const p = await client.get(name);
    const on = await p.update({ enabled: true, listen: p.listen, upstream: p.upstream });
    expect(on.enabled).toBe(true);
    expect(on.listen).toBe(listen);
    const after = await connect(listen);
    expect(await after.roundTrip()).toBeLessThan(1000);
  });

  it('latency delays each chunk, on new and on already-open connections, and goes away when removed', async () => {
    const { name, listen } = await proxy();
    const open = await connect(listen);
    const baseline = await open.roundTrip();
    expect(baseline).toBeLessThan(150);

    const p = await client.get(name);
    const toxic = await p.addToxic({
      name: 'lat',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 300, jitter: 0 },
    });
    // The connection opened before the toxic was added is slowed too (long-lived Redis case).
    const existing = await open.roundTrip();
    expect(existing).toBeGreaterThan(300 * 0.9);
    expect(existing).toBeLessThan(300 + 700);
    const fresh = await connect(listen);
    expect(await fresh.roundTrip()).toBeGreaterThan(300 * 0.9);

    await toxic.update({ attributes: { latency: 600, jitter: 0 }, toxicity: 1 } as never);
    expect(await open.roundTrip()).toBeGreaterThan(600 * 0.9);

    await toxic.remove();
    expect(await open.roundTrip()).toBeLessThan(250);
  });

  it('latency on the upstream stream delays the request direction', async () => {
    const { name, listen } = await proxy();
    await raw('POST', `/proxies/${name}/toxics`, {
      type: 'latency',
      stream: 'upstream',
      attributes: { latency: 250 },
    });
    const peer = await connect(listen);
    expect(await peer.roundTrip()).toBeGreaterThan(250 * 0.9);
  });

  it('toxicity 0 means the toxic is never applied', async () => {
    const { name, listen } = await proxy();
    await raw('POST', `/proxies/${name}/toxics`, {
      type: 'latency',
      toxicity: 0,
      attributes: { latency: 1000 },
    });
    for (let i = 0; i < 3; i++) {
      const peer = await connect(listen);
      expect(await peer.roundTrip()).toBeLessThan(500);
    }
  });

  it('bandwidth limits the rate (KB/s)', async () => {
    const { name, listen } = await proxy();
    await raw('POST', `/proxies/${name}/toxics`, { type: 'bandwidth', attributes: { rate: 20 } });
    const peer = await connect(listen);
    // 12,000 bytes at 20 KB/s ≈ 600 ms.
    const ms = await peer.roundTrip('x'.repeat(12_000), 5000);
    expect(ms).toBeGreaterThan(600 * 0.7);
    expect(ms).toBeLessThan(600 * 3);
  });

  it('timeout drops data and closes after `timeout` ms; 0 never closes', async () => {
    const { name, listen } = await proxy();
    await raw('POST', `/proxies/${name}/toxics`, { type: 'timeout', attributes: { timeout: 300 } });
    const peer = await connect(listen);
    const t0 = performance.now();
    peer.socket.write('hello');
    expect(await peer.until(() => peer.closedAt !== undefined || peer.endedAt !== undefined, 3000)).toBe(
      true,
    );
    expect((peer.endedAt ?? peer.closedAt ?? 0) - t0).toBeGreaterThan(300 * 0.8);
    expect(peer.received).toBe(0);

    const other = await proxy();
    await raw('POST', `/proxies/${other.name}/toxics`, { type: 'timeout', attributes: { timeout: 0 } });
    const stuck = await connect(other.listen);
    stuck.socket.write('hello');
    expect(await stuck.until(() => stuck.received > 0 || stuck.closedAt !== undefined, 600)).toBe(false);
  });

  it('reset_peer resets the connection (client sees ECONNRESET)', async () => {
    const { name, listen } = await proxy();
    await raw('POST', `/proxies/${name}/toxics`, { type: 'reset_peer', attributes: { timeout: 100 } });
    const peer = await connect(listen);
    peer.socket.write('hello');
    expect(await peer.until(() => peer.error !== undefined, 3000)).toBe(true);
    expect(peer.error?.code).toBe('ECONNRESET');
  });

  it('slicer delivers data in small pieces', async () => {
    const { name, listen } = await proxy();
    await raw('POST', `/proxies/${name}/toxics`, {
      type: 'slicer',
      attributes: { average_size: 10, size_variation: 4, delay: 2000 },
    });
    const peer = await connect(listen);
    const payload = 'abcdefghij'.repeat(30);
    await peer.roundTrip(payload, 5000);
    expect(peer.text).toBe(payload);
    expect(peer.reads.length).toBeGreaterThanOrEqual(15);
    expect(Math.max(...peer.reads.map((r) => r.bytes.length))).toBeLessThanOrEqual(60);
  });

  it('limit_data closes the connection after `bytes` bytes', async () => {
    const { name, listen } = await proxy();
    await raw('POST', `/proxies/${name}/toxics`, { type: 'limit_data', attributes: { bytes: 100 } });
    const peer = await connect(listen);
    peer.socket.write('z'.repeat(300));
    expect(await peer.until(() => peer.closedAt !== undefined || peer.endedAt !== undefined, 3000)).toBe(
      true,
    );
    expect(peer.received).toBe(100);
  });

  it('slow_close delays the close by `delay` ms', async () => {
    const { name, listen } = await proxy();
    const fast = await connect(listen);
    let t0 = performance.now();
    fast.socket.end();
    expect(await fast.until(() => fast.endedAt !== undefined, 3000)).toBe(true);
    const baseline = (fast.endedAt ?? 0) - t0;
    expect(baseline).toBeLessThan(200);

    await raw('POST', `/proxies/${name}/toxics`, { type: 'slow_close', attributes: { delay: 500 } });
    const slow = await connect(listen);
    await slow.roundTrip();
    t0 = performance.now();
    slow.socket.end();
    expect(await slow.until(() => slow.endedAt !== undefined, 3000)).toBe(true);
    expect((slow.endedAt ?? 0) - t0).toBeGreaterThan(500 * 0.9);
  });

  it('POST /populate creates or replaces proxies and answers 201 with {proxies}', async () => {
    const a = uniq();
    const b = uniq();
    const res = await raw('POST', '/populate', [
      { name: a, listen: '127.0.0.1:0', upstream },
      { name: b, listen: '127.0.0.1:0', upstream, enabled: false },
    ]);
    expect(res.status).toBe(201);
    const proxies = (res.json as { proxies: { name: string; enabled: boolean; toxics: unknown[] }[] })
      .proxies;
    expect(proxies.map((p) => [p.name, p.enabled])).toEqual([
      [a, true],
      [b, false],
    ]);
    const viaClient = await client.populate([{ name: a, listen: '127.0.0.1:0', upstream: '127.0.0.1:1' }]);
    expect(viaClient[a]?.upstream).toBe('127.0.0.1:1');
    const bad = await raw('POST', '/populate', [{ name: uniq() }]);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'missing required field: upstream at proxy 1', status: 400 });
  });

  it('POST /reset enables every proxy and removes every toxic (204)', async () => {
    const { name, listen } = await proxy();
    await raw('POST', `/proxies/${name}/toxics`, { type: 'latency', attributes: { latency: 800 } });
    await raw('POST', `/proxies/${name}`, { enabled: false });
    const res = await raw('POST', '/reset');
    expect(res.status).toBe(204);
    const after = (await raw('GET', `/proxies/${name}`)).json as {
      enabled: boolean;
      toxics: unknown[];
      listen: string;
    };
    expect(after).toMatchObject({ enabled: true, toxics: [], listen });
    const peer = await connect(listen);
    expect(await peer.roundTrip()).toBeLessThan(400);
    await client.reset();
  });
});
