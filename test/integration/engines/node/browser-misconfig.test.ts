// The Node engine's browser clients on labs built wrong on purpose (`lab up --misconfig`): each
// mistake shows in the metrics a browser would feel it by, and the healthy lab shows none of them.
// Plus a server that answers a socket-mode chat with SSE (a server the tool was not written
// against): a protocol_error outcome at once, not a wait until the chat timeout.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserClient } from '../../../../src/engines/node/browser-client.js';
import { labDown, labUp } from '../../../../src/lab/lab.js';
import { MOCK_LLM_MODEL } from '../../../../src/lab/mock-llm/server.js';
import { FOREIGN_ORIGIN, parseMisconfigs } from '../../../../src/lab/misconfig.js';
import type { LabState } from '../../../../src/infra/lab-state.js';
import { encodeEio } from '../../../../src/protocol/engineio.js';
import { behaviourFor, parseVersion } from '../../../../src/protocol/openwebui.js';
import { decodeSio, sioFrame } from '../../../../src/protocol/socketio.js';
import { signin } from '../../lab/lab-clients.js';
import { collector } from './support.js';

const behaviour = behaviourFor(parseVersion('0.11.0'));
const agent = new Agent({ connections: 16 });
const clients: BrowserClient[] = [];

afterAll(async () => {
  for (const c of clients) c.stop();
  await agent.close();
});

function useLab(tag: string, misconfig: string): () => LabState {
  let state: LabState | undefined;
  let stateDir = '';
  beforeAll(async () => {
    // Made here, not at collection: a describe filtered out by -t never runs its afterAll.
    stateDir = mkdtempSync(join(tmpdir(), `owui-browser-mc-${tag}-`));
    state = await labUp({
      name: `mc-b-${tag}-${process.pid}`,
      stateDir,
      replicas: 2,
      misconfig: parseMisconfigs(misconfig),
    });
  }, 90_000);
  afterAll(async () => {
    if (!stateDir) return; // filtered out by -t: nothing was started
    try {
      expect((await labDown(stateDir)).errors).toEqual([]);
    } finally {
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
  return () => {
    if (!state) throw new Error(`lab ${tag} did not start`);
    return state;
  };
}

function client(
  baseUrl: string,
  token: string,
  c: ReturnType<typeof collector>,
  extra: { origin?: string; eventGraceMs?: number } = {},
): BrowserClient {
  const b = new BrowserClient({ baseUrl, token, dispatcher: agent, behaviour, emit: c.emit, ...extra });
  clients.push(b);
  return b;
}

async function until(check: () => boolean, budgetMs: number): Promise<boolean> {
  const end = Date.now() + budgetMs;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return check();
}

const directive = { seed: 7, tokens: 6, firstTokenMs: 0, tokensPerSecond: 0 };

describe('healthy lab: the negative control', () => {
  const lab = useLab('healthy', '');

  it('every client joins with the site Origin: 0 connect errors, 0 never joined, chats complete', async () => {
    const s = lab();
    const token = await signin(s.nginx!.url, s.admin!.email, s.admin!.password);
    const c = collector();
    const bs = [0, 1, 2].map(() => client(s.nginx!.url, token, c, { eventGraceMs: 3000 }));
    expect(bs[0]!.origin).toBe(s.nginx!.url);
    for (const b of bs) b.start();
    for (const b of bs) expect(await b.waitJoined(AbortSignal.timeout(15_000))).toBe(true);
    for (let i = 0; i < 4; i++) {
      const r = await bs[i % 3]!.chat({
        model: MOCK_LLM_MODEL,
        directive,
        verify: true,
        timeoutMs: 15_000,
        signal: AbortSignal.timeout(20_000),
      });
      expect(r?.outcome).toBe('completed');
    }
    for (const b of bs) b.stop();
    expect(c.of('ws_connect_errors')).toEqual([]);
    expect(c.of('ws_never_joined').map((g) => g.v)).toEqual([0, 0, 0]);
    expect(c.of('ws_missed_done')).toEqual([]);
  });
});

describe('no-upgrade-headers (+ secret-per-replica on the replicas themselves)', () => {
  const lab = useLab('hdr-secret', 'no-upgrade-headers,secret-per-replica');

  it('no-upgrade-headers: every attempt through nginx is a connect error tagged handshake 400; the client never joins', async () => {
    const s = lab();
    const [a] = s.replicas;
    const token = await signin(a!.url, s.admin!.email, s.admin!.password);
    const c = collector();
    const b = client(s.nginx!.url, token, c);
    b.start();
    expect(await until(() => c.of('ws_connect_errors').length >= 2, 15_000)).toBe(true);
    b.stop();
    const errors = c.of('ws_connect_errors');
    expect(
      errors.every((e) => e.tags.reason === 'handshake' && e.tags.status === '400'),
      JSON.stringify(errors),
    ).toBe(true);
    expect(c.of('ws_connect_time')).toEqual([]);
    expect(c.of('ws_never_joined').map((g) => g.v)).toEqual([1]);
  });

  it('secret-per-replica: a token of replica 1 on replica 2 connects but its user-join ack is empty: join_refused', async () => {
    const s = lab();
    const [a, b2] = s.replicas;
    const token = await signin(a!.url, s.admin!.email, s.admin!.password);
    const c = collector();
    const b = client(b2!.url, token, c);
    b.start();
    expect(await until(() => c.of('ws_connect_errors').length >= 1, 15_000)).toBe(true);
    b.stop();
    expect(c.of('ws_connect_errors')[0]!.tags).toMatchObject({ reason: 'join_refused', replica: 'owui-2' });
    expect(c.of('ws_never_joined').map((g) => g.v)).toEqual([1]);
    // Control: the same token on its own replica joins.
    const own = collector();
    const ok = client(a!.url, token, own);
    ok.start();
    expect(await ok.waitJoined(AbortSignal.timeout(15_000))).toBe(true);
    ok.stop();
    expect(own.of('ws_connect_errors')).toEqual([]);
  });
});

describe('cors-mismatch + local-websocket-manager', () => {
  const lab = useLab('cors-local', 'cors-mismatch,local-websocket-manager');

  it('cors-mismatch: a browser with the site Origin is refused (origin_refused 403, as real Open WebUI answers); the allowed origin joins', async () => {
    const s = lab();
    const token = await signin(s.nginx!.url, s.admin!.email, s.admin!.password);
    const c = collector();
    const b = client(s.nginx!.url, token, c);
    b.start();
    expect(await until(() => c.of('ws_connect_errors').length >= 1, 15_000)).toBe(true);
    b.stop();
    expect(c.of('ws_connect_errors')[0]!.tags).toMatchObject({ reason: 'origin_refused', status: '403' });
    expect(c.of('ws_never_joined').map((g) => g.v)).toEqual([1]);
    const allowed = collector();
    const ok = client(s.nginx!.url, token, allowed, { origin: FOREIGN_ORIGIN });
    ok.start();
    expect(await ok.waitJoined(AbortSignal.timeout(15_000))).toBe(true);
    ok.stop();
    expect(allowed.of('ws_connect_errors')).toEqual([]);
  });

  it('local-websocket-manager: a socket chat served by the other replica is lost within the grace, not the chat timeout', async () => {
    const s = lab();
    const token = await signin(s.nginx!.url, s.admin!.email, s.admin!.password);
    const c = collector();
    const b = client(s.nginx!.url, token, c, { origin: FOREIGN_ORIGIN, eventGraceMs: 2000 });
    b.start();
    expect(await b.waitJoined(AbortSignal.timeout(15_000))).toBe(true);
    const results: Array<{ outcome?: string; ms: number }> = [];
    for (let i = 0; i < 6; i++) {
      const t0 = Date.now();
      const r = await b.chat({
        model: MOCK_LLM_MODEL,
        directive: { ...directive, seed: 70 + i },
        verify: true,
        timeoutMs: 60_000,
        signal: AbortSignal.timeout(70_000),
      });
      results.push({ ...(r ? { outcome: r.outcome } : {}), ms: Date.now() - t0 });
    }
    b.stop();
    const lost = c.of('stream_outcome').filter((g) => g.tags.outcome === 'timeout');
    expect(lost.length, JSON.stringify(results)).toBeGreaterThan(0);
    expect(lost.every((g) => g.tags.reason === 'no_event')).toBe(true);
    for (const r of results.filter((x) => x.outcome === 'timeout')) expect(r.ms).toBeLessThan(2000 + 3000);
    expect(c.of('ws_missed_done')).toHaveLength(lost.length);
  });
});

describe('a server that answers a socket-mode chat with SSE', () => {
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/api/version') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.11.0"}');
        return;
      }
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.end('data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n');
    });
    const wss = new WebSocketServer({ server, path: '/ws/socket.io/' });
    wss.on('connection', (ws) => {
      ws.send(
        encodeEio({
          type: 'open',
          data: { sid: 'e1', upgrades: [], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1e6 },
        }),
      );
      ws.on('message', (raw) => {
        const text = String(raw);
        if (!text.startsWith('4')) return;
        const p = decodeSio(text.slice(1));
        if (p.type === 'connect') ws.send(sioFrame({ type: 'connect', nsp: '/', data: { sid: 's1' } }));
        else if (p.type === 'event' && p.id !== undefined)
          ws.send(sioFrame({ type: 'ack', nsp: '/', id: p.id, data: [{ id: 'u1', name: 'U' }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('is a protocol_error with status and content type, at once', async () => {
    const c = collector();
    const b = client(url, 'token', c);
    b.start();
    expect(await b.waitJoined(AbortSignal.timeout(10_000))).toBe(true);
    const t0 = Date.now();
    const r = await b.chat({
      model: 'm',
      directive,
      verify: false,
      timeoutMs: 60_000,
      signal: AbortSignal.timeout(70_000),
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    b.stop();
    expect(r?.outcome).toBe('protocol_error');
    expect(c.of('stream_outcome')[0]!.tags).toMatchObject({
      outcome: 'protocol_error',
      status: '200',
      content_type: 'text/event-stream',
    });
    expect(c.of('ws_missed_done')).toEqual([]);
  });
});
