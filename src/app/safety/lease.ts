// An exclusive lease per target (docs/safety.md): `run` (and `rollback`, later `gameday` and
// `capacity`) takes it before touching the target and releases it at the end. A second holder is
// refused at once with who holds it (run id, host, pid, since when) and how to wait or break it.
//
// Where the lease lives:
//  - the lab: `lease.json` in the lab's state directory (every user of the lab sees it);
//  - a real target that names Redis: a key in the deployment's own Redis with a TTL that the
//    holder refreshes while it lives (a second operator on another machine sees it; a holder that
//    dies lets it expire) — see src/drivers/sentinel/redis-lease-store.ts;
//  - any other real target: a lock file under OWUI_CHAOS_HOME, with a warning that it is local only.
//
// `--break-lease` removes a lease only when its holder is gone (its process no longer runs on this
// host). A holder on another host cannot be checked from here: a Redis lease expires by itself
// within its TTL once its holder stops refreshing it; a local lock file from another host (a shared
// home) may be broken, and the notice says that it could not be checked.

import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PreflightError, errorMessage } from '../../core/errors.js';
import { liveness, thisProcess, type Liveness, type ProcessIdentity } from './process-identity.js';

export interface LeaseHolder extends ProcessIdentity {
  runId: string;
  /** `run`, `rollback`, … */
  command: string;
  /** ISO time the lease was taken. */
  since: string;
  target: string;
  /** Unique per acquisition: only the holder with this token refreshes or releases it. */
  token: string;
}

export type AcquireAttempt = { ok: true } | { ok: false; holder: LeaseHolder | undefined; ttlMs?: number };

export interface LeaseStore {
  kind: 'lab' | 'redis' | 'local-file';
  /** Where the lease lives, for messages. */
  where: string;
  tryAcquire(holder: LeaseHolder): Promise<AcquireAttempt>;
  /** Removes the lease `stale` names (only if it is still that one). */
  breakLease(stale: LeaseHolder | undefined): Promise<void>;
  /** Extends a TTL lease; false when it is no longer ours. Absent for leases without TTL. */
  refresh?(holder: LeaseHolder): Promise<boolean>;
  refreshEveryMs?: number;
  release(holder: LeaseHolder): Promise<void>;
  close(): Promise<void>;
}

export interface Lease {
  holder: LeaseHolder;
  store: Pick<LeaseStore, 'kind' | 'where'>;
  release(): Promise<void>;
}

export interface AcquireOptions {
  store: LeaseStore;
  runId: string;
  command: string;
  target: string;
  /** Remove a lease whose holder is gone (never one whose holder still runs). */
  breakLease?: boolean;
  /**
   * The run this command works for (`rollback` of run R): a lease R left behind when it died is
   * taken over without `--break-lease`.
   */
  takeOverFrom?: string;
  onNotice?: (text: string) => void;
}

export async function acquireLease(opts: AcquireOptions): Promise<Lease> {
  const notice = opts.onNotice ?? (() => undefined);
  const holder: LeaseHolder = {
    ...thisProcess(),
    runId: opts.runId,
    command: opts.command,
    since: new Date().toISOString(),
    target: opts.target,
    token: randomUUID(),
  };
  const store = opts.store;
  for (let attempt = 0; attempt < 3; attempt++) {
    const got = await store.tryAcquire(holder);
    if (got.ok) break;
    const other = got.holder;
    const state: Liveness | 'unreadable' = other ? liveness(other) : 'unreadable';
    const takeOver = other !== undefined && state === 'gone' && other.runId === opts.takeOverFrom;
    const mayBreak =
      state === 'gone' || state === 'unreadable' || (state !== 'alive' && store.kind !== 'redis');
    if ((takeOver || (opts.breakLease && mayBreak)) && attempt < 2) {
      notice(
        `${takeOver ? 'taking over' : 'breaking'} the lease on ${opts.target} (${store.where}) held by ${describeHolder(other)}: ${state === 'gone' ? 'its process is gone' : state === 'unreadable' ? 'the lease is unreadable' : 'its host cannot be checked from here'}`,
      );
      await store.breakLease(other);
      continue;
    }
    await store.close();
    throw leaseHeld(opts, store, other, state, got.ttlMs);
  }
  if (store.kind === 'local-file') {
    notice(
      `lease: the target names no Redis, so the lease is a lock file on this machine only (${store.where}); a run from another machine would not see it`,
    );
  }
  let timer: NodeJS.Timeout | undefined;
  let lost = false;
  if (store.refresh && store.refreshEveryMs) {
    const refresh = store.refresh.bind(store);
    timer = setInterval(() => {
      refresh(holder).then(
        (ours) => {
          if (!ours && !lost) {
            lost = true;
            notice(`lease: the lease on ${opts.target} (${store.where}) is no longer ours (taken or broken)`);
          }
        },
        (err: unknown) =>
          notice(`lease: could not refresh the lease at ${store.where}: ${errorMessage(err)}`),
      );
    }, store.refreshEveryMs);
  }
  let released = false;
  return {
    holder,
    store: { kind: store.kind, where: store.where },
    async release() {
      if (released) return;
      released = true;
      if (timer) clearInterval(timer);
      try {
        await store.release(holder);
      } finally {
        await store.close();
      }
    },
  };
}

export function describeHolder(h: LeaseHolder | undefined): string {
  if (!h) return 'an unreadable lease';
  return `\`${h.command}\` of run ${h.runId} (host ${h.host}, pid ${h.pid}, since ${h.since})`;
}

function leaseHeld(
  opts: AcquireOptions,
  store: LeaseStore,
  other: LeaseHolder | undefined,
  state: Liveness | 'unreadable',
  ttlMs: number | undefined,
): PreflightError {
  const how: string[] = [];
  if (state === 'alive' && other) {
    how.push(
      `Wait for it to finish: while kill -0 ${other.pid} 2>/dev/null; do sleep 5; done`,
      'Or stop it with Ctrl-C (it reverts its faults), then run again',
      `If that process crashed, --break-lease takes the lease over (it refuses while pid ${other.pid} runs)`,
    );
  } else if (store.kind === 'redis') {
    how.push(
      `Its holder ${state === 'gone' ? 'is gone' : 'cannot be checked from here'}: the lease expires by itself${ttlMs !== undefined ? ` within ${Math.ceil(ttlMs / 1000)} s` : ''} unless it is refreshed`,
      ...(state === 'gone' ? ['Or run again with --break-lease'] : []),
    );
  } else {
    how.push(
      `Its holder is ${state === 'gone' ? 'gone' : state}: run \`owui-chaos rollback\` first if it left faults injected, then run again with --break-lease`,
    );
  }
  return new PreflightError(
    `Target \`${opts.target}\` is leased by ${describeHolder(other)} (${store.where}); \`${opts.command}\` would interfere with it${state === 'alive' ? '' : ` — holder ${state}`}`,
    { code: 'LEASE_HELD', suggestions: how },
  );
}

// ---- the file lease (lab state dir, or a local lock file) --------------------------------------

export class FileLeaseStore implements LeaseStore {
  constructor(
    readonly file: string,
    readonly kind: 'lab' | 'local-file',
  ) {}

  get where(): string {
    return this.file;
  }

  async tryAcquire(holder: LeaseHolder): Promise<AcquireAttempt> {
    mkdirSync(dirname(this.file), { recursive: true });
    // Written whole to a temporary name, then hard-linked: the link either creates the lease with
    // its full content or fails with EEXIST. Nobody ever reads a half-written lease.
    const tmp = `${this.file}.${process.pid}.${holder.token}.tmp`;
    writeFileSync(tmp, JSON.stringify(holder, null, 2));
    try {
      linkSync(tmp, this.file);
      return { ok: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return { ok: false, holder: this.read() };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  async breakLease(stale: LeaseHolder | undefined): Promise<void> {
    const now = this.read();
    if (stale && now && now.token !== stale.token) return; // someone else's by now: try again
    try {
      renameSync(this.file, join(dirname(this.file), `lease.broken-${Date.now()}.json`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async release(holder: LeaseHolder): Promise<void> {
    if (this.read()?.token === holder.token) rmSync(this.file, { force: true });
  }

  async close(): Promise<void> {}

  read(): LeaseHolder | undefined {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as LeaseHolder;
      return typeof data.token === 'string' ? data : undefined;
    } catch {
      return undefined;
    }
  }
}

export const LAB_LEASE_FILE = 'lease.json';

export function labLeaseStore(labStateDir: string): FileLeaseStore {
  return new FileLeaseStore(join(labStateDir, LAB_LEASE_FILE), 'lab');
}

/** The lock file for a real target without Redis: local to this machine. */
export function localLeaseStore(home: string, targetName: string): FileLeaseStore {
  const safe = targetName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'target';
  return new FileLeaseStore(join(home, 'leases', `${safe}.json`), 'local-file');
}
