// nginx as a fault target: rewrite a setting (`proxy_buffering`, or any directive) in the config
// file, validate with `nginx -t`, reload, and on revert restore the ORIGINAL BYTES exactly and
// reload again. A config that fails `nginx -t` (or a reload that fails) is never left in place:
// the previous bytes are written back before the error is thrown.
//
// Two places nginx can live: a local config file + the local binary (`LocalNginxDriver`), or a
// container reached through `docker exec` (`ContainerNginxDriver`, via the docker folder's exec
// helper). Both write in place (same inode), so a config bind-mounted as a single file keeps
// working. After a reload the driver waits, when it can find the master's pid, until a new worker
// process exists: from then on new connections see the new config.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { type Clock, systemClock } from '../../core/clock.js';
import { FaultError } from '../../core/errors.js';
import type { FaultHandle, NginxDriver } from '../../core/ports.js';
import { findBinary } from '../../infra/process/binaries.js';
import type { ContainerExec } from '../docker/docker-exec.js';
import { type DriverLogger, formatBudget, silentLogger, step } from '../driver-log.js';
import { type PreparedDriverFault, faultHandle } from '../fault.js';
import { restoreConfigRecord, revertFromRecord } from '../revert-records.js';
import { directiveValues, pidFileOf, setBufferingBytes, setDirective } from './nginx-config.js';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface NginxDriverCommonOptions {
  /** The main config file (`-c`). */
  configFile: string;
  /** The prefix (`-p`), when nginx runs with one. */
  prefix?: string;
  /** nginx binary. Local default: found on PATH or in /usr/sbin; container default: `nginx`. */
  binary?: string;
  /** Master pid file; default: the config's `pid` directive (relative to the prefix). */
  pidFile?: string;
  /** Budget for new workers to appear after a reload. Default 5 s. */
  reloadBudgetMs?: number;
  logger?: DriverLogger;
  clock?: Clock;
}

const DRIVER = 'nginx';

abstract class BaseNginxDriver implements NginxDriver {
  protected readonly log: DriverLogger;
  protected readonly clock: Clock;

  constructor(protected readonly common: NginxDriverCommonOptions) {
    this.log = common.logger ?? silentLogger;
    this.clock = common.clock ?? systemClock;
  }

  /** Where the config lives, for messages: "/etc/nginx/nginx.conf in container lb". */
  abstract where(): string;
  protected abstract readBytes(): Promise<Buffer>;
  protected abstract writeBytes(bytes: Buffer): Promise<void>;
  protected abstract runNginx(args: string[]): Promise<CommandResult>;
  /** The master's children with their process titles, or undefined when they cannot be seen. */
  protected abstract workers(pidFile: string): Promise<NginxChild[] | undefined>;
  /** Container name for revert records; undefined for a local file. */
  protected abstract containerName(): string | undefined;

  async readConfig(): Promise<Buffer> {
    return step(
      this.log,
      DRIVER,
      `read nginx config ${this.where()}`,
      () => this.readBytes(),
      { code: 'NGINX_CONFIG_UNREADABLE' },
      this.clock,
    );
  }

  async applyConfig(bytes: Buffer): Promise<void> {
    await step(
      this.log,
      DRIVER,
      `apply nginx config ${this.where()} (test, reload)`,
      async () => {
        const previous = await this.readBytes();
        await this.writeBytes(bytes);
        const test = await this.runNginx([...this.baseArgs(), '-t', '-q']);
        if (test.exitCode !== 0) {
          await this.writeBytes(previous);
          throw new FaultError(
            `nginx rejected the new config ${this.where()} (\`nginx -t\` exit ${test.exitCode}): ${firstLines(test.stderr)}; the previous config was restored`,
            {
              code: 'NGINX_CONFIG_INVALID',
              suggestions: [this.suggestTest()],
            },
          );
        }
        await this.reload(previous);
      },
      { code: 'NGINX_APPLY_FAILED' },
      this.clock,
    );
  }

  /**
   * Sets `name value;` (every occurrence, or inserted into the http block). The record carries the
   * original bytes, read now, so a rollback in another process restores them exactly.
   */
  async prepareSetDirective(name: string, value: string): Promise<PreparedDriverFault> {
    return this.prepareEdit(`${name} ${value}`, (original) => {
      const was = directiveValues(original, name);
      return { bytes: setDirective(original, name, value).bytes, was: was.length ? was.join(', ') : 'unset' };
    });
  }

  async setDirective(name: string, value: string): Promise<FaultHandle> {
    return (await this.prepareSetDirective(name, value)).apply();
  }

  /**
   * `proxy_buffering on|off`. A config rendered by the lab carries a marked buffering block that
   * also pins `proxy_http_version` (buffering only delays SSE over HTTP/1.0, see
   * src/lab/nginx/nginx-config.ts); that block is swapped whole. Elsewhere only the directive changes.
   */
  prepareSetBuffering(on: boolean, opts: EditOwner = {}): Promise<PreparedDriverFault> {
    const value = on ? 'on' : 'off';
    return this.prepareEdit(
      `proxy_buffering ${value}`,
      (original) => {
        const was = directiveValues(original, 'proxy_buffering');
        return { bytes: setBufferingBytes(original, on), was: was.length ? was.join(', ') : 'unset' };
      },
      opts,
    );
  }

  async setBuffering(on: boolean): Promise<FaultHandle> {
    return (await this.prepareSetBuffering(on)).apply();
  }

  private async prepareEdit(
    change: string,
    edit: (original: Buffer) => { bytes: Buffer; was: string },
    opts: EditOwner = {},
  ): Promise<PreparedDriverFault> {
    const original = await this.readConfig();
    // A config another run changed is not "the original": saving it as such would restore the
    // other run's fault for good. Refuse before anything is touched, and say whose it is.
    const foreign = nginxMarkerOwner(original);
    if (foreign !== undefined && foreign !== opts.owner) {
      throw new FaultError(
        `nginx config ${this.where()} is already changed by run ${foreign} (its \`# owui-chaos:\` marker is in the file): \`${change}\` was not applied and nothing was touched`,
        {
          code: 'FOREIGN_FAULT',
          suggestions: ['owui-chaos rollback   # restores the bytes that run saved'],
        },
      );
    }
    let result: { bytes: Buffer; was: string };
    try {
      result = edit(original);
      if (opts.owner !== undefined && !result.bytes.equals(original))
        result = { ...result, bytes: Buffer.concat([Buffer.from(nginxMarker(opts.owner)), result.bytes]) };
    } catch (err) {
      throw new FaultError(
        `Cannot set \`${change}\` in nginx config ${this.where()}: ${(err as Error).message}`,
        { code: 'NGINX_CONFIG_EDIT_FAILED', cause: err },
      );
    }
    const description = `nginx ${change} in ${this.where()} (was ${result.was})`;
    const record = restoreConfigRecord(this.common.configFile, original, this.containerName());
    return {
      description,
      record,
      apply: async () => {
        if (!result.bytes.equals(original)) await this.applyConfig(result.bytes);
        return faultHandle(description, record, () => revertFromRecord(record, { nginx: this }));
      },
    };
  }

  protected baseArgs(): string[] {
    return [...(this.common.prefix ? ['-p', this.common.prefix] : []), '-c', this.common.configFile];
  }

  protected suggestTest(): string {
    return `nginx ${[...this.baseArgs(), '-t'].join(' ')}`;
  }

  private async reload(previous: Buffer): Promise<void> {
    const pidFile = this.pidFile(previous);
    const before = pidFile ? await this.workers(pidFile).catch(() => undefined) : undefined;
    const reload = await this.runNginx([...this.baseArgs(), '-s', 'reload']);
    if (reload.exitCode !== 0) {
      await this.writeBytes(previous);
      throw new FaultError(
        `nginx did not reload ${this.where()} (\`nginx -s reload\` exit ${reload.exitCode}): ${firstLines(reload.stderr)}; the previous config was restored`,
        {
          code: 'NGINX_RELOAD_FAILED',
          suggestions: [this.suggestTest(), `nginx ${[...this.baseArgs(), '-s', 'reload'].join(' ')}`],
        },
      );
    }
    if (!pidFile || before === undefined) return;
    // The master forks new workers with the new config and tells the old ones to drain. Until an
    // old worker has closed its listening sockets (its title turns to "… is shutting down", just
    // before), it can still accept a connection and serve it with the OLD config.
    const oldPids = new Set(before.map((w) => w.pid));
    const budget = this.common.reloadBudgetMs ?? 5000;
    const deadline = this.clock.now() + budget;
    for (let i = 0; i < 10_000; i++) {
      const now = await this.workers(pidFile).catch(() => undefined);
      if (now === undefined) return;
      const fresh = now.some((w) => !oldPids.has(w.pid));
      const oldAccepting = now.some(
        (w) => oldPids.has(w.pid) && /worker process/.test(w.title) && !/shutting down/.test(w.title),
      );
      if (fresh && !oldAccepting) {
        await this.clock.sleep(20); // the title is set a moment before the sockets close
        return;
      }
      if (this.clock.now() >= deadline) break;
      await this.clock.sleep(25);
    }
    throw new FaultError(
      `nginx started no new worker within ${formatBudget(budget)} after reloading ${this.where()}`,
      {
        code: 'NGINX_RELOAD_TIMEOUT',
        suggestions: [this.suggestTest()],
      },
    );
  }

  private pidFile(config: Buffer): string | undefined {
    const file = this.common.pidFile ?? pidFileOf(config);
    if (!file) return undefined;
    return isAbsolute(file) || !this.common.prefix ? file : join(this.common.prefix, file);
  }
}

export interface LocalNginxDriverOptions extends NginxDriverCommonOptions {
  /** Timeout for each nginx command. Default 15 s. */
  commandTimeoutMs?: number;
}

/** A config file on this machine, the local nginx binary, `-s reload` by pid file. */
export class LocalNginxDriver extends BaseNginxDriver {
  private readonly binary: string;

  constructor(private readonly opts: LocalNginxDriverOptions) {
    super(opts);
    this.binary = opts.binary ?? findBinary('nginx') ?? 'nginx';
  }

  where(): string {
    return this.opts.configFile;
  }

  protected async readBytes(): Promise<Buffer> {
    return readFileSync(this.opts.configFile);
  }

  protected async writeBytes(bytes: Buffer): Promise<void> {
    // In place (truncate + write), not rename: keeps the inode for single-file bind mounts.
    writeFileSync(this.opts.configFile, bytes);
  }

  protected runNginx(args: string[]): Promise<CommandResult> {
    return run(this.binary, args, this.opts.commandTimeoutMs ?? 15_000);
  }

  protected async workers(pidFile: string): Promise<NginxChild[] | undefined> {
    const master = Number(readFileSync(pidFile, 'utf8').trim());
    if (!Number.isInteger(master) || master <= 0) return undefined;
    return childrenOf(master);
  }

  protected containerName(): undefined {
    return undefined;
  }
}

export interface ContainerNginxDriverOptions extends NginxDriverCommonOptions {
  /** Container id or name. */
  container: string;
  /** From the docker folder: `DockerodeReplicaDriver#exec` or `DockerodeReplicaDriver.execFor()`. */
  exec: ContainerExec;
}

/** nginx inside a container: the same steps through `docker exec` (needs `sh`, `cat`, `base64`). */
export class ContainerNginxDriver extends BaseNginxDriver {
  constructor(private readonly opts: ContainerNginxDriverOptions) {
    super(opts);
  }

  where(): string {
    return `${this.opts.configFile} in container ${this.opts.container}`;
  }

  protected override suggestTest(): string {
    return `docker exec ${this.opts.container} ${this.opts.binary ?? 'nginx'} ${[...this.baseArgs(), '-t'].join(' ')}`;
  }

  protected async readBytes(): Promise<Buffer> {
    const r = await this.opts.exec(this.opts.container, ['cat', this.opts.configFile]);
    if (r.exitCode !== 0)
      throw new Error(`cat ${this.opts.configFile} exited ${r.exitCode}: ${firstLines(r.stderr.toString())}`);
    return r.stdout;
  }

  protected async writeBytes(bytes: Buffer): Promise<void> {
    // Base64 through argv (binary-safe, no stdin plumbing), in chunks well under ARG_MAX's per-arg limit.
    const b64 = bytes.toString('base64');
    const chunk = 64 * 1024;
    for (let i = 0; i === 0 || i < b64.length; i += chunk) {
      const redirect = i === 0 ? '>' : '>>';
      const r = await this.opts.exec(this.opts.container, [
        'sh',
        '-c',
        `printf %s "$1" | base64 -d ${redirect} "$2"`,
        'sh',
        b64.slice(i, i + chunk),
        this.opts.configFile,
      ]);
      if (r.exitCode !== 0)
        throw new Error(
          `writing ${this.opts.configFile} exited ${r.exitCode}: ${firstLines(r.stderr.toString())}`,
        );
    }
  }

  protected async runNginx(args: string[]): Promise<CommandResult> {
    const r = await this.opts.exec(this.opts.container, [this.opts.binary ?? 'nginx', ...args]);
    return { exitCode: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  protected async workers(pidFile: string): Promise<NginxChild[] | undefined> {
    // One line per child of the master: "<pid> <cmdline with NULs>".
    const r = await this.opts.exec(this.opts.container, [
      'sh',
      '-c',
      'm=$(cat "$1") && for f in /proc/[0-9]*/stat; do read -r l < "$f" 2>/dev/null || continue; set -- $l; [ "$4" = "$m" ] && { printf "%s " "$1"; cat "/proc/$1/cmdline" 2>/dev/null; echo; }; done; true',
      'sh',
      pidFile,
    ]);
    if (r.exitCode !== 0) return undefined;
    return r.stdout
      .toString('latin1')
      .split('\n')
      .filter((l) => /^\d+ /.test(l))
      .map((l) => ({
        pid: Number(l.slice(0, l.indexOf(' '))),
        title: l
          .slice(l.indexOf(' ') + 1)
          .replace(/\0/g, ' ')
          .trim(),
      }));
  }

  protected containerName(): string {
    return this.opts.container;
  }
}

export interface EditOwner {
  /** The run id the edited config names in its marker line. */
  owner?: string;
}

const MARKER = /^# owui-chaos: changed by run ([^\s;]+)/m;

/** The first line of a config a run changed: says whose change it is and how to undo it. */
export function nginxMarker(runId: string): string {
  return `# owui-chaos: changed by run ${runId}; \`owui-chaos rollback\` restores the original bytes\n`;
}

/** The run id of the marker in `config`, if a run changed it. */
export function nginxMarkerOwner(config: Buffer): string | undefined {
  return MARKER.exec(config.toString('utf8'))?.[1];
}

export interface NginxChild {
  pid: number;
  /** Process title, e.g. "nginx: worker process" or "nginx: worker process is shutting down". */
  title: string;
}

/** Children of `pid`, from /proc (works without CONFIG_PROC_CHILDREN). */
function childrenOf(pid: number): NginxChild[] {
  const children: NginxChild[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) {
        const title = readFileSync(`/proc/${entry}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
        children.push({ pid: Number(entry), title });
      }
    } catch {
      // exited while we looked
    }
  }
  return children;
}

function run(command: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

function firstLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(0, n).join(' | ') || 'no output';
}
