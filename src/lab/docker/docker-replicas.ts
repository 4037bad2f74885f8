// Docker mode of the lab: Open WebUI simulator replicas as containers, through dockerode (the only
// folder of the lab that talks to Docker). No registry is needed: the base image is an empty
// rootfs made locally (`docker import` of an empty tar), and each container bind-mounts the host's
// runtime (/usr, /lib, /etc, …) and the project read-only, runs on the host network, and runs the
// host's own node binary on the project's `bin/run.js lab replica`.
//
// Contract: containers are named `owui-chaos-<lab>-<replica>` and labelled `owui-chaos.lab=<lab>`
// and `com.docker.compose.service=open-webui`, so the replica-kill fault and `lab down` find them
// by label even when state.json is lost. A missing engine is a PreflightError saying how to start
// one. The replica's stdout/stderr go to `logFile` on the host (its directory is mounted
// read-write), so failures are reported the same way as for process replicas.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { PreflightError } from '../../core/errors.js';

export const BASE_IMAGE_REPO = 'owui-chaos-base';
export const BASE_IMAGE_TAG = 'latest';
export const BASE_IMAGE = `${BASE_IMAGE_REPO}:${BASE_IMAGE_TAG}`;
export const LAB_LABEL = 'owui-chaos.lab';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const REPLICA_SERVICE = 'open-webui';

/** Host directories the replica needs to run the host's node (dynamic libs, certs, /bin/sh). */
export const HOST_RUNTIME_DIRS = ['/usr', '/lib', '/lib64', '/etc', '/bin', '/sbin'];

/** An empty tar archive: two 512-byte zero blocks (the end-of-archive marker). */
export function emptyRootfsTar(): Buffer {
  return Buffer.alloc(1024);
}

export function containerName(lab: string, replica: string): string {
  return `owui-chaos-${lab}-${replica}`;
}

export interface ReplicaContainerSpec {
  lab: string;
  /** Replica name, e.g. `owui-1`. */
  replica: string;
  /** The replica's whole configuration (it reads nothing else). */
  env: Record<string, string>;
  /** Project root, mounted read-only (holds bin/run.js, dist/, node_modules/). */
  projectDir: string;
  /** Host paths the replica writes (DATABASE_URL dir, log dir), mounted read-write at the same path. */
  writableDirs: string[];
  nodeBinary: string;
  runJs: string;
  logFile: string;
  /** Host runtime dirs to mount; those that do not exist on this host are skipped by the caller. */
  runtimeDirs?: string[];
}

/** The dockerode create options for one replica (pure, so the mounts and labels are unit-tested). */
export function replicaContainerOptions(spec: ReplicaContainerSpec): Docker.ContainerCreateOptions {
  const runtime = spec.runtimeDirs ?? HOST_RUNTIME_DIRS;
  const binds = [
    ...runtime.map((d) => `${d}:${d}:ro`),
    // The node binary may live outside /usr (nvm, a tarball in /opt); mount its install dir too.
    ...extraNodeDirs(spec.nodeBinary, runtime).map((d) => `${d}:${d}:ro`),
    `${spec.projectDir}:${spec.projectDir}:ro`,
    ...unique(spec.writableDirs).map((d) => `${d}:${d}:rw`),
  ];
  const env = { ...spec.env, OWUI_SIM_LOG: spec.logFile };
  return {
    name: containerName(spec.lab, spec.replica),
    Image: BASE_IMAGE,
    // sh (from the mounted /bin) only redirects output to the host log file, then execs node.
    Entrypoint: ['/bin/sh', '-c', 'exec "$0" "$@" >>"$OWUI_SIM_LOG" 2>&1'],
    Cmd: [spec.nodeBinary, spec.runJs, 'lab', 'replica'],
    WorkingDir: spec.projectDir,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      [LAB_LABEL]: spec.lab,
      [COMPOSE_SERVICE_LABEL]: REPLICA_SERVICE,
      'owui-chaos.replica': spec.replica,
    },
    HostConfig: {
      NetworkMode: 'host',
      Binds: binds,
      Tmpfs: { '/tmp': 'rw,size=64m' },
      RestartPolicy: { Name: 'no' },
      Init: false,
    },
  };
}

function extraNodeDirs(nodeBinary: string, runtime: string[]): string[] {
  const binDir = dirname(nodeBinary);
  if (runtime.some((d) => binDir === d || binDir.startsWith(`${d}/`))) return [];
  return [dirname(binDir)];
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** A dockerode client that answers, or a PreflightError saying how to start an engine. */
export async function connectDocker(timeoutMs = 3000): Promise<Docker> {
  const docker = new Docker();
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
    return docker;
  } catch (err) {
    throw new PreflightError('No Docker engine answers (needed by `--replicas-in docker`)', {
      code: 'DOCKER_UNAVAILABLE',
      suggestions: [
        'bash scripts/setup.sh',
        'sudo dockerd > /tmp/dockerd.log 2>&1 &',
        'owui-chaos lab up --replicas-in process',
      ],
      cause: err,
    });
  }
}

/** Whether a Docker engine answers (for tests that skip with a reason). */
export async function dockerAvailable(timeoutMs = 2000): Promise<boolean> {
  try {
    await connectDocker(timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/** Imports the empty base image unless it exists already. */
export async function ensureBaseImage(docker: Docker, workDir: string): Promise<void> {
  try {
    await docker.getImage(BASE_IMAGE).inspect();
    return;
  } catch {
    // not there yet
  }
  mkdirSync(workDir, { recursive: true });
  const tar = join(workDir, 'empty-rootfs.tar');
  writeFileSync(tar, emptyRootfsTar());
  const stream = await docker.importImage(tar, { repo: BASE_IMAGE_REPO, tag: BASE_IMAGE_TAG });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
      const failed = output?.find((o) => o.error);
      if (err || failed) reject(err ?? new Error(failed?.error));
      else resolve();
    });
  });
  await docker.getImage(BASE_IMAGE).inspect();
}

export interface StartedContainer {
  id: string;
  name: string;
  /** Host pid of the replica process (for diagnostics). */
  pid?: number;
}

export async function startReplicaContainer(
  docker: Docker,
  spec: ReplicaContainerSpec,
): Promise<StartedContainer> {
  const name = containerName(spec.lab, spec.replica);
  // A leftover container of a crashed lab with the same name would make create fail with 409.
  await removeContainer(docker, name);
  for (const d of spec.writableDirs) mkdirSync(d, { recursive: true });
  const opts = replicaContainerOptions({
    ...spec,
    runtimeDirs: (spec.runtimeDirs ?? HOST_RUNTIME_DIRS).filter((d) => existsSync(d)),
  });
  const container = await docker.createContainer(opts);
  await container.start();
  const info = await container.inspect();
  const started: StartedContainer = { id: container.id, name };
  if (info.State.Pid) started.pid = info.State.Pid;
  return started;
}

/** Force-removes a container by id or name; a missing one is fine (idempotent). */
export async function removeContainer(docker: Docker, idOrName: string): Promise<void> {
  try {
    await docker.getContainer(idOrName).remove({ force: true });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return;
    throw err;
  }
}

/** Removes every container labelled with this lab, plus `ids` (recorded in state.json). */
export async function removeLabContainers(
  docker: Docker,
  lab: string,
  ids: string[] = [],
): Promise<string[]> {
  const listed = await docker.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${lab}`] } });
  const all = unique([...ids, ...listed.map((c) => c.Id)]);
  for (const id of all) await removeContainer(docker, id);
  return all;
}

/** Why a container is not running (e.g. "container exited with code 1"), or undefined while it runs. */
export async function containerGone(docker: Docker, id: string): Promise<string | undefined> {
  const info = await docker.getContainer(id).inspect();
  return info.State.Running ? undefined : `container ${info.State.Status} with code ${info.State.ExitCode}`;
}

export async function listLabContainers(docker: Docker, lab: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LAB_LABEL}=${lab}`] } });
}
