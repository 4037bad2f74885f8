// One proxied TCP connection: client ⇄ upstream, as two links (upstream = client → server,
// downstream = server → client), each running its direction's toxic chain.
//
// Contract: chunks of a link pass through the chain one at a time, in order; a toxic added,
// updated or removed takes effect for the next chunk of EXISTING connections (an update or a
// removal interrupts a wait in progress, which then passes its chunk on at once). When a link's
// input ends, end-of-stream passes through the chain (slow_close delays it), the link's output
// socket is closed, and the other direction stops reading and closes after flushing, as
// Toxiproxy closes both conns. `reset()` sends a TCP RST on both sockets. Reading pauses while
// more than HIGH_WATER bytes wait in a link, so a slow toxic pushes back on the sender.

import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  createRuntime,
  type Chunk,
  type LinkControl,
  type StreamDirection,
  type ToxicRecord,
  type ToxicRuntime,
  type ToxicState,
} from './toxics.js';

const HIGH_WATER = 1024 * 1024;

const END = Symbol('end');

class Link {
  private readonly queue: (Chunk | typeof END)[] = [];
  private queuedBytes = 0;
  private running = false;
  private ended = false; // END queued
  done = false; // END reached the sink, or torn down
  private runtimes: ToxicRuntime[] = [];
  private readonly states = new Map<string, ToxicState>();
  private closing = false;

  constructor(
    readonly direction: StreamDirection,
    private readonly source: net.Socket,
    private readonly dest: net.Socket,
    private readonly conn: ProxiedConnection,
    toxics: readonly ToxicRecord[],
  ) {
    for (const t of toxics) this.runtimes.push(this.runtime(t));
  }

  private readonly control: LinkControl = {
    close: () => this.closeFromToxic(),
    reset: () => this.conn.reset(),
    now: () => performance.now(),
  };

  private runtime(toxic: ToxicRecord): ToxicRuntime {
    let state = this.states.get(toxic.name);
    if (!state) {
      state = { bytesTransmitted: 0 };
      this.states.set(toxic.name, state);
    }
    return createRuntime(toxic, this.control, state);
  }

  addToxic(toxic: ToxicRecord): void {
    if (this.done) return;
    this.runtimes = [...this.runtimes, this.runtime(toxic)];
  }

  updateToxic(toxic: ToxicRecord): void {
    if (this.done) return;
    this.runtimes = this.runtimes.map((r) => {
      if (r.name !== toxic.name) return r;
      r.dispose();
      return this.runtime(toxic);
    });
  }

  removeToxic(name: string): void {
    const gone = this.runtimes.find((r) => r.name === name);
    if (!gone) return;
    this.runtimes = this.runtimes.filter((r) => r !== gone);
    this.states.delete(name);
    gone.dispose();
    if (!this.done) gone.removed();
  }

  push(data: Buffer): void {
    if (this.ended || this.done) return;
    this.queue.push({ data, ts: performance.now() });
    this.queuedBytes += data.length;
    if (this.queuedBytes > HIGH_WATER) this.source.pause();
    void this.run();
  }

  pushEnd(): void {
    if (this.ended || this.done) return;
    this.ended = true;
    this.queue.push(END);
    void this.run();
  }

  /** A toxic (timeout, limit_data) ends the stream: drop what is queued, let END pass. */
  private closeFromToxic(): void {
    if (this.done || this.closing) return;
    this.closing = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.ended = false;
    this.pushEnd();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0 && !this.done) {
        const item = this.queue.shift() as Chunk | typeof END;
        if (item === END) {
          for (const r of this.runtimes) await r.end();
          this.finish();
          return;
        }
        this.queuedBytes -= item.data.length;
        if (this.queuedBytes <= HIGH_WATER / 2 && this.source.isPaused() && !this.source.destroyed)
          this.source.resume();
        if (this.closing) continue;
        await this.through(this.runtimes, 0, item);
      }
    } finally {
      this.running = false;
    }
  }

  private through(chain: ToxicRuntime[], i: number, chunk: Chunk): Promise<void> {
    if (this.done) return Promise.resolve();
    const r = chain[i];
    if (r === undefined) return this.write(chunk.data);
    return r.data(chunk, (c) => this.through(chain, i + 1, c));
  }

  private write(data: Buffer): Promise<void> {
    if (this.done || this.dest.destroyed || !this.dest.writable) return Promise.resolve();
    if (this.dest.write(data)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.dest.off('drain', done);
        this.dest.off('close', done);
        resolve();
      };
      this.dest.on('drain', done);
      this.dest.on('close', done);
    });
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.dispose();
    // Toxiproxy closes the whole output conn once everything before END is flushed.
    const dest = this.dest;
    if (!dest.destroyed) dest.end(() => dest.destroy());
    this.conn.linkFinished(this);
  }

  teardown(): void {
    this.done = true;
    this.queue.length = 0;
    this.dispose();
  }

  private dispose(): void {
    for (const r of this.runtimes) r.dispose();
  }
}

export class ProxiedConnection {
  readonly up: Link;
  readonly down: Link;
  private closed = false;

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    toxics: { upstream: readonly ToxicRecord[]; downstream: readonly ToxicRecord[] },
    private readonly onClosed: (c: ProxiedConnection) => void,
  ) {
    this.up = new Link('upstream', client, upstream, this, toxics.upstream);
    this.down = new Link('downstream', upstream, client, this, toxics.downstream);
    for (const [socket, link] of [
      [client, this.up],
      [upstream, this.down],
    ] as const) {
      socket.setNoDelay(true);
      socket.on('data', (b: Buffer) => link.push(b));
      socket.on('end', () => link.pushEnd());
      socket.on('error', () => link.pushEnd());
      socket.on('close', () => {
        link.pushEnd();
        this.maybeClosed();
      });
    }
  }

  link(direction: StreamDirection): Link {
    return direction === 'upstream' ? this.up : this.down;
  }

  /** One direction is done: the other stops reading and closes after flushing what it holds. */
  linkFinished(link: Link): void {
    const other = link === this.up ? this.down : this.up;
    const otherSource = link === this.up ? this.upstream : this.client;
    otherSource.removeAllListeners('data');
    otherSource.on('data', () => undefined);
    other.pushEnd();
    this.maybeClosed();
  }

  reset(): void {
    this.up.teardown();
    this.down.teardown();
    for (const s of [this.client, this.upstream]) {
      if (!s.destroyed) s.resetAndDestroy();
    }
    this.maybeClosed();
  }

  /** Proxy disabled or deleted: close both sockets at once. */
  destroy(): void {
    this.up.teardown();
    this.down.teardown();
    this.client.destroy();
    this.upstream.destroy();
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (this.closed) return;
    if ((this.up.done && this.down.done) || (this.client.destroyed && this.upstream.destroyed)) {
      this.closed = true;
      this.up.teardown();
      this.down.teardown();
      this.onClosed(this);
    }
  }
}
