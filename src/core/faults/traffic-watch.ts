// Whether the traffic a fault acts on reached it (docs/faults.md, "A fault that touched no
// traffic"): its proxy's traffic is read when the fault is applied and again just before it is
// reverted. Nothing in between means the deployment's traffic bypasses what the fault acts on, so
// the fault tested nothing. One home for `run` (src/core/runner/runner.ts) and game days
// (src/app/gameday-faults.ts); src/app/run-stops.ts turns each untouched fault into a stop (exit 11).

import { errorMessage } from '../errors.js';
import type { JournalActivity } from '../journal.js';
import type { ProxyTraffic } from '../ports.js';
import { trafficBetween } from './traffic.js';

/** A lasting fault whose target counted no traffic between its inject and its revert. */
export interface UntouchedFault {
  name: string;
  action: string;
  description: string;
  /** How long it was injected, ms. */
  injectedMs: number;
}

export type ReadTraffic = () => Promise<ProxyTraffic | undefined>;

interface Watched {
  fault: { name: string; action: string; description: string };
  read: ReadTraffic;
  before: ProxyTraffic;
  at: number;
}

export interface TrafficWatchHooks {
  now(): number;
  /** The count could not be read: the fault is judged without this check (TRAFFIC_NOT_COUNTED). */
  notCounted(name: string, message: string): void;
  /** The journal's `probe` activity of one check: the bytes seen, failed when none. */
  activity(activity: JournalActivity): void;
}

export class TrafficWatch<K> {
  private readonly watched = new Map<K, Watched>();
  /** Faults no traffic reached, in the order their checks ended. */
  readonly untouched: UntouchedFault[] = [];

  constructor(private readonly hooks: TrafficWatchHooks) {}

  /** Takes the first reading, right after the fault was applied. */
  async start(key: K, fault: Watched['fault'], read: ReadTraffic): Promise<void> {
    const before = await this.reading(read, fault.name);
    if (before === undefined) return;
    const { name, action, description } = fault;
    this.watched.set(key, { fault: { name, action, description }, read, before, at: this.hooks.now() });
  }

  /** Takes the second reading, just before the revert; the untouched fault, if it was one. */
  async finish(key: K): Promise<UntouchedFault | undefined> {
    const w = this.watched.get(key);
    if (w === undefined) return undefined;
    this.watched.delete(key);
    const after = await this.reading(w.read, w.fault.name);
    if (after === undefined) return undefined;
    const bytes = trafficBetween(w.before, after);
    const injectedMs = this.hooks.now() - w.at;
    const reached = bytes > 0;
    this.hooks.activity({
      name: w.fault.name,
      kind: 'probe',
      action: w.fault.action,
      startedAt: w.at,
      endedAt: this.hooks.now(),
      status: reached ? 'succeeded' : 'failed',
      output: { check: 'traffic', bytes },
      ...(reached ? {} : { error: `no traffic reached it in ${Math.round(injectedMs / 1000)} s` }),
    });
    if (reached) return undefined;
    const untouched = { ...w.fault, injectedMs };
    this.untouched.push(untouched);
    return untouched;
  }

  /** Drops a check without its second reading (an interrupted run: its verdict is `interrupted` anyway). */
  forget(key: K): void {
    this.watched.delete(key);
  }

  private async reading(read: ReadTraffic, name: string): Promise<ProxyTraffic | undefined> {
    try {
      const r = await read();
      if (r === undefined)
        this.hooks.notCounted(
          name,
          `whether traffic reached \`${name}\` cannot be told: neither Toxiproxy's byte counts (toxiproxy-server -proxy-metrics) nor the kernel's (ss, for a proxy on this machine) could be read`,
        );
      return r;
    } catch (err) {
      this.hooks.notCounted(name, `reading the traffic through \`${name}\` failed: ${errorMessage(err)}`);
      return undefined;
    }
  }
}
