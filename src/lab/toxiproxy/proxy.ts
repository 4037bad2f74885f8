// One proxy of the Toxiproxy-compatible server: a TCP listener, its live connections and its
// toxic chains (one per direction).
//
// Contract (as Toxiproxy's proxy.go / toxic_collection.go): `start()` listens on `listen` and
// rewrites it to the bound address (so "127.0.0.1:0" becomes the real port and re-enabling
// listens on the same address); `stop()` stops listening and closes every connection. Toxics are
// kept in insertion order per direction; adding, updating or removing one applies to existing
// connections at once. JSON order of a proxy: name, listen, upstream, enabled, Logger, toxics
// (upstream chain first, then downstream). `Logger` is always `{}`: real toxiproxy-server v2.12.0
// serialises its proxy struct's exported zerolog field that way, in every proxy object it returns.

import net from 'node:net';
import { ProxiedConnection } from './link.js';
import { parseDirection, type StreamDirection, type ToxicRecord } from './toxics.js';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class Proxy {
  enabled = false;
  private server: net.Server | undefined;
  private readonly connections = new Set<ProxiedConnection>();
  readonly toxics: Record<StreamDirection, ToxicRecord[]> = { upstream: [], downstream: [] };

  constructor(
    readonly name: string,
    public listen: string,
    public upstream: string,
  ) {}

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      Logger: {},
      toxics: this.toxicList(),
    };
  }

  toxicList(): ToxicRecord[] {
    return [...this.toxics.upstream, ...this.toxics.downstream];
  }

  findToxic(name: string): ToxicRecord | undefined {
    return this.toxicList().find((t) => t.name === name);
  }

  async start(): Promise<void> {
    if (this.enabled) return;
    // An empty host binds 127.0.0.1, not every interface: the lab never listens beyond loopback.
    const addr = splitHostPort(this.listen === '' ? '127.0.0.1:0' : this.listen);
    if (!addr) throw new Error(`listen tcp ${this.listen}: address ${this.listen}: missing port in address`);
    const host = addr.host === '' ? '127.0.0.1' : addr.host;
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) =>
      this.accept(client),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const reason =
          err.code === 'EADDRINUSE'
            ? 'bind: address already in use'
            : err.code === 'EACCES'
              ? 'bind: permission denied'
              : err.message;
        reject(new Error(`listen tcp ${joinHostPort(host, addr.port)}: ${reason}`));
      });
      server.listen(addr.port, host, () => resolve());
    });
    const bound = server.address() as net.AddressInfo;
    this.listen = joinHostPort(bound.address, bound.port);
    this.server = server;
    this.enabled = true;
  }

  stop(): void {
    if (!this.enabled) return;
    this.enabled = false;
    this.server?.close();
    this.server = undefined;
    for (const c of [...this.connections]) c.destroy();
    this.connections.clear();
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    const target = splitHostPort(this.upstream);
    if (!target) {
      client.destroy();
      return;
    }
    const upstream = net.connect({
      host: target.host === '' ? '127.0.0.1' : target.host,
      port: target.port,
      allowHalfOpen: true,
    });
    const onFail = (): void => {
      upstream.destroy();
      client.destroy();
    };
    upstream.once('error', onFail);
    upstream.once('connect', () => {
      upstream.off('error', onFail);
      if (!this.enabled || client.destroyed) {
        upstream.destroy();
        client.destroy();
        return;
      }
      const conn = new ProxiedConnection(client, upstream, this.toxics, (c) => this.connections.delete(c));
      this.connections.add(conn);
      client.resume();
    });
  }

  addToxic(toxic: ToxicRecord): void {
    const dir = parseDirection(toxic.stream) as StreamDirection;
    this.toxics[dir].push(toxic);
    for (const c of this.connections) c.link(dir).addToxic(toxic);
  }

  updateToxic(toxic: ToxicRecord): void {
    const dir = parseDirection(toxic.stream) as StreamDirection;
    const list = this.toxics[dir];
    const i = list.findIndex((t) => t.name === toxic.name);
    if (i >= 0) list[i] = toxic;
    for (const c of this.connections) c.link(dir).updateToxic(toxic);
  }

  removeToxic(name: string): boolean {
    for (const dir of ['upstream', 'downstream'] as const) {
      const i = this.toxics[dir].findIndex((t) => t.name === name);
      if (i < 0) continue;
      this.toxics[dir].splice(i, 1);
      for (const c of [...this.connections]) c.link(dir).removeToxic(name);
      return true;
    }
    return false;
  }

  resetToxics(): void {
    for (const t of this.toxicList()) this.removeToxic(t.name);
  }
}
