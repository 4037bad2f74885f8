import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../../../src/core/config/target.js';
import { ValidationError } from '../../../../src/core/errors.js';
import { checkHandFault, faultCatalogue } from '../../../../src/core/gameday/hand-fault.js';
import type { TimelineEntry } from '../../../../src/core/config/faults.js';

async function target(safety: string): Promise<Awaited<ReturnType<typeof parseTarget>>['target']> {
  const yaml = [
    'name: t',
    'openwebui: { url: "http://127.0.0.1:1" }',
    'auth: { apiKeys: [k] }',
    'model: m',
    'replicas: { type: lab-process, lab-process: { stateDir: /tmp/x } }',
    'toxiproxy: { url: "http://127.0.0.1:2", proxies: [{ name: llm, listen: "127.0.0.1:3", upstream: "127.0.0.1:4" }, { name: redis-master, listen: "127.0.0.1:5", upstream: "127.0.0.1:6" }] }',
    `safety: ${safety}`,
    '',
  ].join('\n');
  return (await parseTarget(yaml, 't.yaml')).target;
}

function refused(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('checkHandFault: hand faults pass the gate of experiment files', () => {
  it('accepts a valid toxic, fills defaults and names it', async () => {
    const t = await target('{ allowDestructive: true, maxUnavailable: 1 }');
    const e = checkHandFault(
      { action: 'toxic.latency', params: { proxy: 'llm', latency: '1500ms' }, for: '30s' },
      { target: t, active: [], usedNames: new Set(['latency-1']) },
    );
    expect(e).toMatchObject({ name: 'latency-2', action: 'toxic.latency', for: 30_000 });
    expect(e.params).toEqual({ proxy: 'llm', latency: 1500, jitter: 0, stream: 'downstream', toxicity: 1 });
  });

  it('reports schema problems as file-style issues (missing param, unknown key, bad action)', async () => {
    const t = await target('{ allowDestructive: true, maxUnavailable: 1 }');
    const opts = { target: t, active: [], usedNames: new Set<string>() };
    const missing = refused(() =>
      checkHandFault({ action: 'toxic.latency', params: { proxy: 'llm' } }, opts),
    );
    expect(missing.issues.map((i) => i.path)).toEqual(['params.latency']);
    const typo = refused(() =>
      checkHandFault({ action: 'toxic.latency', params: { proxy: 'llm', latency: 5, latncy: 1 } }, opts),
    );
    expect(typo.issues.map((i) => i.message).join()).toMatch(/latncy/);
    expect(refused(() => checkHandFault({ action: 'toxic.nope' }, opts)).issues[0]!.code).toBe(
      'UNKNOWN_ACTION',
    );
  });

  it('applies the target safety rules: allowDestructive, known proxies, maxUnavailable, unique names', async () => {
    const safe = await target('{ allowDestructive: false, maxUnavailable: 1 }');
    const none = { active: [] as TimelineEntry[], usedNames: new Set<string>() };
    expect(
      refused(() => checkHandFault({ action: 'replica.kill' }, { target: safe, ...none })).message,
    ).toMatch(/refused/);
    // A non-destructive toxic on a safe target is fine (the healthy case).
    expect(
      checkHandFault(
        { action: 'toxic.latency', params: { proxy: 'llm', latency: 1 } },
        { target: safe, ...none },
      ).name,
    ).toBe('latency-1');
    expect(
      refused(() =>
        checkHandFault(
          { action: 'toxic.latency', params: { proxy: 'lm', latency: 1 } },
          { target: safe, ...none },
        ),
      ).issues[0]!.message,
    ).toMatch(/did you mean `llm`/);

    const t = await target('{ allowDestructive: true, maxUnavailable: 1 }');
    const first = checkHandFault({ action: 'replica.kill' }, { target: t, ...none });
    const second = refused(() =>
      checkHandFault(
        { action: 'replica.stop' },
        { target: t, active: [first], usedNames: new Set([first.name]) },
      ),
    );
    expect(second.issues[0]!.message).toMatch(
      /2 replicas out of service together with `kill-1`.*maxUnavailable` \(1\)/,
    );
    // Once it is reverted (no longer active), the next one passes.
    expect(
      checkHandFault({ action: 'replica.stop' }, { target: t, active: [], usedNames: new Set(['kill-1']) })
        .name,
    ).toBe('stop-1');
    expect(
      refused(() =>
        checkHandFault(
          { name: 'kill-1', action: 'replica.stop' },
          { target: t, active: [], usedNames: new Set(['kill-1']) },
        ),
      ).issues[0]!.code,
    ).toBe('DUPLICATE_NAME');
  });

  it('describes every action of the catalogue for the forms', () => {
    const cat = faultCatalogue();
    expect(cat).toHaveLength(15);
    const latency = cat.find((a) => a.action === 'toxic.latency')!;
    expect(latency.params.map((p) => [p.name, p.type, p.required])).toEqual([
      ['proxy', 'text', true],
      ['stream', 'enum', false],
      ['toxicity', 'number', false],
      ['latency', 'duration', true],
      ['jitter', 'duration', false],
    ]);
    expect(cat.find((a) => a.action === 'nginx.buffering')!.params[0]).toMatchObject({
      name: 'enabled',
      type: 'boolean',
    });
  });
});
