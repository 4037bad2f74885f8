// `settings.rollbackStrategy: never`, through the built CLI against a real lab: the run ends with
// its window-less faults still injected (seen in Toxiproxy's API), pending on the revert stack, and
// says so (terminal notice, journal event); a later `owui-chaos rollback --run DIR` reverts them.
// The control is the same lab before and after: clean.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, readJson, runCli, runExperimentCli, sharedTestLab, toxiproxyClean } from './support.js';

const needLab = sharedTestLab('never');

describe('owui-chaos run with rollbackStrategy: never', () => {
  it('leaves the faults without `for` in place, says so, and `rollback` reverts them later', async (ctx) => {
    const l = needLab(ctx);
    expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
    const outDir = join(l.home, 'runs', 'never');
    const exit = await runExperimentCli(l, fixture('rollback-never'), outDir, ['--keep-lab']).exit;
    expect(exit.code, exit.stdout + exit.stderr).toBe(0);
    expect(exit.stdout + exit.stderr).toMatch(/rollbackStrategy is `never`: 2 fault\(s\) left in place/);

    // Still injected, seen from outside: the latency toxic (named after entry and run) and the disabled proxy.
    const during = await toxiproxyClean(l.state());
    expect(during.disabled).toEqual(['redis-replica']);
    expect(during.toxics).toHaveLength(1);
    expect(during.toxics[0]).toMatch(/^llm\/owui-chaos-kept-latency--run-[0-9a-f]{8}$/);

    const stack = readJson<{ entries: Array<{ name: string; status: string }> }>(
      join(outDir, 'reverts.json'),
    );
    expect(stack.entries.map((e) => [e.name, e.status])).toEqual([
      ['short', 'reverted'], // its window ended during the run
      ['kept-latency', 'pending'],
      ['kept-down', 'pending'],
    ]);
    const journal = readJson<{ status: string; events?: Array<{ code: string; message: string }> }>(
      join(outDir, 'journal.json'),
    );
    expect(journal.status).toBe('completed');
    expect(journal.events).toEqual([
      expect.objectContaining({ code: 'ROLLBACK_SKIPPED', message: expect.stringContaining('kept-latency') }),
    ]);

    const rollback = await runCli(l, ['rollback', '--run', outDir]).exit;
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('Rolled back 2 fault(s)');
    expect(await toxiproxyClean(l.state())).toEqual({ disabled: [], toxics: [] });
    const after = readJson<{ entries: Array<{ name: string; status: string }> }>(
      join(outDir, 'reverts.json'),
    );
    expect(after.entries.map((e) => e.status)).toEqual(['reverted', 'reverted', 'reverted']);
  }, 180_000);
});
