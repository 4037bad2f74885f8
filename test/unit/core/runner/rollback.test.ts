import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RevertRecord } from '../../../../src/core/ports.js';
import { RevertStack } from '../../../../src/core/runner/revert-stack.js';
import { replayReverts } from '../../../../src/core/runner/rollback.js';

function stackWith(names: string[]): { file: string; stack: RevertStack } {
  const file = join(mkdtempSync(join(tmpdir(), 'rollback-')), 'reverts.json');
  const stack = RevertStack.create(file, 'run-9');
  for (const name of names) {
    stack.record(
      {
        name,
        action: 'toxic.latency',
        description: name,
        record: { driver: 'toxiproxy', op: 'removeToxic', args: { proxy: 'llm', toxic: name } },
      },
      1,
    );
  }
  stack.record({ name: 'failover', action: 'redis.failover', description: 'failover', record: null }, 2);
  return { file, stack };
}

describe('replayReverts', () => {
  it('reverts what a crashed run left, most recent first, from a fresh load of the file', async () => {
    const { file } = stackWith(['a', 'b']);
    const seen: string[] = [];
    const report = await replayReverts(RevertStack.load(file), async (r: RevertRecord) => {
      seen.push(r.driver === 'toxiproxy' && r.op === 'removeToxic' ? r.args.toxic : '?');
    });
    expect(seen).toEqual(['b', 'a']);
    expect(report.reverted.map((r) => r.name)).toEqual(['b', 'a']);
    expect(report.alreadyClean).toBe(false);
    // A second rollback finds nothing to do.
    const again = await replayReverts(RevertStack.load(file), async () => {
      throw new Error('must not be called');
    });
    expect(again.alreadyClean).toBe(true);
  });

  it('keeps failed reverts outstanding so a later rollback retries them', async () => {
    const { file } = stackWith(['a']);
    const first = await replayReverts(RevertStack.load(file), async () => {
      throw new Error('toxiproxy unreachable');
    });
    expect(first.failed).toEqual([expect.objectContaining({ name: 'a', error: 'toxiproxy unreachable' })]);
    const second = await replayReverts(RevertStack.load(file), async () => undefined);
    expect(second.reverted.map((r) => r.name)).toEqual(['a']);
  });
});

describe('RevertStack.load', () => {
  it('reads a damaged stack as a RollbackError naming the file and the field', () => {
    const { file } = stackWith(['a']);
    const data = JSON.parse(readFileSync(file, 'utf8')) as { entries: Array<{ record: { args: unknown } }> };
    data.entries[0]!.record.args = { proxy: 'llm' }; // the toxic's name lost
    writeFileSync(file, JSON.stringify(data));
    let err: unknown;
    try {
      RevertStack.load(file);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'REVERT_STACK_INVALID', exitCode: 14 });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toContain('entries.0.record');
  });

  it('reads a stack that is not JSON as the same clear error', () => {
    const { file } = stackWith(['a']);
    writeFileSync(file, '{"schemaVersion": 1, "entries": [');
    expect(() => RevertStack.load(file)).toThrow(/revert stack .* is damaged \(not JSON/);
  });

  it('reads a healthy stack (the control) with its records typed', () => {
    const { file } = stackWith(['a']);
    const [entry] = RevertStack.load(file).outstanding();
    expect(entry?.record).toEqual({
      driver: 'toxiproxy',
      op: 'removeToxic',
      args: { proxy: 'llm', toxic: 'a' },
    });
  });
});
