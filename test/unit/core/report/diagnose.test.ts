import { describe, expect, it } from 'vitest';
import { evaluateSamples } from '../../../../src/core/report/evaluate.js';
import type { Sample } from '../../../../src/core/samples.js';
import type { SloSpec } from '../../../../src/core/slo/spec.js';
import { classifyTokenProbes } from '../../../../src/engines/node/provisioning.js';
import { T0, journalWith, sample, ttftSeries } from './synthetic.js';

const slos: SloSpec[] = [
  { metric: 'ws_connect_errors', stat: 'count', lte: 0, phases: ['all'], client: 'browser' },
  { metric: 'burst_size', stat: 'p95', lte: 4, phases: ['all'], client: 'api' },
];
const ids = (samples: Sample[], extra: SloSpec[] = []): string[] =>
  (evaluateSamples(samples, { journal: null, slos: [...slos, ...extra] }).diagnoses ?? []).map((d) => d.id);
const healthy = (): Sample[] => [
  ...ttftSeries(T0, T0 + 20_000, () => 100),
  ...Array.from({ length: 50 }, (_, i) => sample('burst_size', T0 + i * 100, 1, { client: 'api' })),
];
const connectError = (reason: string, status?: string): Sample =>
  sample('ws_connect_errors', T0 + 1000, 1, { client: 'browser', reason, ...(status ? { status } : {}) });

describe('diagnose: each symptom names its cause; the healthy run gets none', () => {
  it('negative control: a healthy run has no diagnosis', () => {
    expect(ids(healthy())).toEqual([]);
  });

  it('a handshake refused with 400 points at the Upgrade/Connection headers', () => {
    expect(ids([...healthy(), connectError('handshake', '400')])).toEqual(['websocket-upgrade-headers']);
  });

  it('an origin refusal points at CORS_ALLOW_ORIGIN (not at the headers)', () => {
    expect(ids([...healthy(), connectError('origin_refused', '400')])).toEqual(['cors-allow-origin']);
  });

  it('a refused user-join or HTTP 401s point at WEBUI_SECRET_KEY', () => {
    expect(ids([...healthy(), connectError('join_refused')])).toEqual(['webui-secret-key']);
    expect(
      ids([
        ...healthy(),
        sample('http_errors', T0 + 500, 1, { status: '401', endpoint: '/api/chat/completions' }),
      ]),
    ).toEqual(['webui-secret-key']);
  });

  it('bursts point at proxy buffering', () => {
    const bursts = Array.from({ length: 50 }, (_, i) =>
      sample('burst_size', T0 + i * 100, 15, { client: 'api' }),
    );
    expect(ids([...ttftSeries(T0, T0 + 20_000, () => 100), ...bursts])).toEqual(['proxy-buffering']);
  });

  it('HTTP errors after a Redis failover that never stop point at a pinned master', () => {
    const samples = [
      ...ttftSeries(T0, T0 + 90_000, () => 100),
      ...Array.from({ length: 40 }, (_, i) =>
        sample('http_errors', T0 + 50_000 + i * 1000, 1, {
          status: '500',
          endpoint: '/api/chat/completions',
        }),
      ),
    ];
    const journal = journalWith([
      { name: 'failover', action: 'redis.failover', start: T0 + 30_000, end: T0 + 40_000 },
    ]);
    const all: SloSpec = { metric: 'http_errors', stat: 'count', lte: 0, phases: ['baseline', 'recovery'] };
    const r = evaluateSamples(samples, { journal, slos: [all] });
    expect(r.recovery[0]).toMatchObject({
      recovered: false,
      reason: 'never-recovered',
      timeToImpactMs: 20_000,
    });
    expect((r.diagnoses ?? []).map((d) => d.id)).toEqual(['pinned-redis-master']);
    // Control: the same errors stopping after 5 s → recovered, no such diagnosis.
    const brief = samples.filter((s) => s.metric !== 'http_errors' || s.timeMs < T0 + 55_000);
    const ok = evaluateSamples(brief, { journal, slos: [all] });
    expect(ok.recovery[0]?.recovered).toBe(true);
    expect((ok.diagnoses ?? []).map((d) => d.id)).toEqual([]);
  });
});

describe('classifyTokenProbes (WEBUI_SECRET_KEY at preflight)', () => {
  it('mixed 200/401 across replicas is a secret mismatch', () => {
    const v = classifyTokenProbes([
      { status: 200, replica: 'owui-1' },
      { status: 401, replica: 'owui-2' },
      { status: 401, replica: 'owui-3' },
    ]);
    expect(v.kind).toBe('secret-mismatch');
    expect(v.summary).toBe('1 of 3 accepted (by owui-1), 2 refused with 401 (by owui-2, owui-3)');
  });
  it('accepted everywhere is fine; refused everywhere is about the token', () => {
    expect(
      classifyTokenProbes([
        { status: 200, replica: 'a' },
        { status: 200, replica: 'b' },
      ]).kind,
    ).toBe('accepted');
    expect(classifyTokenProbes([{ status: 401, replica: 'a' }]).kind).toBe('refused-everywhere');
  });
});
