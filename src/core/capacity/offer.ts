// What one capacity step offers the target (docs/capacity.md "Browser users"): for a load in the
// sweep's unit (chats/s for API sweeps, users for browser and mixed ones), the API chats per second
// and the connected browser users; and the arrivals the step intends in its window, which the
// step's censoring counts against (an intended arrival without an answer is slower than any).
// Pure: no I/O, no clock.

import type { Sample } from '../samples.js';
import { arrivalsIn, latticeAnchor, type ArrivalLattice, type StepWindow } from './step.js';

export interface CapacityWorkload {
  client: 'api' | 'browser' | 'mixed';
  /** How often one user starts a chat (browser and mixed sweeps). */
  chatEveryMs: number;
  /** The share of the users that are browser users: 1 for `browser`, 0 for `api`. */
  browserShare: number;
  /** `closed`: the closed-loop control, which knows no intended arrival. */
  browserSchedule: 'open' | 'closed';
}

export interface StepOffer {
  /** API chats started per second (open model). */
  apiRate: number;
  browserUsers: number;
}

/** Browser and mixed sweeps count users; API sweeps count chats per second. */
export function inUsers(w: Pick<CapacityWorkload, 'client'>): boolean {
  return w.client !== 'api';
}

/** Chats per second `load` offers (each user chats once per interval). */
export function chatsPerSecond(w: CapacityWorkload, load: number): number {
  return inUsers(w) ? load / (w.chatEveryMs / 1000) : load;
}

export function offered(w: CapacityWorkload, load: number): StepOffer {
  if (!inUsers(w)) return { apiRate: load, browserUsers: 0 };
  const browserUsers = w.client === 'browser' ? load : Math.round(load * w.browserShare);
  return { apiRate: (load - browserUsers) / (w.chatEveryMs / 1000), browserUsers };
}

/**
 * The arrivals intended in the window: the API lattice; the browser users' lattice (their phases
 * spread evenly: U / interval per second); mixed: the two counts added, each anchored on its own
 * kind's first intended start. The closed-loop control has none.
 */
export function intendedArrivals(
  w: CapacityWorkload,
  offer: StepOffer,
  samples: readonly Sample[],
  window: StepWindow,
  fallbackAnchorMs: number,
): { arrivals?: ArrivalLattice; expectedArrivals?: number } {
  if (inUsers(w) && w.browserSchedule === 'closed') return {};
  const browserRate = offer.browserUsers / (w.chatEveryMs / 1000);
  if (offer.browserUsers === 0 || offer.apiRate === 0) {
    const ratePerSecond = offer.apiRate + browserRate;
    return { arrivals: { ratePerSecond, anchorMs: latticeAnchor(samples, fallbackAnchorMs) } };
  }
  const count = (ratePerSecond: number, client: 'api' | 'browser'): number => {
    const own = samples.filter((s) => s.tags['client'] === client);
    const lattice = { ratePerSecond, anchorMs: latticeAnchor(own, fallbackAnchorMs) };
    return arrivalsIn(lattice, window.startMs, window.endMs);
  };
  return { expectedArrivals: count(offer.apiRate, 'api') + count(browserRate, 'browser') };
}
