// The engine's own HTTP/1.1 stream connection against real servers on 127.0.0.1: node:http (the
// framing Node writes), a raw `net` server (keep-alive races and resets a framework would not
// produce on demand) and node:https with a certificate made here by openssl.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StreamConnection } from '../../../../src/engines/node/stream-connection.js';

interface Outcome {
  status: number;
  headers: string[];
  body: string;
  error?: Error;
}

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** One request through `c`, collected the way api-client.ts uses the handler. */
function request(
  c: StreamConnection,
  o: { path?: string; body?: string; abortAfterBytes?: number } = {},
): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { status: 0, headers: [], body: '' };
    let abort: ((err: Error) => void) | undefined;
    c.dispatch(
      {
        path: o.path ?? '/chat',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: o.body ?? '{"q":1}',
      },
      {
        onConnect: (a) => (abort = a as (err: Error) => void),
        onHeaders: (status, raw) => {
          out.status = status;
          out.headers = (raw as unknown as string[]).map(String);
          return true;
        },
        onData: (chunk) => {
          out.body += Buffer.from(chunk).toString('utf8');
          if (o.abortAfterBytes !== undefined && out.body.length >= o.abortAfterBytes)
            abort?.(new Error('cancelled'));
          return true;
        },
        onComplete: () => resolve(out),
        onError: (error) => resolve({ ...out, error }),
      },
    );
  });
}

async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{
  origin: string;
  server: Server;
  sockets: () => number;
}> {
  const server = createServer(handler);
  let sockets = 0;
  server.on('connection', () => sockets++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    sockets: () => sockets,
  };
}

/** A raw server: `onRequest(socket, n)` is called for the n-th request head on each socket. */
async function rawServer(onRequest: (socket: Socket, n: number, total: number) => void): Promise<{
  origin: string;
  sockets: () => number;
}> {
  let sockets = 0;
  let total = 0;
  const server: NetServer = createNetServer((socket) => {
    sockets++;
    let n = 0;
    let seen = '';
    socket.on('data', (d) => {
      seen += d.toString('latin1');
      // Each request is a head plus a Content-Length body; answer once the body is in.
      for (;;) {
        const end = seen.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(seen.slice(0, end))?.[1] ?? 0);
        if (seen.length < end + 4 + length) return;
        seen = seen.slice(end + 4 + length);
        onRequest(socket, ++n, ++total);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const open = new Set<Socket>();
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  closers.push(async () => {
    for (const s of open) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets: () => sockets };
}

const sse = (res: ServerResponse, events: string[], then: 'end' | 'destroy' = 'end'): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-owui-replica': 'r1' });
  let i = 0;
  const t = setInterval(() => {
    if (i < events.length) res.write(`data: ${events[i++]}\n\n`);
    else {
      clearInterval(t);
      if (then === 'end') res.end();
      else res.socket?.destroy();
    }
  }, 5);
};

describe('StreamConnection', () => {
  it('streams a chunked response and reuses the socket for the next request (keep-alive)', async () => {
    const bodies: string[] = [];
    const s = await httpServer((req, res) => {
      let b = '';
      req.on('data', (d: Buffer) => (b += String(d)));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${req.headers['content-type']} ${b}`);
        sse(res, ['one', 'two', '[DONE]']);
      });
    });
    const c = new StreamConnection(s.origin);
    closers.push(() => c.close());
    for (let i = 0; i < 3; i++) {
      const r = await request(c, { body: `{"n":${i}}` });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(200);
      expect(r.headers).toContain('x-owui-replica');
      expect(r.body).toBe('data: one\n\ndata: two\n\ndata: [DONE]\n\n');
    }
    expect(bodies).toEqual([0, 1, 2].map((i) => `POST /chat application/json {"n":${i}}`));
    expect(s.sockets()).toBe(1);
  });

  it('opens a new socket after `Connection: close` and past idleMs', async () => {
    const s = await httpServer((req, res) => {
      if (req.url === '/close') res.setHeader('connection', 'close');
      res.end('ok');
    });
    const c = new StreamConnection(s.origin, { idleMs: 300 });
    closers.push(() => c.close());
    expect((await request(c, { path: '/close' })).body).toBe('ok');
    expect((await request(c)).body).toBe('ok'); // new socket: the last one was closed
    expect(s.sockets()).toBe(2);
    expect((await request(c)).body).toBe('ok'); // reused
    expect(s.sockets()).toBe(2);
    await new Promise((r) => setTimeout(r, 400)); // idle past idleMs: not reused though still open
    expect((await request(c)).body).toBe('ok');
    expect(s.sockets()).toBe(3);
  });

  it('an idle socket the server closed is not reused', async () => {
    const s = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      setTimeout(() => socket.end(), 30); // the server's keep-alive timeout
    });
    const c = new StreamConnection(s.origin);
    closers.push(() => c.close());
    expect((await request(c)).body).toBe('ok');
    await new Promise((r) => setTimeout(r, 150));
    const r = await request(c);
    expect(r.error).toBeUndefined();
    expect(r.body).toBe('ok');
    expect(s.sockets()).toBe(2);
  });

  it('a reused socket that closes before any response byte is retried once on a new socket', async () => {
    const s = await rawServer((socket, n) => {
      if (n === 2)
        socket.destroy(); // the keep-alive race: the server gave up on the idle socket
      else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
    const c = new StreamConnection(s.origin);
    closers.push(() => c.close());
    expect((await request(c)).body).toBe('ok');
    const r = await request(c);
    expect(r.error).toBeUndefined();
    expect(r.body).toBe('ok');
    expect(s.sockets()).toBe(2);
  });

  it('a new socket closed before any response is an error, not a retry loop', async () => {
    const s = await rawServer((socket) => socket.destroy());
    const c = new StreamConnection(s.origin);
    closers.push(() => c.close());
    const r = await request(c);
    expect(r.status).toBe(0);
    expect(r.error?.message).toMatch(/closed the connection mid-response|ECONNRESET/);
    expect(s.sockets()).toBe(1);
  });

  it('a reset mid-body ends the request with an error after its headers and data', async () => {
    const s = await httpServer((_req, res) => sse(res, ['a', 'b'], 'destroy'));
    const c = new StreamConnection(s.origin);
    closers.push(() => c.close());
    const r = await request(c);
    expect(r.status).toBe(200);
    expect(r.body).toBe('data: a\n\ndata: b\n\n');
    expect(r.error).toBeDefined();
    // The connection recovers on a new socket.
    const again = await request(c);
    expect(again.status).toBe(200);
  });

  it('abort() mid-body ends the request with its reason and closes the socket; the next request works', async () => {
    let closed = 0;
    const s = await httpServer((req, res) => {
      res.on('close', () => closed++);
      sse(
        res,
        Array.from({ length: 200 }, (_, i) => `event ${i}`),
      );
    });
    const c = new StreamConnection(s.origin);
    closers.push(() => c.close());
    const r = await request(c, { abortAfterBytes: 30 });
    expect(r.error?.message).toBe('cancelled');
    await new Promise((res) => setTimeout(res, 100));
    expect(closed).toBe(1); // the server saw the client go
    const next = await request(c, { abortAfterBytes: 30 });
    expect(next.error?.message).toBe('cancelled');
    expect(s.sockets()).toBe(2);
  });

  it('an error status keeps its body; a malformed response is an error', async () => {
    const s = await rawServer((socket, _n, total) => {
      if (total === 1) socket.write('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 11\r\n\r\nbad gateway');
      else socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nnot-hex\r\n');
    });
    const c = new StreamConnection(s.origin);
    closers.push(() => c.close());
    const r = await request(c);
    expect(r).toMatchObject({ status: 502, body: 'bad gateway' });
    expect(r.error).toBeUndefined();
    const bad = await request(c);
    expect(bad.error?.message).toMatch(/invalid chunk size/);
  });

  it('refuses a second request while one is in flight, and a connection refused is an error', async () => {
    const s = await httpServer((_req, res) => setTimeout(() => res.end('late'), 200));
    const c = new StreamConnection(s.origin);
    closers.push(() => c.close());
    const first = request(c);
    expect(() => c.dispatch({ path: '/', method: 'POST', body: '' }, {})).toThrow(/one request at a time/);
    expect((await first).body).toBe('late');
    const port = Number(new URL(s.origin).port);
    await new Promise((r) => s.server.close(r));
    s.server.closeAllConnections();
    const refused = await request(new StreamConnection(`http://127.0.0.1:${port}`));
    expect(refused.error?.message).toMatch(/ECONNREFUSED/);
  });

  it('https: TLS to a server whose certificate is signed by the given CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'owui-tls-'));
    closers.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' }); // prettier-ignore
    const cert = readFileSync(join(dir, 'cert.pem'));
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (_req, res) =>
      sse(res, ['secure', '[DONE]']),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = new StreamConnection(origin, { ca: cert });
    closers.push(() => c.close());
    const r = await request(c);
    expect(r.error).toBeUndefined();
    expect(r.body).toBe('data: secure\n\ndata: [DONE]\n\n');
    // Without the CA the certificate is refused: TLS is verified, not only spoken.
    const untrusted = await request(new StreamConnection(origin));
    expect(untrusted.error?.message).toMatch(/self[- ]signed|certificate/i);
  });
});
