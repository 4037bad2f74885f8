// The file lease (src/app/safety/lease.ts) with real files and real processes: a live holder is
// refused with who it is and how to wait; --break-lease refuses while the holder runs and works
// once it is gone; a rollback of the dead holder's run takes it over without --break-lease; a
// reused pid (other start time) counts as gone; release only removes one's own lease.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLease, labLeaseStore, type LeaseHolder } from '../../../src/app/safety/lease.js';
import { OwuiChaosError } from '../../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'owui-lease-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a process that has exited (so it is gone). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

async function refusal(p: Promise<unknown>): Promise<OwuiChaosError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OwuiChaosError);
    return err as OwuiChaosError;
  }
  throw new Error('expected a refusal');
}

describe('file lease', () => {
  it('refuses a second holder at once, naming the first (run id, host, pid, since) and how to wait', async () => {
    const lab = join(dir, 'a');
    const first = await acquireLease({
      store: labLeaseStore(lab),
      runId: 'run-1',
      command: 'run',
      target: 'lab a',
    });
    const err = await refusal(
      acquireLease({ store: labLeaseStore(lab), runId: 'run-2', command: 'run', target: 'lab a' }),
    );
    expect(err.code).toBe('LEASE_HELD');
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain(
      `run run-1 (host ${first.holder.host}, pid ${process.pid}, since ${first.holder.since})`,
    );
    expect(err.suggestions.join('\n')).toContain(`kill -0 ${process.pid}`);
    // --break-lease never takes it from a live holder.
    const still = await refusal(
      acquireLease({
        store: labLeaseStore(lab),
        runId: 'run-2',
        command: 'run',
        target: 'lab a',
        breakLease: true,
      }),
    );
    expect(still.code).toBe('LEASE_HELD');
    await first.release();
    const second = await acquireLease({
      store: labLeaseStore(lab),
      runId: 'run-2',
      command: 'run',
      target: 'lab a',
    });
    await second.release();
  });

  it('a dead holder: refused without --break-lease, broken with it; its rollback takes it over', async () => {
    const lab = join(dir, 'b');
    const store = labLeaseStore(lab);
    const holder: LeaseHolder = {
      host: (await import('node:os')).hostname(),
      pid: deadPid(),
      runId: 'crashed-run',
      command: 'run',
      since: new Date().toISOString(),
      target: 'lab b',
      token: 't-1',
    };
    const seed = async (): Promise<void> => {
      await store.tryAcquire(holder);
    };
    await seed();
    const err = await refusal(
      acquireLease({ store: labLeaseStore(lab), runId: 'new', command: 'run', target: 'lab b' }),
    );
    expect(err.message).toContain('holder gone');
    expect(err.suggestions.join(' ')).toContain('--break-lease');
    const notes: string[] = [];
    const broken = await acquireLease({
      store: labLeaseStore(lab),
      runId: 'new',
      command: 'run',
      target: 'lab b',
      breakLease: true,
      onNotice: (t) => notes.push(t),
    });
    expect(notes.join(' ')).toMatch(/breaking the lease .* its process is gone/);
    await broken.release();
    await seed();
    const rollback = await acquireLease({
      store: labLeaseStore(lab),
      runId: 'crashed-run',
      command: 'rollback',
      target: 'lab b',
      takeOverFrom: 'crashed-run',
    });
    expect(rollback.holder.command).toBe('rollback');
    await rollback.release();
  });

  it('a reused pid (same pid, other start time) counts as gone; release leaves a lease that is not ours', async () => {
    const lab = join(dir, 'c');
    const mine = await acquireLease({
      store: labLeaseStore(lab),
      runId: 'r',
      command: 'run',
      target: 'lab c',
    });
    const file = join(lab, 'lease.json');
    const data = JSON.parse(readFileSync(file, 'utf8')) as LeaseHolder;
    writeFileSync(file, JSON.stringify({ ...data, pidStart: '1', token: 'someone-else' }));
    await mine.release(); // not ours any more: stays
    expect(JSON.parse(readFileSync(file, 'utf8')).token).toBe('someone-else');
    const taken = await acquireLease({
      store: labLeaseStore(lab),
      runId: 'r2',
      command: 'run',
      target: 'lab c',
      breakLease: true,
    });
    await taken.release();
  });
});
