// The lab with `--replicas-in docker`: replicas are containers from the locally imported base image
// on the host network, found by their labels. Skips (saying why) when no Docker engine answers;
// CI starts dockerd (.ci/run → scripts/setup.sh).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget } from '../../../src/core/config/target.js';
import {
  connectDocker,
  dockerAvailable,
  listLabContainers,
} from '../../../src/lab/docker/docker-replicas.js';
import { labDown, labPids, labPorts, labStatus, labUp } from '../../../src/lab/lab.js';
import { isAlive, tcpOpen } from '../../../src/infra/process/daemon.js';
import type { LabState } from '../../../src/infra/lab-state.js';
import { generateText } from '../../../src/protocol/ground-truth.js';
import { openSocket, signin, socketChat, sseChat } from './lab-clients.js';

const docker = await dockerAvailable();
if (!docker)
  console.warn(
    'lab-docker.test.ts skipped: no Docker engine answers (start one with `bash scripts/setup.sh` or `dockerd &`)',
  );

describe.skipIf(!docker)('lab up --replicas-in docker', () => {
  const name = `dock-${process.pid}`;
  let stateDir = '';
  let state: LabState;
  let token: string;

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'owui-lab-docker-'));
    state = await labUp({ name, stateDir, replicas: 2, replicasIn: 'docker' });
    token = await signin(state.nginx!.url, state.admin!.email, state.admin!.password);
  }, 120_000);

  afterAll(async () => {
    try {
      if (!state) {
        if (stateDir) await labDown(stateDir);
        return;
      }
      const pids = labPids(state).map((p) => p.pid);
      const ports = labPorts(state);
      const result = await labDown(stateDir);
      expect(result.errors).toEqual([]);
      expect(result.containersRemoved).toHaveLength(2);
      expect(await listLabContainers(await connectDocker(), name)).toEqual([]);
      expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
      const open: number[] = [];
      for (const port of ports) if (await tcpOpen(port)) open.push(port);
      expect(open).toEqual([]);
    } finally {
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs each replica as a labelled container and reports every part healthy', async () => {
    const containers = await listLabContainers(await connectDocker(), name);
    expect(containers.map((c) => c.Names[0]).sort()).toEqual([
      `/owui-chaos-${name}-owui-1`,
      `/owui-chaos-${name}-owui-2`,
    ]);
    for (const c of containers) {
      expect(c.State).toBe('running');
      expect(c.Image).toBe('owui-chaos-base:latest');
      expect(c.Labels).toMatchObject({ 'owui-chaos.lab': name, 'com.docker.compose.service': 'open-webui' });
      expect(c.HostConfig.NetworkMode).toBe('host');
    }
    const status = await labStatus(stateDir);
    expect(status.parts.filter((p) => !p.healthy)).toEqual([]);
    expect(status.parts.filter((p) => p.part === 'replica').every((p) => p.containerId !== undefined)).toBe(
      true,
    );
  });

  it('writes a docker target that finds the replicas by label', async () => {
    const { target } = await parseTarget(readFileSync(state.targetFile!, 'utf8'), state.targetFile!);
    expect(target.replicas).toEqual({ type: 'docker', docker: { label: `owui-chaos.lab=${name}` } });
  });

  it('serves chats through nginx and fans out across the containers', async () => {
    const sse = await sseChat(state.nginx!.url, token, {
      seed: 21,
      tokens: 20,
      firstTokenMs: 0,
      tokensPerSecond: 0,
    });
    expect(sse.done).toBe(true);
    expect(sse.content).toBe(generateText(21, 20));
    const [a, b] = state.replicas;
    const socket = await openSocket(b!.url, token);
    try {
      const chat = await socketChat(a!.url, token, socket, {
        seed: 22,
        tokens: 20,
        firstTokenMs: 0,
        tokensPerSecond: 0,
      });
      expect(chat.postReplica).toBe(a!.name);
      expect(chat.done).toBe(true);
      expect(chat.text).toBe(generateText(22, 20));
    } finally {
      socket.close();
    }
  });
});
