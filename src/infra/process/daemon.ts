// Lab parts run as real, detached OS processes (so `kill -9` faults and crash recovery are real).
// Each gets a log file and a pid recorded by the caller in the lab state directory, so `lab down`
// and `rollback` in a NEW process can still find and stop them.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (root only; Postgres refuses to run as root). */
  uid?: number;
  gid?: number;
}

export interface DaemonInfo {
  name: string;
  pid: number;
  logFile: string;
  command: string;
  args: string[];
}

/** Starts a detached process whose stdout+stderr go to `logFile`; returns once it is spawned. */
export async function spawnDaemon(spec: DaemonSpec): Promise<DaemonInfo> {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`${spec.name}: spawn returned no pid`);
    return { name: spec.name, pid: child.pid, logFile: spec.logFile, command: spec.command, args: spec.args };
  } finally {
    closeSync(fd);
  }
}

/** The variables of `env` named in `keys` (what a daemon keeps of ours: PATH, HOME, ...). */
export function pickEnv(env: NodeJS.ProcessEnv, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * Whether the process still exists in a way that matters. A zombie whose threads are all gone is
 * dead; but when a multi-threaded process (node, redis-server) is SIGKILLed, its main thread can
 * be a zombie while other threads are still exiting, and its listening sockets are released only
 * with the LAST thread — clients would be reset instead of refused. So such a zombie still counts.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !(isZombie(pid) && threadCount(pid) <= 1);
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function threadCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Idempotent. */
export async function stopProcess(pid: number, graceMs = 5000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(20);
}

/** The last `lines` lines of a log file, for "part X did not become healthy" errors. */
export function tailFile(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n')
    .trim();
}

/**
 * The range lab listeners take their ports from: below the kernel's ephemeral range, so no outgoing
 * connection (the load itself opens thousands) can take a port between our pick and the part's own
 * bind. bind(0) picks *inside* that range, which let a replica fail with EADDRINUSE while another
 * server answered its health check on the same port (docs/lab.md, "Ports").
 */
export function labPortRange(ephemeral: string | undefined): { low: number; high: number } {
  const [lowText] = (ephemeral ?? '').trim().split(/\s+/);
  const ephemeralLow = Number(lowText);
  // Debian's default ephemeral range starts at 32768; keep clear of the well-known and registered
  // ports most local services use (below 20000).
  const high = Number.isInteger(ephemeralLow) && ephemeralLow > 21_000 ? ephemeralLow - 1 : 32_767;
  return { low: 20_000, high };
}

let portRange: { low: number; high: number } | undefined;

/** A free TCP port on 127.0.0.1 outside the ephemeral range (see labPortRange), checked by binding it. */
export async function freePort(): Promise<number> {
  portRange ??= labPortRange(
    existsSync(EPHEMERAL_RANGE_FILE) ? readFileSync(EPHEMERAL_RANGE_FILE, 'utf8') : undefined,
  );
  const { low, high } = portRange;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canBind(port)) return port;
  }
  return anyFreePort();
}

const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The fallback when the range is full: whatever bind(0) gives. */
function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function tcpOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
