import { describe, expect, it } from 'vitest';
import { RollbackError } from '../../../../src/core/errors.js';
import type { RevertRecord, ToxicSpec } from '../../../../src/core/ports.js';
import {
  type RevertDrivers,
  compositeRevertRecord,
  describeRevert,
  removeToxicRecord,
  replicaStartRecord,
  replicaUnpauseRecord,
  restoreConfigRecord,
  restoreToxicRecord,
  replayRevert as revertFromRecord,
  sentinelRestartNodeRecord,
  setEnabledRecord,
  sha256,
} from '../../../../src/core/faults/revert-record.js';

/** Fake drivers that record every call, so each record's replay can be checked exactly. */
function fakes(config = Buffer.from('current')): { drivers: Required<RevertDrivers>; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const rec = (...c: unknown[]): Promise<void> => {
    calls.push(c);
    return Promise.resolve();
  };
  return {
    calls,
    drivers: {
      replicas: {
        start: (id) => rec('start', id),
        unpause: (id) => rec('unpause', id),
        waitHealthy: (id, b) => rec('waitHealthy', id, b),
      },
      sentinel: { restartNode: (node, budget) => rec('restartNode', node, budget) },
      toxiproxy: {
        removeToxic: (p, t) => rec('removeToxic', p, t),
        setEnabled: (p, e) => rec('setEnabled', p, e),
        restoreToxic: (p, t) => rec('restoreToxic', p, t),
      },
      nginx: {
        readConfig: () => Promise.resolve(config),
        applyConfig: (b) => rec('applyConfig', b.toString('latin1')),
      },
      scaler: { scale: (a) => rec('scale', a) },
    },
  };
}

/** What `owui-chaos rollback` sees: the record after a trip through the revert stack file. */
const persisted = (r: RevertRecord): RevertRecord => JSON.parse(JSON.stringify(r)) as RevertRecord;

const latency: ToxicSpec = {
  name: 'lat',
  type: 'latency',
  stream: 'downstream',
  toxicity: 1,
  attributes: { latency: 500, jitter: 0 },
};

describe('scale/command records (capacity --scale-cmd)', () => {
  const scale = {
    driver: 'scale',
    op: 'command',
    args: {
      command: 'kubectl scale --replicas=3',
      template: 'kubectl scale --replicas={n}',
      replicas: 3,
      url: 'http://127.0.0.1:1',
    },
  } as const;

  it('replay runs the template for the recorded count, also after a trip through the file', async () => {
    const { drivers, calls } = fakes();
    await revertFromRecord(persisted(scale), drivers);
    expect(calls).toEqual([['scale', { template: scale.args.template, replicas: 3, url: scale.args.url }]]);
    expect(describeRevert(scale)).toContain('scale back to 3 replica(s)');
  });

  it('a damaged one (no template) is refused before anything runs', async () => {
    const { drivers, calls } = fakes();
    const bad = { ...scale, args: { ...scale.args, template: undefined } };
    await expect(revertFromRecord(bad as unknown as RevertRecord, drivers)).rejects.toMatchObject({
      code: 'REVERT_RECORD_INVALID',
    });
    expect(calls).toEqual([]);
  });
});

describe('revertFromRecord', () => {
  it('replays every kind of record as the call that undoes it', async () => {
    const { drivers, calls } = fakes();
    await revertFromRecord(persisted(replicaStartRecord('owui-2', 30_000)), drivers);
    await revertFromRecord(persisted(replicaStartRecord('owui-3')), drivers);
    await revertFromRecord(persisted(replicaUnpauseRecord('owui-1', 5000)), drivers);
    await revertFromRecord(
      persisted(sentinelRestartNodeRecord({ host: '127.0.0.1', port: 6380 }, 'mymaster', 20_000)),
      drivers,
    );
    await revertFromRecord(persisted(removeToxicRecord('llm', 'lat')), drivers);
    await revertFromRecord(persisted(restoreToxicRecord('redis', latency)), drivers);
    await revertFromRecord(persisted(setEnabledRecord('redis', true)), drivers);
    expect(calls).toEqual([
      ['start', 'owui-2'],
      ['waitHealthy', 'owui-2', 30_000],
      ['start', 'owui-3'],
      ['unpause', 'owui-1'],
      ['waitHealthy', 'owui-1', 5000],
      ['restartNode', { host: '127.0.0.1', port: 6380 }, 20_000],
      ['removeToxic', 'llm', 'lat'],
      ['restoreToxic', 'redis', latency],
      ['setEnabled', 'redis', true],
    ]);
  });

  it('restores the original nginx bytes exactly, and does nothing when they are already in place', async () => {
    const original = Buffer.from([0x68, 0x74, 0x74, 0x70, 0x0d, 0x0a, 0xc3, 0xbc, 0xff]);
    const changed = fakes(Buffer.from('proxy_buffering off;'));
    await revertFromRecord(
      persisted(restoreConfigRecord('/etc/nginx/nginx.conf', original)),
      changed.drivers,
    );
    expect(changed.calls).toEqual([['applyConfig', original.toString('latin1')]]);

    const same = fakes(original);
    await revertFromRecord(
      persisted(restoreConfigRecord('/etc/nginx/nginx.conf', original, 'lb')),
      same.drivers,
    );
    expect(same.calls).toEqual([]);
  });

  it('refuses a corrupt nginx record instead of writing wrong bytes', async () => {
    const { drivers, calls } = fakes();
    const record = persisted(restoreConfigRecord('/etc/nginx/nginx.conf', Buffer.from('original')));
    (record.args as { base64: string }).base64 = Buffer.from('tampered').toString('base64');
    const err = await revertFromRecord(record, drivers).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RollbackError);
    expect((err as RollbackError).code).toBe('REVERT_RECORD_INVALID');
    expect((err as RollbackError).message).toContain('sha256 mismatch');
    expect(calls).toEqual([]);
  });

  it('rejects unknown records, invalid args and missing drivers with distinct codes', async () => {
    // As a damaged or newer revert stack on disk could hold them (hence the casts).
    const unknown = await revertFromRecord(
      { driver: 'toxiproxy', op: 'explode', args: {} } as unknown as RevertRecord,
      fakes().drivers,
    ).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RollbackError);
    expect((unknown as RollbackError).code).toBe('REVERT_RECORD_UNKNOWN');
    expect((unknown as RollbackError).message).toContain('`toxiproxy/explode`');

    const invalid = await revertFromRecord(
      { driver: 'replicas', op: 'start', args: { id: 3, extra: true } } as unknown as RevertRecord,
      fakes().drivers,
    ).catch((e: unknown) => e);
    expect((invalid as RollbackError).code).toBe('REVERT_RECORD_INVALID');
    expect((invalid as RollbackError).message).toMatch(/`replicas\/start` \(id: .*\)/);

    const missing = await revertFromRecord(
      sentinelRestartNodeRecord({ host: 'h', port: 1 }, 'm', 1000),
      {},
    ).catch((e: unknown) => e);
    expect((missing as RollbackError).code).toBe('REVERT_DRIVER_MISSING');
    expect((missing as RollbackError).message).toContain('no sentinel driver');
    expect((missing as RollbackError).exitCode).toBe(14);
  });

  it('describes records in one human line', () => {
    expect(describeRevert(removeToxicRecord('llm', 'lat'))).toBe('remove toxic lat from proxy llm');
    expect(describeRevert(setEnabledRecord('redis', true))).toBe('enable proxy redis');
    expect(describeRevert(replicaStartRecord('owui-2'))).toBe('start replica owui-2');
    expect(describeRevert(sentinelRestartNodeRecord({ host: '127.0.0.1', port: 6380 }, 'm', 1))).toBe(
      'restart Redis node 127.0.0.1:6380',
    );
    const original = Buffer.from('x');
    expect(describeRevert(restoreConfigRecord('/n.conf', original))).toBe(
      `restore nginx config /n.conf (sha256 ${sha256(original).slice(0, 12)}…)`,
    );
  });
});

describe('composite records', () => {
  it('reverts every part, last first, and reports the parts that failed', async () => {
    const { drivers, calls } = fakes();
    const failing: RevertDrivers = {
      ...drivers,
      replicas: {
        ...drivers.replicas,
        start: (id) => (id === 'a' ? Promise.reject(new Error('engine gone')) : drivers.replicas.start(id)),
      },
    };
    const record = persisted(
      compositeRevertRecord([replicaStartRecord('a'), replicaStartRecord('b'), removeToxicRecord('p', 't')]),
    );
    expect(describeRevert(record)).toBe('start replica a; start replica b; remove toxic t from proxy p');
    const err = await revertFromRecord(record, failing).catch((e: unknown) => e);
    expect(calls).toEqual([
      ['removeToxic', 'p', 't'],
      ['start', 'b'],
    ]);
    expect(err).toBeInstanceOf(RollbackError);
    expect((err as RollbackError).message).toBe('1 of 3 reverts failed (start replica a: engine gone)');
  });
});
