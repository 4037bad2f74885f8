// A game day's live load control, the parts that need no lab: the change is validated (bounded
// like the flags, the field named), the k6 engine refuses live changes with a clear error, a load
// that is not running cannot be changed, and the terminal's +/- steps stay in bounds.

import { describe, expect, it } from 'vitest';
import { SessionLoad } from '../../../src/app/gameday-load.js';
import { SessionRecord } from '../../../src/app/gameday-record.js';
import type { Experiment } from '../../../src/core/config/experiment.js';
import type { Target } from '../../../src/core/config/target.js';
import { ValidationError } from '../../../src/core/errors.js';
import { MAX_LIVE_VUS, parseLiveLoad, stepLoad } from '../../../src/core/gameday/live-load.js';
import type { LoadEngine } from '../../../src/core/ports.js';
import { K6LoadEngine } from '../../../src/engines/k6/engine.js';
import { NodeLoadEngine } from '../../../src/engines/node/engine.js';

function issuesOf(input: unknown): string[] {
  try {
    parseLiveLoad(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('parseLiveLoad', () => {
  it('takes counts and rates within the bounds (a rate as the flags write it)', () => {
    expect(parseLiveLoad({ chatVus: 12 })).toEqual({ chatVus: 12 });
    expect(parseLiveLoad({ chatVus: 0, socketVus: MAX_LIVE_VUS })).toEqual({
      chatVus: 0,
      socketVus: MAX_LIVE_VUS,
    });
    expect(parseLiveLoad({ chatRate: '300/m' })).toEqual({ chatRate: 5 });
    expect(parseLiveLoad({ chatRate: 2.5 })).toEqual({ chatRate: 2.5 });
  });

  it('refuses what is out of bounds or unknown, naming the field', () => {
    expect(issuesOf({ chatVus: -1 })[0]).toMatch(/^chatVus: /);
    expect(issuesOf({ chatVus: 1.5 })[0]).toMatch(/^chatVus: /);
    expect(issuesOf({ socketVus: MAX_LIVE_VUS + 1 })[0]).toMatch(/^socketVus: /);
    expect(issuesOf({ chatRate: 0 })[0]).toMatch(/^chatRate: .*above zero/);
    expect(issuesOf({ chatRate: '5000000/s' })[0]).toMatch(/^chatRate: .*100000/);
    expect(issuesOf({ chatVus: 3, vus: 3 }).join()).toMatch(/vus/);
    expect(issuesOf({}).join()).toMatch(/chatVus, chatRate or socketVus/);
  });
});

describe('stepLoad (terminal + / -)', () => {
  it('moves the chat load a quarter (at least one VU or 0.5/s), never below 0 or above the bound', () => {
    expect(stepLoad({ chatVus: 8, socketVus: 8 }, 1)).toEqual({ chatVus: 10 });
    expect(stepLoad({ chatVus: 1 }, -1)).toEqual({ chatVus: 0 });
    expect(stepLoad({ chatVus: 0 }, -1)).toEqual({ chatVus: 0 });
    expect(stepLoad({ chatVus: MAX_LIVE_VUS }, 1)).toEqual({ chatVus: MAX_LIVE_VUS });
    expect(stepLoad({ chatRate: 4 }, 1)).toEqual({ chatRate: 5 });
    expect(stepLoad({ chatRate: 0.5 }, -1)).toEqual({ chatRate: 0.5 });
    expect(stepLoad({ socketVus: 4 }, 1)).toEqual({ socketVus: 5 });
  });
});

describe('SessionLoad.change', () => {
  const load = (engine: LoadEngine): SessionLoad =>
    new SessionLoad({
      engine,
      sink: { write: () => undefined, close: () => undefined } as never,
      experiment: {} as Experiment,
      target: {} as Target,
      record: new SessionRecord({
        runId: 'r',
        title: 't',
        target: { name: 'lab', url: 'http://127.0.0.1:1' },
        engine: engine.name,
        startedAt: 0,
      }),
      emit: () => undefined,
      injected: () => [],
      onEnded: () => undefined,
    });

  it('the k6 engine refuses a live change with a clear error', () => {
    expect(() => load(new K6LoadEngine()).change({ chatVus: 12 }, 'console')).toThrow(
      expect.objectContaining({
        code: 'LIVE_LOAD_UNSUPPORTED',
        message: expect.stringMatching(/k6 engine cannot change the load/),
      }),
    );
  });

  it('the Node engine takes none while its load is not running; a bad value is refused first', () => {
    const l = load(new NodeLoadEngine());
    expect(() => l.change({ chatVus: 12 }, 'console')).toThrow(
      expect.objectContaining({ code: 'LOAD_NOT_RUNNING' }),
    );
    expect(() => l.change({ chatVus: -3 }, 'console')).toThrow(
      expect.objectContaining({ code: 'INVALID_LOAD' }),
    );
    expect(l.current()).toEqual({});
  });
});
