// Toxiproxy through toxiproxy-node-client (the one module that imports it). Speaks the HTTP API of
// the real `toxiproxy-server` (and of the lab's compatible server): proxies, toxics, /reset.
// `down` is not a toxic in Toxiproxy: it is the proxy's `enabled: false`.
//
// The fault verbs (src/core/faults/toxic.ts prepares them) and their inverses are idempotent:
// removing a toxic that is already gone succeeds, enabling an enabled proxy succeeds.

import { Toxiproxy } from 'toxiproxy-node-client';
import { type Clock, systemClock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { describeToxic } from '../../core/faults/toxic.js';
import type { ProxyInfo, ProxyTraffic, ToxicSpec, ToxiproxyDriver } from '../../core/ports.js';
import { isLocalListen, openConnectionBytes } from '../../infra/socket-traffic.js';
import * as toxiproxyApi from '../../infra/toxiproxy-api.js';
import { type DriverLogger, silentLogger, step } from '../driver-log.js';

export { describeToxic };

export interface ToxiproxyClientDriverOptions {
  /** The Toxiproxy API, e.g. `http://127.0.0.1:8474`. */
  url: string;
  logger?: DriverLogger;
  clock?: Clock;
}

const DRIVER = 'toxiproxy';

export class ToxiproxyClientDriver implements ToxiproxyDriver {
  private readonly client: Toxiproxy;
  private readonly url: string;
  private readonly log: DriverLogger;
  private readonly clock: Clock;

  constructor(opts: ToxiproxyClientDriverOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.client = new Toxiproxy(this.url);
    this.log = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
  }

  async version(): Promise<string> {
    return this.call(`read the Toxiproxy version at ${this.url}`, 'TOXIPROXY_UNREACHABLE', () =>
      this.client.getVersion(),
    );
  }

  async listProxies(): Promise<ProxyInfo[]> {
    return this.call(`list proxies at ${this.url}`, 'TOXIPROXY_UNREACHABLE', () =>
      toxiproxyApi.listProxies(this.url),
    );
  }

  async getProxy(proxy: string): Promise<ProxyInfo> {
    return this.call(`read proxy ${proxy}`, 'TOXIPROXY_PROXY_FAILED', () =>
      toxiproxyApi.getProxy(this.url, proxy),
    );
  }

  /** Creates a proxy (for targets whose proxies the tool sets up). */
  async createProxy(p: { name: string; listen: string; upstream: string; enabled?: boolean }): Promise<void> {
    await this.call(
      `create proxy ${p.name} (${p.listen} → ${p.upstream})`,
      'TOXIPROXY_PROXY_FAILED',
      async () => {
        await toxiproxyApi.createProxy(this.url, p);
      },
    );
  }

  async addToxic(proxy: string, toxic: ToxicSpec): Promise<void> {
    await this.call(`add ${describeToxic(toxic)} to proxy ${proxy}`, 'TOXIC_ADD_FAILED', async () => {
      const p = await this.client.get(proxy);
      await p.addToxic({ ...toxic, attributes: { ...toxic.attributes } });
    });
  }

  async updateToxic(proxy: string, toxic: ToxicSpec): Promise<void> {
    await this.call(
      `update toxic ${toxic.name} on proxy ${proxy} to ${describeToxic(toxic)}`,
      'TOXIC_UPDATE_FAILED',
      async () => {
        await this.client
          .getApi()
          .post(`${this.toxicPath(proxy, toxic.name)}`, { ...toxic, attributes: { ...toxic.attributes } });
      },
    );
  }

  /** Puts a toxic back as it was: update when it still exists, add it when it is gone. */
  async restoreToxic(proxy: string, toxic: ToxicSpec): Promise<void> {
    const existing = (await this.getProxy(proxy)).toxics.find((t) => t.name === toxic.name);
    if (existing) await this.updateToxic(proxy, toxic);
    else await this.addToxic(proxy, toxic);
  }

  async removeToxic(proxy: string, toxic: string): Promise<void> {
    await this.call(`remove toxic ${toxic} from proxy ${proxy}`, 'TOXIC_REMOVE_FAILED', () =>
      this.neutralizeAndDelete(proxy, toxic),
    );
  }

  async setEnabled(proxy: string, enabled: boolean): Promise<void> {
    await this.call(
      `${enabled ? 'enable' : 'disable'} proxy ${proxy}`,
      'TOXIPROXY_PROXY_FAILED',
      async () => {
        const p = await this.client.get(proxy);
        if (p.enabled === enabled) return;
        await p.update({ enabled, listen: p.listen, upstream: p.upstream });
      },
    );
  }

  /**
   * Toxiproxy's count of closed connections' bytes (with `-proxy-metrics`) and, when the proxy
   * listens on this machine, the kernel's count of each open connection's bytes.
   */
  async traffic(proxy: string): Promise<ProxyTraffic | undefined> {
    return this.call(`read the traffic through proxy ${proxy}`, 'TOXIPROXY_UNREACHABLE', async () => {
      const { listen } = await toxiproxyApi.getProxy(this.url, proxy);
      const [closedBytes, open] = await Promise.all([
        toxiproxyApi.proxyReceivedBytes(this.url, proxy),
        isLocalListen(listen)
          ? openConnectionBytes(Number(listen.slice(listen.lastIndexOf(':') + 1)))
          : Promise.resolve(undefined),
      ]);
      if (closedBytes === undefined && open === undefined) return undefined;
      return {
        ...(closedBytes === undefined ? {} : { closedBytes }),
        ...(open === undefined ? {} : { open }),
      };
    });
  }

  async reset(): Promise<void> {
    await this.call(
      `reset Toxiproxy at ${this.url} (enable every proxy, remove every toxic)`,
      'TOXIPROXY_RESET_FAILED',
      async () => {
        // /reset deletes toxics the way a bare DELETE does: remove each one first.
        for (const p of await toxiproxyApi.listProxies(this.url))
          for (const t of p.toxics) await this.neutralizeAndDelete(p.name, t.name);
        await this.client.reset();
      },
    );
  }

  /**
   * Sets the toxic's toxicity to 0, then deletes it; a toxic already gone is fine (the goal
   * holds). A bare DELETE while connections through the proxy close hangs Toxiproxy 2.12's whole
   * API; the update first makes that rarer, it does not rule it out (docs/faults.md, "Reverting
   * under load").
   */
  private async neutralizeAndDelete(proxy: string, toxic: string): Promise<void> {
    try {
      await this.client.getApi().post(this.toxicPath(proxy, toxic), { toxicity: 0 });
      await this.client.getApi().delete(this.toxicPath(proxy, toxic));
    } catch (err) {
      if (httpStatus(err) !== 404) throw err;
    }
  }

  private toxicPath(proxy: string, toxic: string): string {
    return `${this.url}/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(toxic)}`;
  }

  private call<T>(action: string, code: string, fn: () => Promise<T>): Promise<T> {
    return step(
      this.log,
      DRIVER,
      action,
      fn,
      (err) => {
        const status = httpStatus(err);
        const why = status === 404 ? 'not found' : status === 409 ? 'it already exists' : undefined;
        return {
          code:
            status === undefined && /fetch failed|ECONNREFUSED/i.test(errorMessage(err))
              ? 'TOXIPROXY_UNREACHABLE'
              : code,
          message: `Could not ${action}${why ? ` (${why})` : ''}`,
          suggestions:
            status === 409
              ? ['owui-chaos rollback', `curl -s ${this.url}/proxies`]
              : [`curl -s ${this.url}/proxies`],
        };
      },
      this.clock,
    );
  }
}

/** The shared API calls carry the status; toxiproxy-node-client says only "… status code N". */
function httpStatus(err: unknown): number | undefined {
  if (err instanceof toxiproxyApi.ToxiproxyHttpError) return err.status;
  const m = /status code (\d{3})/.exec(errorMessage(err));
  return m ? Number(m[1]) : undefined;
}
