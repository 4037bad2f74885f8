import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/core/errors.js';
import { parseSloDocument } from '../../../../src/core/slo/load.js';
import { sloId } from '../../../../src/core/slo/spec.js';

describe('SLO files', () => {
  it('accepts a bare list or a `slos:` mapping, applying schema defaults', () => {
    const list = parseSloDocument('- { metric: ttft, stat: p95, lte: 2000 }\n');
    expect(list).toEqual([{ metric: 'ttft', stat: 'p95', lte: 2000, phases: ['all'] }]);
    const mapping = parseSloDocument(
      'slos:\n  - { metric: e2e, stat: p99, lte: 9000, phases: [recovery] }\n',
    );
    expect(mapping[0]?.phases).toEqual(['recovery']);
  });

  it('names the path of every invalid entry', () => {
    const error = (() => {
      try {
        parseSloDocument(
          'slos:\n  - { metric: ttft, stat: p95, lte: 1 }\n  - { metric: tfft, stat: p95, lte: 1 }\n',
          'mine.yaml',
        );
      } catch (e) {
        return e;
      }
    })() as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe('INVALID_SLO_FILE');
    expect(error.issues[0]).toMatchObject({ path: 'slos.1.metric', file: 'mine.yaml' });
  });

  it('reads a client written as a tag as the SLO client, so a share is over that client alone', () => {
    const [slo] = parseSloDocument(
      '- { metric: stream_outcome, stat: rate, tags: { outcome: completed, client: browser }, gte: 0.98 }\n',
    );
    expect(slo).toEqual({
      metric: 'stream_outcome',
      stat: 'rate',
      client: 'browser',
      tags: { outcome: 'completed' },
      gte: 0.98,
      phases: ['all'],
    });
    // The same SLO written either way has one id (defaults and overrides merge by it).
    const [written] = parseSloDocument(
      '- { metric: stream_outcome, stat: rate, client: browser, tags: { outcome: completed }, gte: 0.98 }\n',
    );
    expect(sloId(slo!)).toBe(sloId(written!));
    const [only] = parseSloDocument('- { metric: ttft, stat: p95, tags: { client: api }, lte: 2000 }\n');
    expect(only).toEqual({ metric: 'ttft', stat: 'p95', client: 'api', lte: 2000, phases: ['all'] });
  });

  it('refuses a client tag that is no client, or that disagrees with `client`', () => {
    const issueOf = (text: string) => {
      try {
        parseSloDocument(text, 'mine.yaml');
      } catch (e) {
        return (e as ValidationError).issues[0];
      }
      return undefined;
    };
    expect(issueOf('- { metric: ttft, stat: p95, tags: { client: bot }, lte: 1 }\n')).toMatchObject({
      path: '0.tags.client',
      message: expect.stringMatching(/api. or .browser/),
    });
    expect(
      issueOf('- { metric: ttft, stat: p95, client: api, tags: { client: browser }, lte: 1 }\n'),
    ).toMatchObject({ path: '0.tags.client', message: expect.stringMatching(/agree with .client./) });
  });

  it('rejects a document without a list', () => {
    expect(() => parseSloDocument('title: nope\n')).toThrow(/holds no SLO list/);
  });
});
