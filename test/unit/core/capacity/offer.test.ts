// What a capacity step offers and which arrivals it intends (src/core/capacity/offer.ts).
import { describe, expect, it } from 'vitest';
import {
  chatsPerSecond,
  intendedArrivals,
  offered,
  type CapacityWorkload,
} from '../../../../src/core/capacity/offer.js';
import type { Sample } from '../../../../src/core/samples.js';

const API: CapacityWorkload = { client: 'api', chatEveryMs: 4000, browserShare: 0, browserSchedule: 'open' };
const BROWSER: CapacityWorkload = { ...API, client: 'browser', browserShare: 1 };
const MIXED: CapacityWorkload = { ...API, client: 'mixed', browserShare: 0.5 };
const WINDOW = { startMs: 10_000, endMs: 14_000, deadlineMs: 20_000 };

/** A ttft sample whose intended start is `startMs` (ttft counts from the intended start). */
const ttft = (startMs: number, client: 'api' | 'browser'): Sample => ({
  metric: 'ttft',
  timeMs: startMs + 100,
  value: 100,
  tags: { client },
});

describe('offered', () => {
  it('an API load is chats per second; a user load splits into sockets and API chats', () => {
    expect(offered(API, 12)).toEqual({ apiRate: 12, browserUsers: 0 });
    expect(offered(BROWSER, 48)).toEqual({ apiRate: 0, browserUsers: 48 });
    // 45 users, half on sockets (rounded), the other 22 chat over the API every 4 s.
    expect(offered(MIXED, 45)).toEqual({ apiRate: 22 / 4, browserUsers: 23 });
    expect(chatsPerSecond(MIXED, 48)).toBe(12);
    expect(chatsPerSecond(API, 3)).toBe(3);
  });
});

describe('intendedArrivals', () => {
  it('one kind: the lattice of its rate, anchored on the first intended start', () => {
    const r = intendedArrivals(BROWSER, offered(BROWSER, 40), [ttft(9_950, 'browser')], WINDOW, 0);
    expect(r).toEqual({ arrivals: { ratePerSecond: 10, anchorMs: 9_950 } });
  });

  it('mixed: each kind counted on its own lattice, and the counts added', () => {
    // 40 users: 20 sockets (5 chats/s) and 5 API chats/s; a 4 s window holds 20 of each.
    const samples = [ttft(9_990, 'api'), ttft(9_930, 'browser')];
    expect(intendedArrivals(MIXED, offered(MIXED, 40), samples, WINDOW, 0)).toEqual({
      expectedArrivals: 40,
    });
  });

  it('the closed-loop control intends no arrival', () => {
    const closed = { ...BROWSER, browserSchedule: 'closed' as const };
    expect(intendedArrivals(closed, offered(closed, 40), [], WINDOW, 0)).toEqual({});
  });
});
