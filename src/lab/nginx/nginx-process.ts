// Runs the lab's nginx: writes the rendered config, validates it with `nginx -t` before start and
// before every reload, spawns the master as a detached foreground process (`daemon off`), reloads
// with `nginx -s reload` (signals the master found through the pid file in the prefix).
//
// Contract: `startNginx` returns once the port accepts connections, or throws a PreflightError
// carrying the error log's last lines; a failed `nginx -t` never touches a running nginx.

import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PreflightError } from '../../core/errors.js';
import { requireBinary } from '../../infra/process/binaries.js';
import {
  type DaemonInfo,
  isAlive,
  sleep,
  spawnDaemon,
  stopProcess,
  tailFile,
  tcpOpen,
} from '../../infra/process/daemon.js';
import { nginxPaths, renderNginxConfig, type NginxConfigOptions } from './nginx-config.js';

const run = promisify(execFile);

export interface NginxInstance extends DaemonInfo {
  binary: string;
  prefix: string;
  configFile: string;
  port: number;
  url: string;
}

export function nginxBinary(): string {
  return requireBinary('nginx', 'nginx');
}

/** The args every nginx invocation of the lab shares: prefix, config, early error log. */
export function nginxArgs(prefix: string, configFile: string): string[] {
  // `-e` keeps nginx from opening /var/log/nginx/error.log before it has read our config.
  return ['-p', prefix, '-c', configFile, '-e', nginxPaths(prefix).errorLog];
}

export function prepareNginxPrefix(prefix: string): void {
  const p = nginxPaths(prefix);
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    mkdirSync(join(p.tempDir, t), { recursive: true });
}

/** `nginx -t`; throws PreflightError with nginx's own message when the config is invalid. */
export async function testNginxConfig(binary: string, prefix: string, configFile: string): Promise<void> {
  try {
    await run(binary, ['-t', '-q', ...nginxArgs(prefix, configFile)], { timeout: 10_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new PreflightError(`nginx rejected the config ${configFile}`, {
      code: 'NGINX_CONFIG_INVALID',
      suggestions: [`${binary} -t ${nginxArgs(prefix, configFile).join(' ')}`],
      cause: new Error(stderr.trim() || (err instanceof Error ? err.message : String(err))),
    });
  }
}

export async function startNginx(opts: {
  binary: string;
  prefix: string;
  config: NginxConfigOptions;
  readyBudgetMs?: number;
}): Promise<NginxInstance> {
  prepareNginxPrefix(opts.prefix);
  const configFile = join(opts.prefix, 'nginx.conf');
  writeFileSync(configFile, renderNginxConfig(opts.config));
  await testNginxConfig(opts.binary, opts.prefix, configFile);
  const daemon = await spawnDaemon({
    name: 'nginx',
    command: opts.binary,
    args: nginxArgs(opts.prefix, configFile),
    logFile: join(opts.prefix, 'logs', 'nginx.out'),
  });
  const port = opts.config.listenPort;
  const instance: NginxInstance = {
    ...daemon,
    binary: opts.binary,
    prefix: opts.prefix,
    configFile,
    port,
    url: `http://127.0.0.1:${port}`,
  };
  const deadline = Date.now() + (opts.readyBudgetMs ?? 10_000);
  while (Date.now() < deadline) {
    if (!isAlive(daemon.pid)) break;
    if (await tcpOpen(port)) return instance;
    await sleep(50);
  }
  await stopProcess(daemon.pid, 2000);
  throw new PreflightError(`nginx did not listen on 127.0.0.1:${port}`, {
    code: 'LAB_PART_UNHEALTHY',
    suggestions: [`cat ${nginxPaths(opts.prefix).errorLog}`],
    cause: new Error(
      [tailFile(nginxPaths(opts.prefix).errorLog, 15), tailFile(daemon.logFile, 5)]
        .filter(Boolean)
        .join('\n') || 'error log is empty',
    ),
  });
}

/** Writes new config bytes, validates them, reloads; restores the old bytes if validation fails. */
export async function reloadNginx(
  instance: Pick<NginxInstance, 'binary' | 'prefix' | 'configFile'>,
  config: string,
  previous?: string,
): Promise<void> {
  writeFileSync(instance.configFile, config);
  try {
    await testNginxConfig(instance.binary, instance.prefix, instance.configFile);
  } catch (err) {
    if (previous !== undefined) writeFileSync(instance.configFile, previous);
    throw err;
  }
  await run(instance.binary, [...nginxArgs(instance.prefix, instance.configFile), '-s', 'reload'], {
    timeout: 10_000,
  });
}

export async function stopNginx(pid: number): Promise<void> {
  // SIGTERM makes the master stop its workers too (fast shutdown).
  await stopProcess(pid, 5000);
}
