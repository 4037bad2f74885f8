import { describe, expect, it } from 'vitest';
import {
  BASE_IMAGE,
  containerName,
  emptyRootfsTar,
  replicaContainerOptions,
  type ReplicaContainerSpec,
} from '../../../../src/lab/docker/docker-replicas.js';

const spec: ReplicaContainerSpec = {
  lab: 'ci-1',
  replica: 'owui-2',
  env: { PORT: '9002', WEBUI_SECRET_KEY: 'k' },
  projectDir: '/work/main',
  writableDirs: ['/tmp/lab/db', '/tmp/lab/replicas', '/tmp/lab/db'],
  nodeBinary: '/usr/bin/node',
  runJs: '/work/main/bin/run.js',
  logFile: '/tmp/lab/replicas/owui-2.log',
};

describe('replicaContainerOptions', () => {
  it('names and labels the container so the replica-kill fault and lab down find it', () => {
    const o = replicaContainerOptions(spec);
    expect(o.name).toBe('owui-chaos-ci-1-owui-2');
    expect(containerName('ci-1', 'owui-2')).toBe(o.name);
    expect(o.Labels).toMatchObject({ 'owui-chaos.lab': 'ci-1', 'com.docker.compose.service': 'open-webui' });
  });

  it('runs the host node on the project entry point from the local base image, on the host network', () => {
    const o = replicaContainerOptions(spec);
    expect(o.Image).toBe(BASE_IMAGE);
    expect(o.Cmd).toEqual(['/usr/bin/node', '/work/main/bin/run.js', 'lab', 'replica']);
    expect(o.HostConfig?.NetworkMode).toBe('host');
  });

  it('mounts the host runtime and the project read-only, the state paths read-write (once each)', () => {
    const binds = replicaContainerOptions(spec).HostConfig?.Binds ?? [];
    for (const d of ['/usr', '/lib', '/lib64', '/etc', '/bin', '/sbin', '/work/main'])
      expect(binds).toContain(`${d}:${d}:ro`);
    expect(binds.filter((b) => b === '/tmp/lab/db:/tmp/lab/db:rw')).toHaveLength(1);
    expect(binds).toContain('/tmp/lab/replicas:/tmp/lab/replicas:rw');
    expect(binds.filter((b) => b.endsWith(':rw'))).toHaveLength(2);
  });

  it('mounts the install dir of a node binary that lives outside the runtime dirs', () => {
    const binds =
      replicaContainerOptions({ ...spec, nodeBinary: '/opt/node-v20/bin/node' }).HostConfig?.Binds ?? [];
    expect(binds).toContain('/opt/node-v20:/opt/node-v20:ro');
    expect(replicaContainerOptions(spec).HostConfig?.Binds?.some((b) => b.startsWith('/usr/bin'))).toBe(
      false,
    );
  });

  it('passes the replica env plus the log file path, and only those', () => {
    const env = replicaContainerOptions(spec).Env ?? [];
    expect(env.sort()).toEqual([
      'OWUI_SIM_LOG=/tmp/lab/replicas/owui-2.log',
      'PORT=9002',
      'WEBUI_SECRET_KEY=k',
    ]);
  });

  it('skips runtime dirs the caller filtered out', () => {
    const binds = replicaContainerOptions({ ...spec, runtimeDirs: ['/usr', '/etc'] }).HostConfig?.Binds ?? [];
    expect(binds.some((b) => b.startsWith('/lib64'))).toBe(false);
  });
});

describe('emptyRootfsTar', () => {
  it('is the two zero blocks that end a tar archive', () => {
    const tar = emptyRootfsTar();
    expect(tar.length).toBe(1024);
    expect(tar.every((b) => b === 0)).toBe(true);
  });
});
