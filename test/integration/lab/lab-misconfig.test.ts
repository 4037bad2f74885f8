// `lab up --misconfig`: every switch builds its mistake into a real lab (real nginx, Redis,
// Sentinels, simulator replicas) and produces the symptom users of such a deployment see; the
// healthy lab, started the same way, shows none of them (the negative control). Labs with
// compatible switches are shared to keep the file light on 2 cores (2 replicas each).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RUN_JS, labStatus } from '../../../src/lab/lab.js';
import { FOREIGN_ORIGIN, parseMisconfigs } from '../../../src/lab/misconfig.js';
import { sleep, tailFile } from '../../../src/infra/process/daemon.js';
import type { LabState } from '../../../src/infra/lab-state.js';
import { generateText } from '../../../src/protocol/ground-truth.js';
import { openSocket, signin, socketChat, sseChat, wsHandshake, type SioClient } from './lab-clients.js';
import { fileResource, resource } from '../../helpers/resources.js';
import { startLab } from '../../helpers/test-lab.js';

interface Lab {
  state: LabState;
  stateDir: string;
  sockets: SioClient[];
}

/**
 * One lab per describe block: started in beforeAll, disposed in afterAll — stopped and proven
 * stopped (test/helpers/test-lab.ts). The dir is made at start, not at collection: a describe
 * filtered out by -t runs neither hook.
 */
function useLab(tag: string, misconfig: string): () => Lab {
  let sockets: SioClient[] = [];
  const lab = fileResource(
    async () => {
      sockets = [];
      const stateDir = mkdtempSync(join(tmpdir(), `owui-lab-mc-${tag}-`));
      const started = await startLab({
        name: `mc-${tag}-${process.pid}`,
        stateDir,
        replicas: 2,
        misconfig: parseMisconfigs(misconfig),
      });
      return resource({ state: started.state, stateDir, sockets }, async () => {
        for (const s of sockets) s.close();
        await started[Symbol.asyncDispose]();
      });
    },
    { what: `lab ${tag}`, startTimeoutMs: 90_000 },
  );
  return lab;
}

async function modelsStatus(baseUrl: string, token: string, origin?: string): Promise<number> {
  const res = await fetch(`${baseUrl}/api/models`, {
    headers: { authorization: `Bearer ${token}`, ...(origin ? { origin } : {}) },
  });
  await res.arrayBuffer();
  return res.status;
}

const QUICK = { firstTokenMs: 0, tokensPerSecond: 0 };

describe('lab up --misconfig validation', () => {
  it('refuses an unknown name before starting anything: exit 2, the valid names listed', () => {
    const home = mkdtempSync(join(tmpdir(), 'owui-lab-mc-bad-'));
    try {
      const r = spawnSync(
        process.execPath,
        [RUN_JS, 'lab', 'up', '--name', 'mc-bad', '--misconfig', 'buffering,cors'],
        {
          encoding: 'utf8',
          timeout: 60_000,
          env: { ...process.env, OWUI_CHAOS_HOME: home },
        },
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('Unknown misconfiguration `cors`');
      expect(r.stderr).toContain('cors-mismatch');
      expect(r.stderr).toContain('short-read-timeout');
      expect(r.stdout).not.toContain('starting');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('healthy lab (negative control for every switch)', () => {
  const lab = useLab('healthy', '');

  it('records no switch', async () => {
    const status = await labStatus(lab().stateDir);
    expect(status.misconfig).toEqual([]);
    expect(status.healthy).toBe(true);
  });

  it('upgrades a websocket through nginx (101), also with the site\u2019s Origin', async () => {
    const { state } = lab();
    expect((await wsHandshake(state.nginx!.url)).status).toBe(101);
    expect((await wsHandshake(state.nginx!.url, { origin: state.nginx!.url })).status).toBe(101);
  });

  it('accepts a token signed by one replica on the other', async () => {
    const { state } = lab();
    const [a, b] = state.replicas;
    const token = await signin(a!.url, state.admin!.email, state.admin!.password);
    expect(await modelsStatus(b!.url, token)).toBe(200);
  });

  it('delivers a chat POSTed to replica A to a browser socket on replica B', async () => {
    const { state, sockets } = lab();
    const [a, b] = state.replicas;
    const token = await signin(state.nginx!.url, state.admin!.email, state.admin!.password);
    const socket = await openSocket(b!.url, token, { origin: state.nginx!.url });
    sockets.push(socket);
    const chat = await socketChat(a!.url, token, socket, { seed: 21, tokens: 12, ...QUICK }, 10_000);
    expect(chat.postReplica).toBe(a!.name);
    expect(chat.done).toBe(true);
    expect(chat.text).toBe(generateText(21, 12));
  });

  it('keeps a stream whose first token comes after 3 s of silence', async () => {
    const { state } = lab();
    const token = await signin(state.nginx!.url, state.admin!.email, state.admin!.password);
    const r = await sseChat(state.nginx!.url, token, {
      seed: 22,
      tokens: 5,
      firstTokenMs: 3000,
      tokensPerSecond: 0,
    });
    expect(r.status).toBe(200);
    expect(r.done).toBe(true);
  });
});

describe('no-upgrade-headers + secret-per-replica', () => {
  const lab = useLab('hdr-secret', 'no-upgrade-headers,secret-per-replica');

  it('lab status (and its --json) shows the switches', async () => {
    const { stateDir } = lab();
    const status = await labStatus(stateDir);
    expect(status.misconfig).toEqual([{ name: 'no-upgrade-headers' }, { name: 'secret-per-replica' }]);
    const cli = spawnSync(process.execPath, [RUN_JS, 'lab', 'status', '--state-dir', stateDir, '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const json = JSON.parse(cli.stdout) as { misconfig?: unknown };
    expect(json.misconfig).toEqual([{ name: 'no-upgrade-headers' }, { name: 'secret-per-replica' }]);
  });

  it('no-upgrade-headers: the handshake gets 400 through nginx, 101 on the replica itself', async () => {
    const { state } = lab();
    const viaNginx = await wsHandshake(state.nginx!.url, { origin: state.nginx!.url });
    expect(viaNginx.status).toBe(400);
    expect(viaNginx.body).toContain('Invalid WebSocket upgrade request');
    for (const r of state.replicas)
      expect((await wsHandshake(r.url, { origin: state.nginx!.url })).status).toBe(101);
  });

  it('secret-per-replica: a token signed by replica 1 gets 401 on replica 2, 200 on replica 1', async () => {
    const { state } = lab();
    const [a, b] = state.replicas;
    const token = await signin(a!.url, state.admin!.email, state.admin!.password);
    expect(await modelsStatus(a!.url, token)).toBe(200);
    expect(await modelsStatus(b!.url, token)).toBe(401);
    // The socket side: the token joins no room there, so user-join is acked empty.
    const socket = await openSocket(b!.url, token);
    lab().sockets.push(socket);
    expect(await socket.emitWithAck('user-join', { auth: { token } })).toEqual([]);
    const own = await openSocket(a!.url, token);
    lab().sockets.push(own);
    const ack = await own.emitWithAck('user-join', { auth: { token } });
    expect(ack[0]).toMatchObject({ id: expect.any(String) });
  });
});

describe('cors-mismatch + local-websocket-manager + short-read-timeout=2s', () => {
  const lab = useLab('cors-local-timeout', 'cors-mismatch,local-websocket-manager,short-read-timeout=2s');

  it('cors-mismatch: a handshake with the site\u2019s Origin is refused with Open WebUI\u2019s origin error; HTTP keeps working', async () => {
    const { state } = lab();
    const site = state.nginx!.url;
    const refused = await wsHandshake(site, { origin: site });
    // As real Open WebUI 0.12.4 answers (conformance suite): a bare 403, empty body.
    expect(refused.status).toBe(403);
    expect(refused.body).toBe('');
    // The foreign origin CORS names is accepted; a client sending no Origin is not checked at all
    // (which is why browser clients must send one).
    expect((await wsHandshake(site, { origin: FOREIGN_ORIGIN })).status).toBe(101);
    expect((await wsHandshake(site)).status).toBe(101);
    const token = await signin(site, state.admin!.email, state.admin!.password);
    expect(await modelsStatus(site, token, site)).toBe(200);
  });

  it('local-websocket-manager: a chat answered by another replica never reaches the socket; the same replica works', async () => {
    const { state, sockets } = lab();
    const [a, b] = state.replicas;
    const token = await signin(state.nginx!.url, state.admin!.email, state.admin!.password);
    const socket = await openSocket(b!.url, token, { origin: FOREIGN_ORIGIN });
    sockets.push(socket);
    const other = await socketChat(a!.url, token, socket, { seed: 31, tokens: 6, ...QUICK }, 4000);
    expect(other.status).toBe(200);
    expect(other.done).toBe(false);
    expect(socket.events.filter((e) => e.name === 'events')).toEqual([]);
    const same = await socketChat(b!.url, token, socket, { seed: 32, tokens: 6, ...QUICK }, 10_000);
    expect(same.done).toBe(true);
    expect(same.text).toBe(generateText(32, 6));
  });

  it('short-read-timeout=2s: nginx cuts a stream silent for 4 s, and an idle socket', async () => {
    const { state, sockets } = lab();
    const site = state.nginx!.url;
    const token = await signin(site, state.admin!.email, state.admin!.password);
    const silent = await sseChat(site, token, {
      seed: 33,
      tokens: 5,
      firstTokenMs: 4000,
      tokensPerSecond: 0,
    });
    expect(silent.done).toBe(false);
    expect(silent.e2eMs).toBeLessThan(3900);
    expect(silent.status === 504 || silent.error !== undefined, JSON.stringify(silent)).toBe(true);
    // A short silence passes.
    const quick = await sseChat(site, token, { seed: 34, tokens: 5, firstTokenMs: 500, tokensPerSecond: 0 });
    expect(quick.done).toBe(true);
    // Engine.IO pings every 25 s: an idle socket through nginx is closed after ~2 s.
    const socket = await openSocket(site, token, { origin: FOREIGN_ORIGIN });
    sockets.push(socket);
    const t0 = performance.now();
    const closedIn = await Promise.race([
      socket.closed.then(() => performance.now() - t0),
      sleep(10_000).then(() => -1),
    ]);
    expect(closedIn).toBeGreaterThan(1000);
    expect(closedIn).toBeLessThan(8000);
  });
});

describe('buffering', () => {
  const lab = useLab('buffering', 'buffering');

  it('holds a small SSE stream until its end (ttft ≈ e2e); websockets are untouched', async () => {
    const { state } = lab();
    const token = await signin(state.nginx!.url, state.admin!.email, state.admin!.password);
    const r = await sseChat(state.nginx!.url, token, {
      seed: 41,
      tokens: 8,
      firstTokenMs: 150,
      tokensPerSecond: 5,
    });
    expect(r.done).toBe(true);
    expect(r.content).toBe(generateText(41, 8));
    expect(r.e2eMs).toBeGreaterThan(1200);
    expect(r.ttftMs!).toBeGreaterThan(0.8 * r.e2eMs);
    expect((await wsHandshake(state.nginx!.url)).status).toBe(101);
    expect((await labStatus(lab().stateDir)).buffering).toBe('on');
  });
});

describe('http1.0-upstream', () => {
  const lab = useLab('http10', 'http1.0-upstream');

  it('on its own (buffering off, upgrade headers set) nginx still streams SSE and upgrades websockets', async () => {
    // Measured on nginx 1.22: with Upgrade/Connection set explicitly nginx tunnels a 101 even over
    // an HTTP/1.0 upstream request, and an unbuffered close-delimited body streams. The mistake
    // bites together with `buffering` (docs/lab-misconfig.md).
    const { state } = lab();
    const token = await signin(state.nginx!.url, state.admin!.email, state.admin!.password);
    const r = await sseChat(state.nginx!.url, token, {
      seed: 51,
      tokens: 8,
      firstTokenMs: 150,
      tokensPerSecond: 5,
    });
    expect(r.done).toBe(true);
    expect(r.ttftMs!).toBeLessThan(0.5 * r.e2eMs);
    expect((await wsHandshake(state.nginx!.url)).status).toBe(101);
  });
});

describe('pinned-redis-master', () => {
  const lab = useLab('pinned', 'pinned-redis-master');

  it('works until a Sentinel failover, then writes keep failing (READONLY on the demoted node)', async () => {
    const { state, sockets } = lab();
    const [a] = state.replicas;
    const redis = state.redis!;
    const token = await signin(a!.url, state.admin!.email, state.admin!.password);
    const socket = await openSocket(a!.url, token);
    sockets.push(socket);
    const before = await socketChat(a!.url, token, socket, { seed: 61, tokens: 4, ...QUICK }, 10_000);
    expect(before.done).toBe(true);

    const sentinel = new Redis({ host: '127.0.0.1', port: redis.sentinels[0]!.port, lazyConnect: true });
    sentinel.on('error', () => undefined);
    await sentinel.connect();
    try {
      await sentinel.call('SENTINEL', 'FAILOVER', redis.masterName);
      const t0 = performance.now();
      let master = '';
      while (!master.endsWith(`:${redis.replica.port}`) && performance.now() - t0 < 15_000) {
        const reply = (await sentinel.call(
          'SENTINEL',
          'get-master-addr-by-name',
          redis.masterName,
        )) as string[];
        master = `${reply[0]}:${reply[1]}`;
        if (!master.endsWith(`:${redis.replica.port}`)) await sleep(100);
      }
      expect(master).toBe(`127.0.0.1:${redis.replica.port}`);
      // Wait for the old master to be demoted (its role is what the pinned replicas talk to).
      const old = new Redis({ host: '127.0.0.1', port: redis.master.port, lazyConnect: true });
      old.on('error', () => undefined);
      await old.connect();
      try {
        let role = '';
        while (role !== 'slave' && performance.now() - t0 < 20_000) {
          role = /role:(\w+)/.exec(await old.info('replication'))?.[1] ?? '';
          if (role !== 'slave') await sleep(200);
        }
        expect(role).toBe('slave');
      } finally {
        old.disconnect();
      }
      // A healthy lab recovers within seconds (test/integration/lab/lab-process.test.ts); the
      // pinned one keeps failing: every socket-mode chat for 6 s is a 5xx.
      const statuses: number[] = [];
      const end = performance.now() + 6000;
      while (performance.now() < end) {
        const chat = await socketChat(a!.url, token, socket, { seed: 62, tokens: 4, ...QUICK }, 3000);
        statuses.push(chat.status);
        await sleep(300);
      }
      expect(statuses.length).toBeGreaterThan(3);
      expect(
        statuses.filter((s) => s < 500),
        `${statuses.join(',')}\n${tailFile(a!.spawn.logFile, 10)}`,
      ).toEqual([]);
      expect(tailFile(a!.spawn.logFile, 40)).toContain('READONLY');
    } finally {
      sentinel.disconnect();
    }
  });
});
