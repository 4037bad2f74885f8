import { mkdtempSync } from 'node:fs';
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
        record: { driver: 'toxiproxy', op: 'removeToxic', args: { name } },
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
      seen.push(String(r.args.name));
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
