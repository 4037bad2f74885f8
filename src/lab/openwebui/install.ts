// Installs what the real lab runs, pinned and cached (docs/real-lab.md):
// - Open WebUI from PyPI into a uv virtualenv `<cache>/openwebui/<version>/`, reusing uv's own
//   package cache, so a second machine run (or a second version) is quick;
// - Shopify's toxiproxy-server with `go install …/cmd/server@<pinned>` into `<cache>/bin/`.
//
// Contract: an install is finished only when its marker file exists (written last, after a
// successful install and a check that the entry point runs), so a run that died half-way is
// redone, and a finished one is instant. Each failure names the step and the fix. The cache root
// is $OWUI_CHAOS_CACHE, else $OWUI_CHAOS_HOME, else ~/.cache/owui-chaos (CI machines that keep
// $HOME reuse it); lookups also try the other roots, so a lab whose OWUI_CHAOS_HOME is a temporary
// directory still finds an install made under ~/.cache.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PreflightError, UsageError } from '../../core/errors.js';
import { findBinary } from '../../infra/process/binaries.js';
import { REFERENCE_OPENWEBUI_VERSION } from '../../protocol/openwebui.js';

export const DEFAULT_OPENWEBUI_VERSION = REFERENCE_OPENWEBUI_VERSION;
export const TOXIPROXY_MODULE = 'github.com/Shopify/toxiproxy/v2/cmd/server';
export const TOXIPROXY_VERSION = 'v2.12.0';
/** Open WebUI's supported interpreters (its pyproject: >=3.11, <3.13). */
const PYTHONS = ['python3.11', 'python3.12'];
const MARKER = '.owui-chaos-installed.json';

export interface InstallMarker {
  package: 'open-webui' | 'toxiproxy-server';
  version: string;
  python?: string;
  installedAt: string;
  seconds: number;
}

/** Where installs go: the first of $OWUI_CHAOS_CACHE, $OWUI_CHAOS_HOME, ~/.cache/owui-chaos. */
export function installRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.OWUI_CHAOS_CACHE ?? env.OWUI_CHAOS_HOME ?? join(homedir(), '.cache', 'owui-chaos');
}

/** Every root an install may already be in, in lookup order. */
export function installRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [env.OWUI_CHAOS_CACHE, env.OWUI_CHAOS_HOME, join(homedir(), '.cache', 'owui-chaos')];
  return [...new Set(roots.filter((r): r is string => typeof r === 'string' && r !== ''))];
}

export function checkVersion(version: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(version)) {
    throw new UsageError(`Open WebUI version \`${version}\` is not a release number like 0.12.4`, {
      code: 'OPENWEBUI_VERSION_INVALID',
      suggestions: [`--openwebui-version ${DEFAULT_OPENWEBUI_VERSION}`],
    });
  }
  return version;
}

export interface OpenWebuiInstall {
  version: string;
  venv: string;
  /** The `open-webui` entry point. */
  bin: string;
  python: string;
  sitePackages: string;
}

function venvInfo(venv: string, version: string): OpenWebuiInstall {
  return {
    version,
    venv,
    bin: join(venv, 'bin', 'open-webui'),
    python: join(venv, 'bin', 'python'),
    sitePackages: sitePackagesOf(venv),
  };
}

function sitePackagesOf(venv: string): string {
  for (const py of ['python3.11', 'python3.12']) {
    const dir = join(venv, 'lib', py, 'site-packages');
    if (existsSync(dir)) return dir;
  }
  return join(venv, 'lib', 'python3.11', 'site-packages');
}

function readMarker(dir: string): InstallMarker | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as InstallMarker;
  } catch {
    return undefined;
  }
}

/** The finished install of `version`, if any root holds one. */
export function findOpenWebui(
  version: string,
  env: NodeJS.ProcessEnv = process.env,
): OpenWebuiInstall | undefined {
  for (const root of installRoots(env)) {
    const venv = join(root, 'openwebui', version);
    const marker = readMarker(venv);
    if (marker?.version === version && existsSync(join(venv, 'bin', 'open-webui')))
      return venvInfo(venv, version);
  }
  return undefined;
}

/** Like `findOpenWebui`, but fails with the command that installs it. */
export function requireOpenWebui(version: string, env: NodeJS.ProcessEnv = process.env): OpenWebuiInstall {
  checkVersion(version);
  const found = findOpenWebui(version, env);
  if (found) return found;
  throw new PreflightError(
    `Open WebUI ${version} is not installed (looked in ${installRoots(env)
      .map((r) => join(r, 'openwebui', version))
      .join(', ')})`,
    {
      code: 'OPENWEBUI_NOT_INSTALLED',
      suggestions: [`owui-chaos lab install --openwebui-version ${version}`, 'bash scripts/setup.sh'],
    },
  );
}

export interface InstallResult {
  what: 'open-webui' | 'toxiproxy-server';
  version: string;
  path: string;
  /** false: the marker was there, nothing was done. */
  installed: boolean;
  seconds: number;
}

export interface InstallOptions {
  env?: NodeJS.ProcessEnv;
  onProgress?: (message: string) => void;
  /** Override the `uv` executable (tests). */
  uv?: string;
}

/** Installs Open WebUI `version` into `<root>/openwebui/<version>/` with uv; idempotent. */
export async function installOpenWebui(version: string, opts: InstallOptions = {}): Promise<InstallResult> {
  checkVersion(version);
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => undefined);
  const existing = findOpenWebui(version, env);
  if (existing) return { what: 'open-webui', version, path: existing.venv, installed: false, seconds: 0 };

  const started = Date.now();
  const venv = join(installRoot(env), 'openwebui', version);
  const python = PYTHONS.map((p) => findBinary(p)).find((p) => p !== undefined);
  if (!python) {
    throw new PreflightError('No Python 3.11 or 3.12 found (Open WebUI needs one of them)', {
      code: 'PYTHON_MISSING',
      suggestions: ['sudo apt-get install -y python3.11 python3.11-venv', 'bash scripts/setup.sh'],
    });
  }
  const uv = opts.uv ?? (await ensureUv(python, progress));
  mkdirSync(join(installRoot(env), 'openwebui'), { recursive: true });
  const fresh = !existsSync(join(venv, 'bin', 'python'));
  const childEnv = { ...env, UV_PYTHON_DOWNLOADS: 'never', VIRTUAL_ENV: venv };
  if (fresh) {
    progress(`creating the virtualenv ${venv} (${python})`);
    await runStep('create the Open WebUI virtualenv', uv, ['venv', '--python', python, venv], childEnv, [
      `check that ${python} works: ${python} --version`,
    ]);
  }
  progress(`installing open-webui==${version} from PyPI with uv (cold: about 30 s and 7 GB; warm: seconds)`);
  try {
    await runStep(
      `install open-webui==${version} from PyPI`,
      uv,
      ['pip', 'install', '--python', join(venv, 'bin', 'python'), `open-webui==${version}`],
      childEnv,
      [
        `check that version ${version} exists: https://pypi.org/project/open-webui/#history`,
        `owui-chaos lab install --openwebui-version ${DEFAULT_OPENWEBUI_VERSION}`,
        'check the network access to pypi.org and the disk space (about 7 GB per version)',
      ],
    );
  } catch (err) {
    // A venv this call created is removed again, so no half install is left to be mistaken.
    if (fresh) rmSync(venv, { recursive: true, force: true });
    throw err;
  }
  const info = venvInfo(venv, version);
  await runStep(
    `check the installed Open WebUI ${version}`,
    info.python,
    ['-c', 'import importlib.metadata as m; print(m.version("open-webui"))'],
    childEnv,
    [`rm -rf ${venv}`, `owui-chaos lab install --openwebui-version ${version}`],
    (out) => out.trim() === version || `it reports version ${out.trim() || '(none)'}`,
  );
  const seconds = (Date.now() - started) / 1000;
  writeMarker(venv, {
    package: 'open-webui',
    version,
    python,
    installedAt: new Date().toISOString(),
    seconds,
  });
  return { what: 'open-webui', version, path: venv, installed: true, seconds };
}

function writeMarker(dir: string, marker: InstallMarker): void {
  const file = join(dir, MARKER);
  writeFileSync(`${file}.tmp`, JSON.stringify(marker, null, 2));
  renameSync(`${file}.tmp`, file);
}

async function ensureUv(python: string, progress: (m: string) => void): Promise<string> {
  const found = findBinary('uv');
  if (found) return found;
  progress('uv is not installed: pip install --user uv');
  const fixes = [`${python} -m ensurepip --user`, 'or install uv: https://docs.astral.sh/uv/'];
  const pip = ['-m', 'pip', 'install', '--user', '--quiet', 'uv'];
  try {
    await runStep('install uv with pip', python, pip, process.env, fixes);
  } catch (err) {
    // Debian's Python refuses user installs (PEP 668) unless told; uv is one self-contained binary.
    if (!/externally-managed/i.test(String((err as Error).cause))) throw err;
    await runStep('install uv with pip', python, [...pip, '--break-system-packages'], process.env, fixes);
  }
  const user = join(homedir(), '.local', 'bin', 'uv');
  if (existsSync(user)) return user;
  const again = findBinary('uv');
  if (again) return again;
  throw new PreflightError('uv was installed with pip but is not on PATH', {
    code: 'UV_MISSING',
    suggestions: ['export PATH="$HOME/.local/bin:$PATH"'],
  });
}

/** The toxiproxy-server the lab uses: the cached pinned build, else one on PATH. */
export function findToxiproxyServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const root of installRoots(env)) {
    const bin = join(root, 'bin', 'toxiproxy-server');
    if (existsSync(bin)) return bin;
  }
  return findBinary('toxiproxy-server');
}

/** `go install` of toxiproxy's server at the pinned tag into `<root>/bin/toxiproxy-server`. */
export async function installToxiproxy(opts: InstallOptions = {}): Promise<InstallResult> {
  const env = opts.env ?? process.env;
  const progress = opts.onProgress ?? (() => undefined);
  const binDir = join(installRoot(env), 'bin');
  const target = join(binDir, 'toxiproxy-server');
  const markerFile = join(binDir, 'toxiproxy-server.version');
  if (
    existsSync(target) &&
    existsSync(markerFile) &&
    readFileSync(markerFile, 'utf8').trim() === TOXIPROXY_VERSION
  )
    return {
      what: 'toxiproxy-server',
      version: TOXIPROXY_VERSION,
      path: target,
      installed: false,
      seconds: 0,
    };
  const started = Date.now();
  const go = findBinary('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new PreflightError('Go is not installed (needed once to build toxiproxy-server)', {
      code: 'GO_MISSING',
      suggestions: ['sudo apt-get install -y golang-go', 'bash scripts/setup.sh'],
    });
  }
  const buildDir = join(binDir, `.go-install-${process.pid}`);
  mkdirSync(buildDir, { recursive: true });
  progress(`go install ${TOXIPROXY_MODULE}@${TOXIPROXY_VERSION}`);
  try {
    await runStep(
      `build toxiproxy-server ${TOXIPROXY_VERSION} with go install`,
      go,
      ['install', `${TOXIPROXY_MODULE}@${TOXIPROXY_VERSION}`],
      { ...env, GOBIN: buildDir, GOFLAGS: '-mod=mod' },
      [
        'check the network access to proxy.golang.org',
        `GOBIN=${binDir} go install ${TOXIPROXY_MODULE}@${TOXIPROXY_VERSION}`,
      ],
    );
    // The module's command is named `server`; the lab (and everyone else) calls it toxiproxy-server.
    renameSync(join(buildDir, 'server'), target);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  writeFileSync(markerFile, `${TOXIPROXY_VERSION}\n`);
  return {
    what: 'toxiproxy-server',
    version: TOXIPROXY_VERSION,
    path: target,
    installed: true,
    seconds: (Date.now() - started) / 1000,
  };
}

/** Runs one install step; on failure the error names the step, its output's tail and the fixes. */
function runStep(
  step: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  fixes: string[],
  check?: (stdout: string) => true | string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out = (out + b.toString()).slice(-20_000)));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-20_000)));
    const fail = (why: string): void =>
      reject(
        new PreflightError(`Could not ${step}: ${why}`, {
          code: 'LAB_INSTALL_FAILED',
          suggestions: fixes,
          cause: new Error(`${command} ${args.join(' ')}\n${tail(err || out, 15)}`),
        }),
      );
    child.once('error', (e) => fail(e.message));
    child.once('close', (code) => {
      if (code !== 0) return fail(`exit code ${code}; ${firstErrorLine(err || out)}`);
      const verdict = check?.(out) ?? true;
      if (verdict !== true) return fail(verdict);
      resolve(out);
    });
  });
}

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** The line of uv/go output that says what went wrong (uv: "× No solution found …"). */
function firstErrorLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const hit =
    lines.find((l) => /because|no version|not found/i.test(l)) ?? lines.find((l) => /error|×/i.test(l));
  return (hit ?? lines.at(-1) ?? '').replace(/^[×╰─▶\s]+|^cause:\s*/g, '').slice(0, 300);
}
