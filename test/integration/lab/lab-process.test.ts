// The lab in process mode, end to end with real processes: one lab shared by the file's tests
// (2 replicas keep it light on 2 cores). Order matters: the destructive tests (failover, replica
// kill) run last, and the lab's dispose (test/helpers/test-lab.ts) proves `lab down` leaves no
// process or listening port behind and that a second `lab down` finds nothing to do.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget } from '../../../src/core/config/target.js';
import { labStatus, PROXY_LLM, PROXY_REDIS_MASTER, PROXY_REDIS_REPLICA } from '../../../src/lab/lab.js';
import { reloadNginx } from '../../../src/lab/nginx/nginx-process.js';
import { setProxyBuffering } from '../../../src/infra/nginx-buffering.js';
import { sleep, tailFile } from '../../../src/infra/process/daemon.js';
import type { LabState } from '../../../src/infra/lab-state.js';
import { generateText } from '../../../src/protocol/ground-truth.js';
import { openSocket, signin, socketChat, sseChat, type SioClient } from './lab-clients.js';
import { fileResource } from '../../helpers/resources.js';
import { startLab } from '../../helpers/test-lab.js';

let state: LabState;
let token: string;
const stateDir = mkdtempSync(join(tmpdir(), 'owui-lab-proc-'));
const sockets: SioClient[] = [];

const progress: string[] = [];
const lab = fileResource(
  () =>
    startLab({
      name: `proc-${process.pid}`,
      stateDir,
      replicas: 2,
      buffering: 'off',
      onProgress: (m) => progress.push(m),
      checkPorts: true,
    }),
  { what: 'the process lab', startTimeoutMs: 90_000 },
);

beforeAll(async () => {
  state = lab().state;
  expect(progress.at(-1)).toMatch(/is up/);
  token = await signin(state.nginx!.url, state.admin!.email, state.admin!.password);
}, 30_000);

// Runs before the lab's dispose (after-hooks run last registered first).
afterAll(() => {
  for (const s of sockets) s.close();
});

describe('lab up (process mode)', () => {
  it('starts every part healthy and reports each in lab status', async () => {
    const status = await labStatus(stateDir);
    expect(status.parts.filter((p) => !p.healthy)).toEqual([]);
    expect(status.healthy).toBe(true);
    expect(status.parts.map((p) => p.part).sort()).toEqual(
      [
        'mock-llm',
        'nginx',
        'redis',
        'redis',
        'replica',
        'replica',
        'sentinel',
        'sentinel',
        'sentinel',
        'toxiproxy',
      ].sort(),
    );
    // Every Sentinel sees the master, through which the replicas' Redis traffic is proxied.
    expect(status.sentinels.map((s) => s.master)).toEqual(
      Array(3).fill(`127.0.0.1:${state.redis!.master.port}`),
    );
    expect(status.toxiproxy?.proxies.map((p) => p.name).sort()).toEqual(
      [PROXY_LLM, PROXY_REDIS_MASTER, PROXY_REDIS_REPLICA].sort(),
    );
    // nginx spreads probes over both replicas.
    expect(Object.keys(status.nginx!.replicas).sort()).toEqual(['owui-1', 'owui-2']);
  });

  it('writes a target file that validates against the target schema', async () => {
    const text = readFileSync(state.targetFile!, 'utf8');
    const { target } = await parseTarget(text, state.targetFile!);
    expect(target.openwebui.url).toBe(state.nginx!.url);
    expect(target.openwebui.replicas?.map((r) => r.name)).toEqual(['owui-1', 'owui-2']);
    expect(target.replicas).toEqual({ type: 'lab-process', 'lab-process': { stateDir } });
    expect(target.redis?.sentinels).toHaveLength(3);
    expect(target.toxiproxy?.proxies?.map((p) => p.name)).toContain('llm');
    expect(target.nginx).toMatchObject({ type: 'local', config: state.nginx!.configFile });
  });

  it('delivers a chat POSTed to replica A to a socket connected to replica B (Redis fan-out)', async () => {
    const [a, b] = state.replicas;
    const socket = await openSocket(b!.url, token);
    sockets.push(socket);
    expect(socket.replica).toBe(b!.name);
    const chat = await socketChat(a!.url, token, socket, {
      seed: 11,
      tokens: 30,
      firstTokenMs: 0,
      tokensPerSecond: 0,
    });
    expect(chat.status).toBe(200);
    expect(chat.postReplica).toBe(a!.name);
    expect(chat.done).toBe(true);
    expect(chat.text).toBe(generateText(11, 30));
  });

  it('streams SSE through nginx unbuffered (ttft ≈ first-token delay) and buffered (ttft ≈ e2e)', async () => {
    // Small enough (< one 4 KB nginx buffer) that buffering holds everything until the end.
    const directive = { seed: 5, tokens: 8, firstTokenMs: 150, tokensPerSecond: 5 };
    const off = await sseChat(state.nginx!.url, token, directive);
    expect(off.done).toBe(true);
    expect(off.ttftMs!).toBeGreaterThanOrEqual(140);
    expect(off.ttftMs!).toBeLessThan(150 + 400);
    expect(off.e2eMs).toBeGreaterThan(1200);

    const original = readFileSync(state.nginx!.configFile, 'utf8');
    await reloadNginx(state.nginx!, setProxyBuffering(original, 'on'), original);
    try {
      await sleep(500); // the old workers finish; new connections get the new config
      const on = await sseChat(state.nginx!.url, token, directive);
      expect(on.done).toBe(true);
      expect(on.content).toBe(generateText(5, 8));
      expect(on.ttftMs!).toBeGreaterThan(0.8 * on.e2eMs);
      expect(on.ttftMs!).toBeGreaterThan(off.ttftMs! + 800);
    } finally {
      await reloadNginx(state.nginx!, original);
      await sleep(500);
    }
  });

  it('raises time to first token by the latency of a toxic on the llm proxy', async () => {
    const directive = { seed: 3, tokens: 5, firstTokenMs: 50, tokensPerSecond: 0 };
    const base = await sseChat(state.nginx!.url, token, directive);
    expect(base.done).toBe(true);
    const toxiUrl = state.toxiproxy!.url;
    const res = await fetch(`${toxiUrl}/proxies/${PROXY_LLM}/toxics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'slow-llm',
        type: 'latency',
        stream: 'downstream',
        toxicity: 1,
        attributes: { latency: 700, jitter: 0 },
      }),
    });
    expect(res.ok).toBe(true);
    try {
      const slow = await sseChat(state.nginx!.url, token, directive);
      expect(slow.done).toBe(true);
      const raised = slow.ttftMs! - base.ttftMs!;
      expect(raised).toBeGreaterThan(600);
      expect(raised).toBeLessThan(700 + 600);
    } finally {
      const del = await fetch(`${toxiUrl}/proxies/${PROXY_LLM}/toxics/slow-llm`, { method: 'DELETE' });
      expect(del.status).toBe(204);
    }
  });

  it('follows a SENTINEL FAILOVER: the replica is promoted and chats work again within seconds', async () => {
    const redis = state.redis!;
    const sentinel = new Redis({
      host: '127.0.0.1',
      port: redis.sentinels[0]!.port,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    sentinel.on('error', () => undefined);
    await sentinel.connect();
    try {
      const t0 = performance.now();
      await sentinel.call('SENTINEL', 'FAILOVER', redis.masterName);
      let master = '';
      for (let i = 0; i < 150 && !master.endsWith(`:${redis.replica.port}`); i++) {
        const reply = (await sentinel.call(
          'SENTINEL',
          'get-master-addr-by-name',
          redis.masterName,
        )) as string[];
        master = `${reply[0]}:${reply[1]}`;
        if (!master.endsWith(`:${redis.replica.port}`)) await sleep(100);
      }
      expect(master).toBe(`127.0.0.1:${redis.replica.port}`);
      // Sentinel then turns the old master into a replica (and kills its client connections, one
      // more thing the simulators must survive). Its resync is not awaited: Redis 7 delays a
      // diskless sync by 5 s (repl-diskless-sync-delay), and chats do not need it.
      let demoted = false;
      while (!demoted && performance.now() - t0 < 15_000) {
        const replicas = (await sentinel.call('SENTINEL', 'replicas', redis.masterName)) as string[][];
        demoted = replicas.some((fields) => {
          const f = new Map<string, string>();
          for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
          return (
            f.get('port') === String(redis.master.port) &&
            /(^|,)slave(,|$)/.test(f.get('flags') ?? '') &&
            !/s_down/.test(f.get('flags') ?? '')
          );
        });
        if (!demoted) await sleep(100);
      }
      expect(demoted, 'the old master did not rejoin as a replica').toBe(true);

      // Chats work again within seconds: on every replica directly, through nginx, and across
      // replicas over the socket (pub/sub re-subscribed on the new master). Transient 5xx right
      // after the switch are expected (Open WebUI's 2 immediate retries); they must end.
      const [a, b] = state.replicas;
      const socket = await openSocket(b!.url, token);
      sockets.push(socket);
      const directive = { seed: 2, tokens: 10, firstTokenMs: 0, tokensPerSecond: 0 };
      const log: string[] = [];
      let goodRounds = 0;
      while (goodRounds < 2 && performance.now() - t0 < 15_000) {
        const outcomes = await Promise.all([
          ...[a!.url, b!.url, state.nginx!.url].map((url) =>
            sseChat(url, token, directive, { timeoutMs: 3000 }),
          ),
        ]);
        // A socket that connected while Redis was switching joined no room (always_connect, as in
        // Open WebUI); the browser's `user-join` on every (re)connect is what puts it back.
        await socket.emitWithAck('user-join', { auth: { token } }).catch(() => undefined);
        const chat = await socketChat(a!.url, token, socket, directive, 3000);
        const ok = outcomes.every((o) => o.done) && chat.done && chat.text === generateText(2, 10);
        log.push(
          `${Math.round(performance.now() - t0)} ms: ${outcomes.map((o) => (o.done ? 'ok' : `${o.status} ${o.error ?? ''} ${o.errorBody ?? ''}`)).join(' | ')} | socket ${chat.done ? 'ok' : chat.status}`,
        );
        goodRounds = ok ? goodRounds + 1 : 0;
        if (!ok) await sleep(250);
      }
      if (goodRounds < 2) {
        for (const r of state.replicas) log.push(`--- ${r.name} log:`, tailFile(r.spawn.logFile, 15));
      }
      expect(goodRounds, log.join('\n')).toBe(2);
    } finally {
      sentinel.disconnect();
    }
  });

  it('a SIGKILLed replica cuts its SSE streams without [DONE]; its sockets drop and reconnect elsewhere', async () => {
    const victim = state.replicas[0]!;
    // Sockets through nginx until one lands on the victim (least_conn alternates).
    let onVictim: SioClient | undefined;
    for (let i = 0; i < 6 && !onVictim; i++) {
      const s = await openSocket(state.nginx!.url, token);
      sockets.push(s);
      if (s.replica === victim.name) onVictim = s;
    }
    expect(onVictim, 'no socket landed on the victim replica').toBeDefined();

    let killedAt = 0;
    const stream = sseChat(
      victim.url,
      token,
      { seed: 9, tokens: 60, firstTokenMs: 0, tokensPerSecond: 20 },
      {
        onFirstToken: () => {
          killedAt = performance.now();
          process.kill(victim.pid!, 'SIGKILL');
        },
      },
    );
    const cut = await stream;
    expect(
      killedAt,
      `no token before the stream ended: ${JSON.stringify({ ...cut, headers: undefined })}`,
    ).toBeGreaterThan(0);
    expect(cut.status).toBe(200);
    expect(cut.done).toBe(false);
    expect(cut.error).toBeDefined();
    expect(cut.content.length).toBeGreaterThan(0);
    expect(generateText(9, 60).slice(0, cut.content.length)).toBe(cut.content);

    await Promise.race([
      onVictim!.closed,
      sleep(5000).then(() => Promise.reject(new Error('socket on the killed replica stayed open'))),
    ]);
    // Reconnect through nginx: it lands on a live replica, and chats reach it again.
    const again = await openSocket(state.nginx!.url, token);
    sockets.push(again);
    expect(again.replica).not.toBe(victim.name);
    expect(again.replica).toBe(state.replicas[1]!.name);
    await again.emitWithAck('user-join', { auth: { token } });
    const chat = await socketChat(state.nginx!.url, token, again, {
      seed: 4,
      tokens: 10,
      firstTokenMs: 0,
      tokensPerSecond: 0,
    });
    expect(chat.done, JSON.stringify(chat)).toBe(true);
  });
});
