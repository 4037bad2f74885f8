// Toxics of the lab's Toxiproxy-compatible server: their API model (names, default attributes,
// validation, with Toxiproxy's JSON shapes and error texts) and their per-connection runtimes.
//
// Contract: a runtime is created for one toxic on one link (one direction of one connection)
// and rolls its toxicity once, at creation (Toxiproxy decides per connection, and again when a
// toxic is updated). `data()` handles one chunk and resolves when the chunk has been passed on
// (or dropped); `end()` resolves when end-of-stream may pass on. `dispose()` interrupts any wait
// at once: a chunk being delayed is passed on without further delay, as Toxiproxy does ("don't
// drop data on the floor"), and no timer of the runtime fires afterwards.

import {
  TOXIC_ATTRIBUTES as DRIVER_TOXIC_ATTRIBUTES,
  type ToxicType,
} from '../../core/faults/toxic-types.js';

/** The toxic types owui-chaos injects (src/core/faults/toxic-types.ts), plus Toxiproxy's `noop`. */
export type ToxicKind = ToxicType | 'noop';
export type StreamDirection = 'upstream' | 'downstream';

/** A toxic as the HTTP API shows it; JSON key order matches Toxiproxy's. */
export interface ToxicRecord {
  attributes: Record<string, number>;
  name: string;
  type: ToxicKind;
  stream: string;
  toxicity: number;
}

export const TOXIC_ATTRIBUTES: Record<ToxicKind, readonly string[]> = {
  ...DRIVER_TOXIC_ATTRIBUTES,
  noop: [],
};

const GO_TYPE_NAMES: Record<ToxicKind, string> = {
  latency: 'LatencyToxic',
  bandwidth: 'BandwidthToxic',
  slow_close: 'SlowCloseToxic',
  timeout: 'TimeoutToxic',
  reset_peer: 'ResetToxic',
  slicer: 'SlicerToxic',
  limit_data: 'LimitDataToxic',
  noop: 'NoopToxic',
};

export function isToxicKind(value: unknown): value is ToxicKind {
  return typeof value === 'string' && Object.hasOwn(TOXIC_ATTRIBUTES, value);
}

/** Toxiproxy's stream parsing is case-insensitive. */
export function parseDirection(stream: string): StreamDirection | undefined {
  const lower = stream.toLowerCase();
  return lower === 'upstream' || lower === 'downstream' ? lower : undefined;
}

/**
 * Merges `input` into `base` for the attributes of `kind`, with Go's JSON decoding rules
 * (integers only, unknown keys ignored). Returns an error text like Go's decoder on a bad value.
 */
export function mergeAttributes(
  kind: ToxicKind,
  base: Record<string, number>,
  input: unknown,
): { attributes: Record<string, number> } | { error: string } {
  const attributes: Record<string, number> = {};
  for (const key of TOXIC_ATTRIBUTES[kind]) attributes[key] = base[key] ?? 0;
  if (input === undefined || input === null) return { attributes };
  if (typeof input !== 'object' || Array.isArray(input)) {
    return {
      error: `json: cannot unmarshal ${goJsonKind(input)} into Go struct field .attributes of type toxics.${GO_TYPE_NAMES[kind]}`,
    };
  }
  for (const key of TOXIC_ATTRIBUTES[kind]) {
    const value = (input as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      const shown = typeof value === 'number' ? `number ${value}` : goJsonKind(value);
      return {
        error: `json: cannot unmarshal ${shown} into Go struct field ${GO_TYPE_NAMES[kind]}.attributes.${key} of type int64`,
      };
    }
    attributes[key] = value;
  }
  return { attributes };
}

export function goJsonKind(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return 'object';
}

/** A chunk moving through a link; `ts` is when it was read (ms, performance clock). */
export interface Chunk {
  data: Buffer;
  ts: number;
}

/** What a runtime may do to its connection besides passing data on. */
export interface LinkControl {
  /** End the stream here: later chunks are dropped, end-of-stream passes on, the connection closes. */
  close(): void;
  /** Tear the connection down with a TCP RST on both sides. */
  reset(): void;
  now(): number;
}

export interface ToxicRuntime {
  readonly name: string;
  data(chunk: Chunk, next: (c: Chunk) => Promise<void>): Promise<void>;
  end(): Promise<void>;
  /** The toxic was removed from the proxy (not merely updated): Toxiproxy's Cleanup hook. */
  removed(): void;
  dispose(): void;
}

/** Per-link state that survives updates of a toxic (Toxiproxy's StatefulToxic). */
export interface ToxicState {
  bytesTransmitted: number;
}

/** Cancellable sleep: resolves after `ms`, or at once when the runtime is disposed. */
class Waiter {
  private readonly pending = new Set<{
    timer: NodeJS.Timeout | NodeJS.Immediate;
    immediate: boolean;
    resolve: () => void;
  }>();
  disposed = false;

  sleep(ms: number): Promise<void> {
    if (this.disposed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        immediate: ms <= 0,
        resolve,
        timer: undefined as unknown as NodeJS.Timeout | NodeJS.Immediate,
      };
      const done = (): void => {
        this.pending.delete(entry);
        resolve();
      };
      // A zero delay still yields to the event loop, so successive writes stay separate.
      entry.timer = ms <= 0 ? setImmediate(done) : setTimeout(done, ms);
      this.pending.add(entry);
    });
  }

  dispose(): void {
    this.disposed = true;
    for (const e of this.pending) {
      if (e.immediate) clearImmediate(e.timer as NodeJS.Immediate);
      else clearTimeout(e.timer as NodeJS.Timeout);
      e.resolve();
    }
    this.pending.clear();
  }
}

const passThrough = (name: string): ToxicRuntime => ({
  name,
  data: (chunk, next) => next(chunk),
  end: () => Promise.resolve(),
  removed: () => undefined,
  dispose: () => undefined,
});

/**
 * Creates the runtime of `toxic` for one link. `random` decides toxicity (a toxic applies when
 * random() < toxicity, so 0 never applies and 1 always does).
 */
export function createRuntime(
  toxic: ToxicRecord,
  control: LinkControl,
  state: ToxicState,
  random: () => number = Math.random,
): ToxicRuntime {
  if (!(random() < toxic.toxicity)) return passThrough(toxic.name);
  const a = toxic.attributes;
  const waiter = new Waiter();
  const base = { name: toxic.name, removed: () => undefined, dispose: () => waiter.dispose() };

  switch (toxic.type) {
    case 'latency':
      return {
        ...base,
        data: async (chunk, next) => {
          const jitter = a['jitter'] ?? 0;
          const delay = (a['latency'] ?? 0) + (jitter > 0 ? Math.floor(random() * jitter * 2) - jitter : 0);
          // Relative to when the chunk was read, so back-to-back chunks are not delayed cumulatively.
          const sleep = delay - (control.now() - chunk.ts);
          if (sleep > 0) await waiter.sleep(sleep);
          await next({ data: chunk.data, ts: chunk.ts + Math.max(0, sleep) });
        },
        end: () => Promise.resolve(),
      };

    case 'bandwidth': {
      let debt = 0; // ms this toxic still owes, carried across chunks like Toxiproxy's `sleep`
      return {
        ...base,
        data: async (chunk, next) => {
          const rate = a['rate'] ?? 0; // KB/s = bytes per ms
          if (rate <= 0) return next(chunk);
          let data = chunk.data;
          debt += data.length / rate;
          // Large chunks go out in 100 ms slices, so a slow rate is visible as a trickle.
          while (data.length > rate * 100 && !waiter.disposed) {
            await waiter.sleep(100);
            await next({ data: data.subarray(0, rate * 100), ts: chunk.ts });
            data = data.subarray(rate * 100);
            debt -= 100;
          }
          const start = control.now();
          if (debt > 0) await waiter.sleep(debt);
          debt -= control.now() - start;
          await next({ data, ts: chunk.ts });
        },
        end: () => Promise.resolve(),
      };
    }

    case 'slow_close':
      return {
        ...base,
        data: (chunk, next) => next(chunk),
        end: () => waiter.sleep(a['delay'] ?? 0),
      };

    case 'timeout': {
      // Data is dropped; after `timeout` ms (0 = never) the connection closes. Removing the
      // toxic closes the connection too (Toxiproxy's Cleanup): its data is already lost.
      const timeout = a['timeout'] ?? 0;
      const timer = timeout > 0 ? setTimeout(() => control.close(), timeout) : undefined;
      return {
        name: toxic.name,
        data: () => Promise.resolve(),
        end: () => Promise.resolve(),
        removed: () => control.close(),
        dispose: () => {
          if (timer) clearTimeout(timer);
          waiter.dispose();
        },
      };
    }

    case 'reset_peer': {
      let triggered = false;
      return {
        ...base,
        // Like Toxiproxy: the first chunk (dropped) starts the countdown to a TCP RST.
        data: async () => {
          if (triggered) return;
          triggered = true;
          await waiter.sleep(a['timeout'] ?? 0);
          if (!waiter.disposed) control.reset();
        },
        end: () => Promise.resolve(),
      };
    }

    case 'slicer':
      return {
        ...base,
        data: async (chunk, next) => {
          const cuts = sliceOffsets(
            chunk.data.length,
            a['average_size'] ?? 0,
            a['size_variation'] ?? 0,
            random,
          );
          for (let i = 1; i < cuts.length; i += 2) {
            if (waiter.disposed) {
              await next({ data: chunk.data.subarray(cuts[i - 1] as number), ts: chunk.ts });
              return;
            }
            await next({ data: chunk.data.subarray(cuts[i - 1] as number, cuts[i] as number), ts: chunk.ts });
            await waiter.sleep((a['delay'] ?? 0) / 1000);
          }
        },
        end: () => Promise.resolve(),
      };

    case 'limit_data':
      return {
        ...base,
        data: async (chunk, next) => {
          const limit = a['bytes'] ?? 0;
          const remaining = Math.max(0, limit - state.bytesTransmitted);
          const data = remaining < chunk.data.length ? chunk.data.subarray(0, remaining) : chunk.data;
          if (data.length > 0) {
            state.bytesTransmitted += data.length;
            await next({ data, ts: chunk.ts });
          }
          if (limit - state.bytesTransmitted <= 0) control.close();
        },
        end: () => Promise.resolve(),
      };

    case 'noop':
      return passThrough(toxic.name);
  }
}

/**
 * Toxiproxy's slicer: offsets [s0, e0, s1, e1, …] cutting `size` bytes into pieces of about
 * `average` ± `variation` bytes, recursively halving so small pieces are not bunched at one end.
 */
export function sliceOffsets(
  size: number,
  average: number,
  variation: number,
  random: () => number = Math.random,
): number[] {
  const avg = Math.max(1, Math.floor(average));
  const vary = Math.max(0, Math.min(Math.floor(variation), avg - 1));
  const out: number[] = [];
  const chunk = (start: number, end: number, depth: number): void => {
    if (end - start - avg <= vary || depth > 64) {
      out.push(start, end);
      return;
    }
    let mid = start + Math.floor((end - start) / 2) + (vary > 0 ? Math.floor(random() * vary * 2) - vary : 0);
    mid = Math.min(end - 1, Math.max(start + 1, mid));
    chunk(start, mid, depth + 1);
    chunk(mid, end, depth + 1);
  };
  if (size > 0) chunk(0, size, 0);
  return out;
}
