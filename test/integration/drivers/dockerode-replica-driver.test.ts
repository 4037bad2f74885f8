// DockerodeReplicaDriver against a real Docker engine: two containers built from a local base image
// (no registry) run the host's node on the host network; every verb is observed from outside
// (HTTP refused after kill/stop, hanging while paused, answering again after start/unpause).

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultError } from '../../../src/core/errors.js';
import { DockerodeReplicaDriver } from '../../../src/drivers/docker/dockerode-replica-driver.js';
import type { DriverLogEntry } from '../../../src/drivers/driver-log.js';
import { freePort } from '../../../src/infra/process/daemon.js';
import { HEALTH_SERVER_SCRIPT, httpGet } from './http-probe.js';

const run = promisify(execFile);
const IMAGE = 'owui-chaos-base:latest';
const uniq = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
const created: string[] = [];

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { timeout: 60_000 });
  return stdout.trim();
}

async function engineReason(): Promise<string | undefined> {
  try {
    await docker('info', '--format', '{{.ServerVersion}}');
    return undefined;
  } catch (err) {
    return `no Docker engine reachable (${(err as Error).message.split('\n')[0]}); start one with \`dockerd &\``;
  }
}

const skipReason = await engineReason();
if (skipReason) console.warn(`[skip] dockerode-replica-driver: ${skipReason}`);

interface Replica {
  name: string;
  url: string;
}

async function runReplica(index: number): Promise<Replica> {
  const port = await freePort();
  const name = `owui-chaos-test-${uniq}-${index}`;
  const url = `http://127.0.0.1:${port}`;
  const mounts = ['/usr', '/lib', '/lib64', '/etc', '/bin', '/sbin'].flatMap((d) => ['-v', `${d}:${d}:ro`]);
  created.push(name);
  await docker(
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'host',
    '--label',
    `owui-chaos.test=${uniq}`,
    '--label',
    `owui-chaos.url=${url}`,
    '--label',
    `com.docker.compose.service=open-webui-${uniq}`,
    '--label',
    `com.docker.compose.project=proj-${uniq}`,
    '-e',
    `PORT=${port}`,
    ...mounts,
    IMAGE,
    '/usr/bin/node',
    '-e',
    HEALTH_SERVER_SCRIPT,
  );
  return { name, url };
}

describe.skipIf(skipReason !== undefined)('DockerodeReplicaDriver (real containers)', () => {
  let a: Replica;
  let b: Replica;
  const logs: DriverLogEntry[] = [];
  let driver: DockerodeReplicaDriver;

  beforeAll(async () => {
    try {
      await docker('image', 'inspect', IMAGE);
    } catch {
      // An empty root filesystem: everything the container runs is bind-mounted from the host.
      await run('sh', ['-c', `tar -cf - --files-from /dev/null | docker import - ${IMAGE}`], {
        timeout: 60_000,
      });
    }
    a = await runReplica(1);
    b = await runReplica(2);
    driver = new DockerodeReplicaDriver({ labels: [`owui-chaos.test=${uniq}`], logger: (e) => logs.push(e) });
  });

  afterAll(async () => {
    for (const name of created) await docker('rm', '-f', name).catch(() => undefined);
  });

  it('finds replicas by label, by compose service and by name, with their URLs', async () => {
    const byLabel = await driver.list();
    expect(byLabel.map((r) => r.name)).toEqual([a.name, b.name]);
    expect(byLabel.map((r) => r.url)).toEqual([a.url, b.url]);
    expect(byLabel.every((r) => r.state === 'running' && /^[0-9a-f]{64}$/.test(r.id))).toBe(true);

    const byCompose = new DockerodeReplicaDriver({
      composeService: `open-webui-${uniq}`,
      composeProject: `proj-${uniq}`,
    });
    expect((await byCompose.list()).map((r) => r.name)).toEqual([a.name, b.name]);
    const otherProject = new DockerodeReplicaDriver({
      composeService: `open-webui-${uniq}`,
      composeProject: 'nope',
    });
    expect(await otherProject.list()).toEqual([]);

    const byName = new DockerodeReplicaDriver({ names: [b.name], urls: { [b.name]: 'http://127.0.0.1:1' } });
    const found = await byName.list();
    expect(found.map((r) => [r.name, r.url])).toEqual([[b.name, 'http://127.0.0.1:1']]);
    expect(logs.some((e) => e.phase === 'doing' && e.message.startsWith('doing list replicas'))).toBe(true);
    expect(logs.some((e) => e.phase === 'did')).toBe(true);
  });

  it('waits until the replica answers /health', async () => {
    await driver.waitHealthy(a.name, 15_000);
    await driver.waitHealthy(b.name, 15_000);
    expect(await httpGet(`${a.url}/health`)).toMatchObject({ kind: 'answered', status: 200 });
  });

  it('pause makes requests hang; unpause makes them answer again', async () => {
    await driver.pause(a.name);
    await driver.pause(a.name); // idempotent
    expect((await driver.list()).find((r) => r.name === a.name)?.state).toBe('paused');
    expect((await httpGet(`${a.url}/health`, 800)).kind).toBe('timeout');
    expect((await httpGet(`${b.url}/health`)).kind).toBe('answered');
    await driver.unpause(a.name);
    await driver.unpause(a.name); // idempotent
    expect(await httpGet(`${a.url}/health`)).toMatchObject({ kind: 'answered', status: 200 });
  });

  it('kill makes the port refuse connections; start brings it back healthy', async () => {
    const [info] = await driver.list();
    await driver.kill(info!.id);
    expect((await driver.list()).find((r) => r.name === a.name)?.state).toBe('stopped');
    expect((await httpGet(`${a.url}/health`)).kind).toBe('refused');
    await driver.kill(info!.id); // killing a dead container is not an error (replayable reverts)
    await driver.start(info!.id);
    await driver.start(info!.id); // idempotent
    await driver.waitHealthy(info!.id, 15_000);
    expect(await httpGet(`${a.url}/health`)).toMatchObject({ kind: 'answered', status: 200 });
  });

  it('stop refuses connections; restart answers again with a new process', async () => {
    await driver.stop(b.name);
    await driver.stop(b.name); // idempotent
    expect((await httpGet(`${b.url}/health`)).kind).toBe('refused');
    await driver.start(b.name);
    await driver.waitHealthy(b.name, 15_000);
    await driver.restart(b.name);
    await driver.waitHealthy(b.name, 15_000);
    expect(await httpGet(`${b.url}/health`)).toMatchObject({ kind: 'answered', status: 200 });
  });

  it('waitHealthy on a stopped replica fails with the budget in the message', async () => {
    await driver.stop(a.name);
    const err = await driver.waitHealthy(a.name, 700).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultError);
    expect((err as FaultError).code).toBe('REPLICA_UNHEALTHY');
    expect((err as FaultError).message).toMatch(/did not become running and healthy within 700 ms/);
    expect(logs.some((e) => e.phase === 'failed' && e.action.includes(a.name))).toBe(true);
    await driver.start(a.name);
    await driver.waitHealthy(a.name, 15_000);
  });

  it('an unknown container fails as REPLICA_NOT_FOUND', async () => {
    const err = await driver.pause(`owui-chaos-missing-${uniq}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultError);
    expect((err as FaultError).code).toBe('REPLICA_NOT_FOUND');
    expect((err as FaultError).message).toContain(`pause replica container owui-chaos-missing-${uniq}`);
  });

  it('exec returns the exit code and exact stdout/stderr bytes', async () => {
    const result = await driver.exec(a.name, [
      '/bin/sh',
      '-c',
      "printf 'out\\001\\377'; printf err >&2; exit 3",
    ]);
    expect(result.exitCode).toBe(3);
    expect([...result.stdout]).toEqual([0x6f, 0x75, 0x74, 0x01, 0xff]);
    expect(result.stderr.toString()).toBe('err');
  });
});
