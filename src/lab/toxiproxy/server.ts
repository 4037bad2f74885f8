// The lab's Toxiproxy-compatible server: Toxiproxy's HTTP API (api.go) over node:http, proxies
// over node:net. Used when no `toxiproxy-server` binary is on PATH, so the same driver code
// (toxiproxy-node-client) runs against both.
//
// Contract: same routes, JSON shapes, status codes and error bodies as Toxiproxy 2.x:
// errors are `{"error": "...", "status": N}` + "\n" as text/plain (Go's http.Error); 201 for a
// created proxy and for /populate, 200 for a created toxic (Toxiproxy never sets 201 there),
// 204 for deletes and /reset, 404 / 409 / 400 with Toxiproxy's messages; unknown routes get Go's
// "404 page not found", a known route with another method 405. Deviations, all for the lab's
// safety: an empty listen host binds 127.0.0.1 rather than every interface.

import http from 'node:http';
import { listenHttp } from '../listen.js';
import { ApiError, Proxy } from './proxy.js';
import { goJsonKind, isToxicKind, mergeAttributes, parseDirection, type ToxicRecord } from './toxics.js';

export const TOXIPROXY_COMPAT_VERSION = '2.12.0';

export interface ToxiproxyServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const ErrBadRequestBody = (detail: string): ApiError => new ApiError(`bad request body: ${detail}`, 400);
const ErrMissingField = (field: string): ApiError => new ApiError(`missing required field: ${field}`, 400);
const ErrProxyNotFound = (): ApiError => new ApiError('proxy not found', 404);
const ErrProxyAlreadyExists = (): ApiError => new ApiError('proxy already exists', 409);
const ErrInvalidStream = (): ApiError =>
  new ApiError('stream was invalid, can be either upstream or downstream', 400);
const ErrInvalidToxicType = (): ApiError => new ApiError('invalid toxic type', 400);
const ErrToxicAlreadyExists = (): ApiError => new ApiError('toxic already exists', 409);
const ErrToxicNotFound = (): ApiError => new ApiError('toxic not found', 404);

/** Go's json.Decoder on our body: EOF for nothing, its error text otherwise. */
function decodeJson(raw: string): unknown {
  if (raw.trim() === '') throw ErrBadRequestBody('EOF');
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw ErrBadRequestBody(e instanceof Error ? e.message : String(e));
  }
}

function expectObject(value: unknown, goType: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ErrBadRequestBody(`json: cannot unmarshal ${goJsonKind(value)} into Go value of type ${goType}`);
  }
  return value as Record<string, unknown>;
}

function field<T extends 'string' | 'boolean' | 'number'>(
  obj: Record<string, unknown>,
  key: string,
  kind: T,
  goStruct: string,
): (T extends 'string' ? string : T extends 'boolean' ? boolean : number) | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== kind) {
    const goKind = kind === 'boolean' ? 'bool' : kind === 'number' ? 'float32' : 'string';
    throw ErrBadRequestBody(
      `json: cannot unmarshal ${goJsonKind(v)} into Go struct field ${goStruct}.${key} of type ${goKind}`,
    );
  }
  return v as never;
}

export async function startToxiproxyServer(
  opts: { host?: string; port?: number } = {},
): Promise<ToxiproxyServer> {
  const host = opts.host ?? '127.0.0.1';
  const proxies = new Map<string, Proxy>();

  const getProxy = (name: string): Proxy => {
    const p = proxies.get(name);
    if (!p) throw ErrProxyNotFound();
    return p;
  };

  const sortedProxies = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const name of [...proxies.keys()].sort()) out[name] = proxies.get(name)?.toJSON();
    return out;
  };

  async function createProxy(raw: string): Promise<Proxy> {
    const input = expectObject(decodeJson(raw), 'toxiproxy.Proxy');
    const name = field(input, 'name', 'string', 'Proxy') ?? '';
    const listen = field(input, 'listen', 'string', 'Proxy') ?? '';
    const upstream = field(input, 'upstream', 'string', 'Proxy') ?? '';
    const enabled = field(input, 'enabled', 'boolean', 'Proxy') ?? true;
    if (name.length < 1) throw ErrMissingField('name');
    if (upstream.length < 1) throw ErrMissingField('upstream');
    if (proxies.has(name)) throw ErrProxyAlreadyExists();
    const proxy = new Proxy(name, listen, upstream);
    if (enabled) await proxy.start();
    proxies.set(name, proxy);
    return proxy;
  }

  async function updateProxy(proxy: Proxy, raw: string): Promise<void> {
    const input = expectObject(decodeJson(raw), 'toxiproxy.Proxy');
    const listen = field(input, 'listen', 'string', 'Proxy') ?? proxy.listen;
    const upstream = field(input, 'upstream', 'string', 'Proxy') ?? proxy.upstream;
    const enabled = field(input, 'enabled', 'boolean', 'Proxy') ?? proxy.enabled;
    if (listen !== proxy.listen || upstream !== proxy.upstream) {
      proxy.stop();
      proxy.listen = listen;
      proxy.upstream = upstream;
    }
    if (enabled !== proxy.enabled) {
      if (enabled) await proxy.start();
      else proxy.stop();
    }
  }

  async function populate(raw: string): Promise<Proxy[]> {
    const input = decodeJson(raw);
    if (!Array.isArray(input)) {
      throw ErrBadRequestBody(
        `json: cannot unmarshal ${goJsonKind(input)} into Go value of type []struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }`,
      );
    }
    // Validate everything before changing anything, as Toxiproxy does.
    const items: { name: string; listen: string; upstream: string; enabled: boolean }[] = [];
    const names = new Set<string>();
    input.forEach((item, i) => {
      const o = expectObject(item, 'toxiproxy.Proxy');
      const name = field(o, 'name', 'string', 'Proxy') ?? '';
      const upstream = field(o, 'upstream', 'string', 'Proxy') ?? '';
      if (name.length < 1) throw ErrMissingField(`name at proxy ${i + 1}`);
      if (upstream.length < 1) throw ErrMissingField(`upstream at proxy ${i + 1}`);
      if (names.has(name)) throw new Error(`duplicate proxy name "${name}"`);
      names.add(name);
      items.push({
        name,
        upstream,
        listen: field(o, 'listen', 'string', 'Proxy') ?? '',
        enabled: field(o, 'enabled', 'boolean', 'Proxy') ?? true,
      });
    });
    const out: Proxy[] = [];
    for (const item of items) {
      const existing = proxies.get(item.name);
      if (existing && existing.listen === item.listen && existing.upstream === item.upstream) {
        out.push(existing);
        continue;
      }
      existing?.stop();
      const proxy = new Proxy(item.name, item.listen, item.upstream);
      if (item.enabled) await proxy.start();
      proxies.set(item.name, proxy);
      out.push(proxy);
    }
    return out;
  }

  function createToxic(proxy: Proxy, raw: string): ToxicRecord {
    const input = expectObject(decodeJson(raw), 'toxics.ToxicWrapper');
    const stream = field(input, 'stream', 'string', 'ToxicWrapper') ?? 'downstream';
    const toxicity = field(input, 'toxicity', 'number', 'ToxicWrapper') ?? 1;
    const type = field(input, 'type', 'string', 'ToxicWrapper') ?? '';
    let name = field(input, 'name', 'string', 'ToxicWrapper') ?? '';
    if (!parseDirection(stream)) throw ErrInvalidStream();
    if (name === '') name = `${type}_${stream}`;
    if (!isToxicKind(type)) throw ErrInvalidToxicType();
    if (proxy.findToxic(name)) throw ErrToxicAlreadyExists();
    const merged = mergeAttributes(type, {}, input['attributes']);
    if ('error' in merged) throw ErrBadRequestBody(merged.error);
    const toxic: ToxicRecord = { attributes: merged.attributes, name, type, stream, toxicity };
    proxy.addToxic(toxic);
    return toxic;
  }

  function updateToxic(proxy: Proxy, name: string, raw: string): ToxicRecord {
    const existing = proxy.findToxic(name);
    if (!existing) throw ErrToxicNotFound();
    const input = expectObject(
      decodeJson(raw),
      'struct { Attributes interface {} "json:\\"attributes\\""; Toxicity float32 "json:\\"toxicity\\"" }',
    );
    const toxicity = field(input, 'toxicity', 'number', 'ToxicWrapper') ?? existing.toxicity;
    const merged = mergeAttributes(existing.type, existing.attributes, input['attributes']);
    if ('error' in merged) throw ErrBadRequestBody(merged.error);
    const updated: ToxicRecord = { ...existing, attributes: merged.attributes, toxicity };
    proxy.updateToxic(updated);
    return updated;
  }

  type Handler = (params: string[], body: string) => Promise<[number, unknown]>;
  const routes: { pattern: RegExp; methods: Record<string, Handler> }[] = [
    {
      pattern: /^\/reset$/,
      methods: {
        POST: async () => {
          for (const p of proxies.values()) {
            await p.start();
            p.resetToxics();
          }
          return [204, undefined];
        },
      },
    },
    {
      pattern: /^\/proxies$/,
      methods: {
        GET: async () => [200, sortedProxies()],
        POST: async (_, body) => [201, (await createProxy(body)).toJSON()],
      },
    },
    {
      pattern: /^\/populate$/,
      methods: {
        POST: async (_, body) => {
          try {
            const created = await populate(body);
            return [201, { proxies: created.length > 0 ? created.map((p) => p.toJSON()) : null }];
          } catch (e) {
            const err =
              e instanceof ApiError ? e : new ApiError(e instanceof Error ? e.message : String(e), 500);
            return [err.status, { error: err.message, status: err.status, proxies: null }];
          }
        },
      },
    },
    {
      pattern: /^\/proxies\/([^/]+)$/,
      methods: {
        GET: async ([name]) => [200, getProxy(name as string).toJSON()],
        POST: async ([name], body) => {
          const p = getProxy(name as string);
          await updateProxy(p, body);
          return [200, p.toJSON()];
        },
        PATCH: async ([name], body) => {
          const p = getProxy(name as string);
          await updateProxy(p, body);
          return [200, p.toJSON()];
        },
        DELETE: async ([name]) => {
          const p = getProxy(name as string);
          p.stop();
          proxies.delete(p.name);
          return [204, undefined];
        },
      },
    },
    {
      pattern: /^\/proxies\/([^/]+)\/toxics$/,
      methods: {
        GET: async ([name]) => [200, getProxy(name as string).toxicList()],
        POST: async ([name], body) => [200, createToxic(getProxy(name as string), body)],
      },
    },
    {
      pattern: /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
      methods: {
        GET: async ([name, toxic]) => {
          const t = getProxy(name as string).findToxic(toxic as string);
          if (!t) throw ErrToxicNotFound();
          return [200, t];
        },
        POST: async ([name, toxic], body) => [
          200,
          updateToxic(getProxy(name as string), toxic as string, body),
        ],
        PATCH: async ([name, toxic], body) => [
          200,
          updateToxic(getProxy(name as string), toxic as string, body),
        ],
        DELETE: async ([name, toxic]) => {
          if (!getProxy(name as string).removeToxic(toxic as string)) throw ErrToxicNotFound();
          return [204, undefined];
        },
      },
    },
  ];

  // API calls run one at a time, like Toxiproxy's collection locks: no interleaved start/stop.
  let queue: Promise<void> = Promise.resolve();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      queue = queue
        .then(() => handle(req, res, Buffer.concat(chunks).toString('utf8')))
        .catch(() => undefined);
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): Promise<void> {
    if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/'))
      return sendText(res, 403, 'User agent not allowed\n');
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    if (path === '/version' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' });
      res.end(`{"version": "${TOXIPROXY_COMPAT_VERSION}"}\n`);
      return;
    }
    for (const route of routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const handler = route.methods[req.method ?? 'GET'];
      if (!handler) return sendText(res, 405, '');
      try {
        const [status, payload] = await handler(m.slice(1), body);
        if (payload === undefined) {
          res.writeHead(status);
          res.end();
        } else {
          res.writeHead(status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(payload));
        }
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(e instanceof Error ? e.message : String(e), 500);
        sendText(res, err.status, `${JSON.stringify({ error: err.message, status: err.status })}\n`);
      }
      return;
    }
    if (path === '/version') return sendText(res, 405, '');
    sendText(res, 404, '404 page not found\n');
  }

  const { url, port } = await listenHttp(server, host, opts.port ?? 0);

  return {
    url,
    port,
    close: async () => {
      for (const p of proxies.values()) p.stop();
      proxies.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Go's http.Error: the text plus a newline, as text/plain. */
function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}
