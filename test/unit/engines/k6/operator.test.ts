import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../../../../src/core/errors.js';
import { CONFIGMAP_LIMIT_BYTES, operatorManifests } from '../../../../src/engines/k6/operator.js';
import { scenarioConfigFromPlan } from '../../../../src/engines/k6/plan.js';

const config = scenarioConfigFromPlan(
  { durationMs: 60_000, baseUrl: 'http://owui.chat.svc:8080', model: 'm1', chat: { vus: 20, tokens: 100 } },
  { version: '0.11.0' },
);

describe('operatorManifests', () => {
  it('writes a ConfigMap with the bundle and a TestRun that runs it on N runners', () => {
    const text = operatorManifests({
      name: 'load-1',
      namespace: 'chaos',
      scenario: 'chat-sse',
      bundleText: 'export default function () {}\n// 数据 😀\n',
      config,
      parallelism: 4,
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- YAML documents are checked field by field below
    const docs = parseAllDocuments(text).map((d) => d.toJS() as Record<string, any>);
    expect(docs).toHaveLength(2);
    const [configMap, testRun] = docs;
    expect(configMap).toMatchObject({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'load-1', namespace: 'chaos' },
    });
    expect(configMap?.data['chat-sse.js']).toBe('export default function () {}\n// 数据 😀\n');
    expect(testRun).toMatchObject({
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      spec: { parallelism: 4, script: { configMap: { name: 'load-1', file: 'chat-sse.js' } } },
    });
    expect(testRun?.spec.arguments).toContain('--out json=/dev/stdout');
    const env = testRun?.spec.runner.env as { name: string; value?: string; valueFrom?: unknown }[];
    expect(JSON.parse(env.find((e) => e.name === 'OWUI_CONFIG')?.value ?? '')).toEqual(config);
    expect(env.find((e) => e.name === 'OWUI_API_TOKENS')?.valueFrom).toEqual({
      secretKeyRef: { name: 'load-1-credentials', key: 'api-tokens', optional: true },
    });
    expect(text).not.toMatch(/sk-[0-9a-f]{8}|eyJ/);
  });

  it('refuses a bundle over the ConfigMap limit and a parallelism below 1', () => {
    const big = 'x'.repeat(CONFIGMAP_LIMIT_BYTES + 1);
    expect(() =>
      operatorManifests({ name: 'n', scenario: 'mixed', bundleText: big, config, parallelism: 1 }),
    ).toThrow(UsageError);
    expect(() =>
      operatorManifests({ name: 'n', scenario: 'mixed', bundleText: '', config, parallelism: 0 }),
    ).toThrow(/parallelism/);
  });
});
