// A known capacity for one simulator replica (docs/capacity.md "The lab's capacity model"), so a
// capacity sweep on the lab has a right answer computed in advance.
//
// Contract:
// - `OWUI_SIM_MAX_STREAMS=c` (0 or unset: no limit, the gate does nothing) gives the replica c
//   slots. A chat completion takes a slot before it calls the upstream and keeps it until its
//   stream ends; when every slot is taken it waits in one FIFO queue (bounded by
//   `OWUI_SIM_QUEUE_LIMIT`, 0 = unbounded; beyond it: 503, as an overloaded server answers). A
//   client that goes away while queued leaves the queue. `OWUI_SIM_NO_QUEUE=1` makes it a loss
//   system instead: a chat finding every slot taken is answered 503 at once (no waiting at all).
// - `OWUI_SIM_TOKEN_COST_MS=t` and `OWUI_SIM_REQUEST_COST_MS=r`: once it holds a slot, the k-th
//   content event (k = 1, 2, …) of the stream is forwarded no earlier than slotStart + r + k·t.
//   The upstream is paused meanwhile (TCP backpressure), so a fast upstream cannot shorten it.
//   One stream of n tokens (one token per event) thus holds its slot for S = r + n·t, and the
//   replica serves at most c·1000/S streams per second — `replicaCapacityPerSecond`.
// Content events are recognised by the OpenAI delta marker in the raw bytes (the mock LLM's
// wire format, src/lab/mock-llm/wire.ts), so counting costs no JSON parsing.

export interface CapacityModel {
  maxStreams: number;
  queueLimit: number;
  tokenCostMs: number;
  requestCostMs: number;
  /**
   * No queue: a chat finding every slot taken gets 503 at once. The knee is then sharp whatever
   * the step's length (every arrival beyond c·1000/S per second is refused), where a queue's
   * latency grows only by (ρ − 1) s per second, so a short step cannot tell ρ = 1.2 from 1
   * (docs/capacity.md "Why the proof's lab has no queue").
   */
  noQueue?: boolean;
}

export const CAPACITY_ENV = {
  maxStreams: 'OWUI_SIM_MAX_STREAMS',
  queueLimit: 'OWUI_SIM_QUEUE_LIMIT',
  tokenCostMs: 'OWUI_SIM_TOKEN_COST_MS',
  requestCostMs: 'OWUI_SIM_REQUEST_COST_MS',
  noQueue: 'OWUI_SIM_NO_QUEUE',
} as const;

function nonNegative(env: NodeJS.ProcessEnv, name: string): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return 0;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}="${text}" must be a number ≥ 0`);
  return n;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const text = (env[name] ?? '').trim().toLowerCase();
  if (text === '' || text === '0' || text === 'false') return false;
  if (text === '1' || text === 'true') return true;
  throw new Error(`${name}="${env[name]}" must be 1 or 0`);
}

/** Undefined when no limit is configured (the replica then has no capacity model at all). */
export function capacityFromEnv(env: NodeJS.ProcessEnv): CapacityModel | undefined {
  const maxStreams = Math.floor(nonNegative(env, CAPACITY_ENV.maxStreams));
  const model: CapacityModel = {
    maxStreams,
    queueLimit: Math.floor(nonNegative(env, CAPACITY_ENV.queueLimit)),
    tokenCostMs: nonNegative(env, CAPACITY_ENV.tokenCostMs),
    requestCostMs: nonNegative(env, CAPACITY_ENV.requestCostMs),
    ...(flag(env, CAPACITY_ENV.noQueue) ? { noQueue: true } : {}),
  };
  if (maxStreams === 0 && (model.tokenCostMs > 0 || model.requestCostMs > 0)) {
    throw new Error(
      `${CAPACITY_ENV.tokenCostMs} / ${CAPACITY_ENV.requestCostMs} need ${CAPACITY_ENV.maxStreams} > 0 (the number of concurrent streams one replica serves)`,
    );
  }
  return maxStreams > 0 ? model : undefined;
}

/** The env vars that configure `model` (for `lab up` and the capacity command). */
export function capacityEnv(model: CapacityModel): Record<string, string> {
  return {
    [CAPACITY_ENV.maxStreams]: String(model.maxStreams),
    [CAPACITY_ENV.queueLimit]: String(model.queueLimit),
    [CAPACITY_ENV.tokenCostMs]: String(model.tokenCostMs),
    [CAPACITY_ENV.requestCostMs]: String(model.requestCostMs),
    ...(model.noQueue ? { [CAPACITY_ENV.noQueue]: '1' } : {}),
  };
}

/** Slot time of one stream of `tokens` tokens: r + n·t (ms). */
export function serviceTimeMs(model: CapacityModel, tokens: number): number {
  return model.requestCostMs + tokens * model.tokenCostMs;
}

/** Streams per second one replica completes when saturated: c · 1000 / S. */
export function replicaCapacityPerSecond(model: CapacityModel, tokens: number): number {
  const s = serviceTimeMs(model, tokens);
  return s > 0 ? (model.maxStreams * 1000) / s : Number.POSITIVE_INFINITY;
}

/**
 * The lab's knee for `replicas` replicas behind nginx `least_conn`: the arrival rate above which the
 * queue grows without bound (utilisation 1). Below it, evenly spaced arrivals never wait; above it,
 * waiting grows by (ρ − 1) seconds per second, so any latency SLO breaks within a step.
 */
export function labKneePerSecond(model: CapacityModel, tokens: number, replicas: number): number {
  return replicas * replicaCapacityPerSecond(model, tokens);
}

export class CapacityFullError extends Error {}

/** What a chat holds while it streams; `release` is idempotent. */
export interface CapacitySlot {
  /**
   * Writes `chunk` once its last content event is due, in order after earlier chunks; pauses `flow`
   * while anything waits.
   */
  forward(chunk: Buffer, write: (chunk: Buffer) => void, flow: { pause(): void; resume(): void }): void;
  /** Runs `fn` after every forwarded chunk was written (the upstream may end before that). */
  after(fn: () => void): void;
  /** Resolves when the content events in `chunk` are due (for `for await` readers). */
  due(chunk: Buffer): Promise<void>;
  release(): void;
}

const MARKER = Buffer.from('"delta":{"content":');

const FREE_SLOT: CapacitySlot = {
  forward: (chunk, write) => write(chunk),
  after: (fn) => fn(),
  due: () => Promise.resolve(),
  release: () => undefined,
};

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class CapacityGate {
  private busy = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly model: CapacityModel | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get inService(): number {
    return this.busy;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Waits for a slot (FIFO); rejects with CapacityFullError when the queue is full, or on abort. */
  async acquire(signal?: AbortSignal): Promise<CapacitySlot> {
    const model = this.model;
    if (!model) return FREE_SLOT;
    if (signal?.aborted) throw new Error('aborted before a slot was taken');
    if (this.busy >= model.maxStreams) {
      if (model.noQueue)
        throw new CapacityFullError(`all ${model.maxStreams} slots are taken and this replica has no queue`);
      if (model.queueLimit > 0 && this.queue.length >= model.queueLimit)
        throw new CapacityFullError(
          `${this.queue.length} chats already wait for one of ${model.maxStreams} slots`,
        );
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          reject,
        };
        const onAbort = (): void => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(new Error('aborted while queued'));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.queue.push(waiter);
      });
    } else this.busy++;
    return this.slot(model);
  }

  /** A freed slot goes straight to the head of the queue (busy stays the same). */
  private free(): void {
    const next = this.queue.shift();
    if (next) next.resolve();
    else this.busy--;
  }

  private slot(model: CapacityModel): CapacitySlot {
    const start = this.now();
    let events = 0;
    let carry: Buffer = Buffer.alloc(0);
    let released = false;
    /** Epoch (of `now`) at which the last content event in `chunk` may go out; 0 = at once. */
    const dueAt = (chunk: Buffer): number => {
      // Markers may straddle two chunks: search the tail of the previous one too.
      const hay = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      for (let i = hay.indexOf(MARKER); i >= 0; i = hay.indexOf(MARKER, i + MARKER.length)) events++;
      carry = hay.subarray(Math.max(0, hay.length - (MARKER.length - 1)));
      return events === 0 ? 0 : start + model.requestCostMs + events * model.tokenCostMs;
    };
    const sleepUntil = (at: number): Promise<void> => {
      const wait = at - this.now();
      return wait <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, wait));
    };
    // Chunks wait in order; `pending` counts those not written yet. The upstream can still end
    // (or hand over one more chunk) after pause(), so `after` and the chain keep the order.
    let tail: Promise<void> = Promise.resolve();
    let pending = 0;
    return {
      forward: (chunk, write, flow) => {
        const at = dueAt(chunk);
        if (pending === 0 && at - this.now() <= 0) return write(chunk);
        pending++;
        flow.pause();
        tail = tail
          .then(() => sleepUntil(at))
          .then(() => {
            write(chunk);
            if (--pending === 0) flow.resume();
          });
      },
      after: (fn) => {
        if (pending === 0) fn();
        else tail = tail.then(fn);
      },
      due: (chunk) => sleepUntil(dueAt(chunk)),
      release: () => {
        if (released) return;
        released = true;
        this.free();
      },
    };
  }
}
