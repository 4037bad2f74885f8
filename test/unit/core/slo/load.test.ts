import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/core/errors.js';
import { parseSloDocument } from '../../../../src/core/slo/load.js';

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

  it('rejects a document without a list', () => {
    expect(() => parseSloDocument('title: nope\n')).toThrow(/holds no SLO list/);
  });
});
