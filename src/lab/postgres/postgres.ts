// The lab's own Postgres cluster (for real Open WebUI replicas): Debian's PostgreSQL binaries,
// `initdb` into the lab's state directory, one postmaster on a free port bound to 127.0.0.1, no
// Unix socket, trust auth for the lab's one user. Never the system service.
//
// Contract: `startPostgres` returns once the database `openwebui` exists and accepts connections;
// the caller records the result in state.json right away so `stopPostgres` works from a NEW
// process. When run as root, the cluster runs as the `postgres` system user (Postgres refuses
// root) and its data directory is owned by that user. `stopPostgres` is idempotent: fast shutdown
// (SIGINT), then SIGKILL of the postmaster and of every backend left in the data directory.

import { execFile } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PreflightError } from '../../core/errors.js';
import { freePort, isAlive, sleep, spawnDaemon, tailFile, tcpOpen } from '../../infra/process/daemon.js';
import type { PostgresRecord } from '../../infra/lab-state.js';

export const PG_USER = 'owui';
export const PG_DATABASE = 'openwebui';

/** Debian puts each major version's binaries in /usr/lib/postgresql/<major>/bin; newest first. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : join(root, majors[0], 'bin');
}

function osUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] && f[3]) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // no passwd
  }
  return undefined;
}

function run(
  command: string,
  args: string[],
  who: { uid: number; gid: number } | undefined,
  cwd: string,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd,
        timeout: 60_000,
        ...(who ? { uid: who.uid, gid: who.gid } : {}),
        env: { PATH: process.env.PATH ?? '', LANG: 'C.UTF-8' },
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

export interface StartPostgresOptions {
  /** The part's directory in the lab state dir (data/ and the log go there). */
  dir: string;
  readyBudgetMs?: number;
  /** Marker env for `lab down`'s orphan sweep. */
  env?: Record<string, string>;
}

export async function startPostgres(
  opts: StartPostgresOptions,
  onSpawn: (rec: PostgresRecord) => void,
): Promise<PostgresRecord> {
  const binDir = findPostgresBin();
  if (!binDir) {
    throw new PreflightError('PostgreSQL is not installed (the real Open WebUI lab needs it)', {
      code: 'LAB_BINARY_MISSING',
      suggestions: ['sudo apt-get install -y postgresql', 'bash scripts/setup.sh'],
    });
  }
  const asRoot = process.getuid?.() === 0;
  const who = asRoot ? osUser('postgres') : undefined;
  if (asRoot && !who) {
    throw new PreflightError('Running as root, but there is no `postgres` user to run the lab cluster as', {
      code: 'LAB_BINARY_MISSING',
      suggestions: ['sudo apt-get install -y postgresql (creates the postgres user)'],
    });
  }
  const budget = opts.readyBudgetMs ?? 30_000;
  // The postgres user must be able to enter the data directory. A state dir under a private
  // directory (mode 0700, e.g. from mkdtemp) is not reachable: then the cluster lives in a fresh
  // directory of the system temp dir instead, recorded like any other (lab down removes it).
  const inStateDir = join(opts.dir, 'data');
  let dataDir = inStateDir;
  if (who && !reachable(opts.dir, who)) {
    const base = mkdtempSync(join(tmpdir(), 'owui-chaos-pg-'));
    chownSync(base, who.uid, who.gid);
    dataDir = join(base, 'data');
  }
  const logFile = join(opts.dir, 'postgres.log');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (who) chownSync(dataDir, who.uid, who.gid);

  const init = await run(
    join(binDir, 'initdb'),
    ['-D', dataDir, '-U', PG_USER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'],
    who,
    dataDir,
  );
  if (init.code !== 0) {
    throw new PreflightError(`initdb of the lab's Postgres cluster failed (exit ${init.code})`, {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`ls -ld ${opts.dir} (the postgres user must be able to enter it)`],
      cause: new Error(init.output.trim().split('\n').slice(-10).join('\n')),
    });
  }
  const version = readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim();
  const port = await freePort();
  const daemon = await spawnDaemon({
    name: 'postgres',
    command: join(binDir, 'postgres'),
    args: [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
    ],
    logFile,
    cwd: dataDir,
    env: { PATH: process.env.PATH ?? '', LANG: 'C.UTF-8', ...opts.env },
    ...(who ? { uid: who.uid, gid: who.gid } : {}),
  });
  const record: PostgresRecord = {
    ...daemon,
    port,
    dataDir,
    binDir,
    user: PG_USER,
    database: PG_DATABASE,
    version,
    ...(who ? { osUser: 'postgres' } : {}),
  };
  onSpawn(record);

  const deadline = Date.now() + budget;
  let reason = 'not accepting connections yet';
  for (;;) {
    if (!isAlive(record.pid)) {
      reason = `postgres (pid ${record.pid}) exited`;
      break;
    }
    if (await tcpOpen(port)) {
      const ready = await run(
        join(binDir, 'pg_isready'),
        ['-h', '127.0.0.1', '-p', String(port), '-U', PG_USER],
        who,
        dataDir,
      );
      if (ready.code === 0) break;
      reason = ready.output.trim();
    }
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  if (Date.now() > deadline || !isAlive(record.pid)) {
    throw new PreflightError(
      `The lab's Postgres did not accept connections within ${Math.round(budget / 1000)} s (${reason})`,
      {
        code: 'LAB_PART_UNHEALTHY',
        suggestions: [`cat ${logFile}`],
        cause: new Error(`last log lines of postgres:\n${tailFile(logFile, 15) || '(log is empty)'}`),
      },
    );
  }
  const created = await run(
    join(binDir, 'createdb'),
    ['-h', '127.0.0.1', '-p', String(port), '-U', PG_USER, PG_DATABASE],
    who,
    dataDir,
  );
  if (created.code !== 0) {
    throw new PreflightError(`Creating the database ${PG_DATABASE} in the lab's Postgres failed`, {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`cat ${logFile}`],
      cause: new Error(created.output.trim()),
    });
  }
  return record;
}

/** Whether every directory from `/` down to `dir` lets `who` pass (x for owner, group or other). */
function reachable(dir: string, who: { uid: number; gid: number }): boolean {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const st = statSync(d);
      const x = st.uid === who.uid ? 0o100 : st.gid === who.gid ? 0o010 : 0o001;
      if ((st.mode & x) === 0) return false;
    } catch {
      return false;
    }
    if (dirname(d) === d) return true;
  }
}

/** `postgresql+psycopg://` (Open WebUI 0.12 ships psycopg 3, not psycopg2) at `host:port`. */
export function postgresUrl(rec: Pick<PostgresRecord, 'user' | 'database'>, hostPort: string): string {
  return `postgresql+psycopg://${rec.user}@${hostPort}/${rec.database}`;
}

/** Fast shutdown, then SIGKILL; also kills backends left behind in the data directory. */
export async function stopPostgres(
  rec: Pick<PostgresRecord, 'pid' | 'dataDir'>,
  graceMs = 10_000,
): Promise<void> {
  if (isAlive(rec.pid)) {
    try {
      process.kill(rec.pid, 'SIGINT');
    } catch {
      // gone
    }
    const deadline = Date.now() + graceMs;
    while (isAlive(rec.pid) && Date.now() < deadline) await sleep(50);
    if (isAlive(rec.pid)) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const pid of processesIn(rec.dataDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 100 && (isAlive(rec.pid) || processesIn(rec.dataDir).length > 0); i++) await sleep(20);
  // A cluster that had to live outside the state dir (see startPostgres) is removed with it.
  const parent = dirname(rec.dataDir);
  if (parent.startsWith(join(tmpdir(), 'owui-chaos-pg-'))) rmSync(parent, { recursive: true, force: true });
}

function processesIn(dir: string): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cwd = readlinkSync(`/proc/${e}/cwd`);
      if ((cwd === dir || cwd.startsWith(`${dir}/`)) && isAlive(Number(e))) out.push(Number(e));
    } catch {
      // gone or not ours
    }
  }
  return out;
}

/** Whether the cluster accepts connections (for `lab status`). */
export async function postgresStatus(rec: PostgresRecord): Promise<{ ok: boolean; detail: string }> {
  if (!isAlive(rec.pid)) return { ok: false, detail: `postgres (pid ${rec.pid}) is not running` };
  const ready = await run(
    join(rec.binDir, 'pg_isready'),
    ['-h', '127.0.0.1', '-p', String(rec.port), '-U', rec.user],
    undefined,
    '/',
  );
  return {
    ok: ready.code === 0,
    detail: ready.code === 0 ? `PostgreSQL ${rec.version}, db ${rec.database}` : ready.output.trim(),
  };
}
