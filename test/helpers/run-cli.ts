// The one way tests run the BUILT CLI (`node bin/run.js …`, as a user would): `runCli` waits for
// the exit and returns code, stdout and stderr; `{ ensureExitCode }` fails with both streams when
// the code differs (the failure shows why); `{ json }` adds `--json` and parses stdout.
// `startCli` gives the running child for tests that signal it or read its first line.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'run.js');

/** Whether dist/ holds the command (`npm run build`); tests skip with this reason otherwise. */
export function cliBuilt(command = 'run'): boolean {
  return existsSync(join(ROOT, 'dist', 'commands', `${command}.js`));
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Drop every OWUI_* variable of the caller's environment before `env` is applied. */
  cleanEnv?: boolean;
  cwd?: string;
  /** Killed (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  /** stdout + stderr so far. */
  output(): string;
  /** The first full line on stdout (e.g. a server's `{ "url": … }`), or an error on exit/time-out. */
  firstLine(timeoutMs?: number): Promise<string>;
  exit: Promise<CliResult>;
}

function envOf(opts: CliOptions): NodeJS.ProcessEnv {
  const base = opts.cleanEnv
    ? Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OWUI_')))
    : process.env;
  return { ...base, ...(opts.env ?? {}) };
}

export function startCli(args: string[], opts: CliOptions = {}): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: envOf(opts),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const exit = new Promise<CliResult>((res) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    }),
  );
  return {
    child,
    output: () => stdout + stderr,
    exit,
    firstLine: (timeoutMs = 20_000) =>
      new Promise<string>((res, rej) => {
        const check = (): boolean => {
          const nl = stdout.indexOf('\n');
          if (nl < 0) return false;
          clearTimeout(t);
          res(stdout.slice(0, nl));
          return true;
        };
        const t = setTimeout(
          () => rej(new Error(`no output line within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        if (check()) return;
        child.stdout!.on('data', () => void check());
        void exit.then((r) => {
          if (!check()) rej(new Error(`exited early with ${r.code}; stderr: ${stderr}`));
        });
      }),
  };
}

export async function runCli(
  args: string[],
  opts: CliOptions & { ensureExitCode?: number; json?: false },
): Promise<CliResult>;
export async function runCli<T = unknown>(
  args: string[],
  opts: CliOptions & { ensureExitCode?: number; json: true },
): Promise<CliResult & { json: T }>;
export async function runCli(args: string[]): Promise<CliResult>;
export async function runCli(
  args: string[],
  opts: CliOptions & { ensureExitCode?: number; json?: boolean } = {},
): Promise<CliResult & { json?: unknown }> {
  const r = await startCli(opts.json ? [...args, '--json'] : args, opts).exit;
  const shown = `owui-chaos ${args.join(' ')}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
  if (opts.ensureExitCode !== undefined && r.code !== opts.ensureExitCode) {
    throw new Error(`expected exit ${opts.ensureExitCode}, got ${r.code ?? r.signal}:\n${shown}`);
  }
  if (!opts.json) return r;
  try {
    return { ...r, json: JSON.parse(r.stdout) as unknown };
  } catch (err) {
    throw new Error(`--json output is not JSON (${String(err)}):\n${shown}`, { cause: err });
  }
}
