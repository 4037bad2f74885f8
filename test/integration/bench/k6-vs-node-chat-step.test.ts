// The k6-vs-Node bench's chatting-browser-clients step (bench/k6/browser-chat.ts, docs/k6.md
// "Side by side") with the Node engine against the bench's own simulator + mock LLM child: healthy
// clients all join, chats complete and the loop-lag probe gives samples; clients whose tokens the
// simulator refuses never join, and the step is then not "held" whatever its lag. Needs the built
// engine (`npm run build`), as the bench does.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatStep } from '../../../bench/k6/browser-chat.js';
import { startChatServers, type ChatServers } from '../../../bench/k6/chat-servers.js';

const CLIENTS = 3;
let servers: ChatServers;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owui-chaos-chat-step-'));
  servers = await startChatServers(CLIENTS);
});

afterAll(async () => {
  await servers?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the bench chat step (Node engine)', () => {
  it('healthy clients: every client joins, chats complete, the probe samples the workers', async () => {
    // Each case in a directory of its own: the step's file names depend on engine and N only.
    const work = join(dir, 'good');
    mkdirSync(work);
    const file = join(work, 'credentials.json');
    writeFileSync(file, JSON.stringify(servers.credentials));
    const row = await chatStep('node', undefined, 'node', servers.url, file, CLIENTS, 20, work);
    expect(row.measured).toBe(true);
    expect(row.joins).toBe(CLIENTS);
    expect(row.neverJoined).toBe(0);
    expect(row.failedChats).toBe(0);
    expect(row.outcomes['completed'] ?? 0).toBeGreaterThanOrEqual(CLIENTS);
    expect(row.events).toBeGreaterThan(0);
    // Two workers, a timer every 50 ms, over a window of ≥ 8 s.
    expect(row.lagSamples).toBeGreaterThan(200);
    expect(row.cpuSecondsPer1000Events).not.toBeNull();
  });

  it('refused tokens: nobody joins and the step is not held', async () => {
    const work = join(dir, 'bad');
    mkdirSync(work);
    const file = join(work, 'credentials.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...servers.credentials,
        users: servers.credentials.users.map((u) => ({ ...u, token: 'not-a-valid-jwt' })),
      }),
    );
    const row = await chatStep('node', undefined, 'node', servers.url, file, CLIENTS, 20, work);
    console.log(`[chat-step refused tokens] ${JSON.stringify(row)}`);
    // The simulator answers such a user-join with an empty ack: join_refused, never joined.
    expect(row.joins).toBe(0);
    expect(row.neverJoined).toBe(CLIENTS);
    expect(row.outcomes['completed'] ?? 0).toBe(0);
    expect(row.held).toBe(false);
  });
});
