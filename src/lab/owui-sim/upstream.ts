// The OpenAI-compatible upstream (the lab's mock LLM): model list (cached, shared through the
// Redis model registry `{p}:models` when WEBSOCKET_MANAGER=redis) and raw streaming requests made
// with node:http so bytes can be passed through as they arrive.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SimContext } from './context.js';

export interface SimModel {
  id: string;
  name: string;
  object: 'model';
  created: number;
  owned_by: string;
  connection_type: 'external';
  urlIdx: 0;
  openai: Record<string, unknown>;
  info: null;
  tags: unknown[];
  actions: unknown[];
  filters: unknown[];
}

/** POSTs JSON to `{base}{path}`; resolves with the response head as soon as it arrives. */
export function upstreamPost(
  ctx: SimContext,
  path: string,
  body: unknown,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  return upstreamCall(ctx, 'POST', path, JSON.stringify(body), signal);
}

function upstreamCall(
  ctx: SimContext,
  method: string,
  path: string,
  body: string | undefined,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  if (ctx.config.openaiBaseUrl === '')
    return Promise.reject(new Error('no OpenAI connection configured (OPENAI_API_BASE_URL is unset)'));
  const url = new URL(ctx.config.openaiBaseUrl + path);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      accept: method === 'POST' ? 'text/event-stream, application/json' : 'application/json',
    };
    if (ctx.config.openaiApiKey) headers.authorization = `Bearer ${ctx.config.openaiApiKey}`;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    const req = send(url, { method, headers, ...(signal ? { signal } : {}) }, resolve);
    req.on('error', reject);
    req.end(body);
  });
}

export async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export class ModelRegistry {
  private cache: SimModel[] | undefined;

  constructor(private readonly ctx: SimContext) {}

  /** Upstream `/models`, cached until `refresh`; an unreachable upstream gives what we had (or []). */
  async list(refresh = false): Promise<SimModel[]> {
    if (this.cache && !refresh) return this.cache;
    if (this.ctx.config.openaiBaseUrl === '') return [];
    try {
      const res = await upstreamCall(this.ctx, 'GET', '/models', undefined, AbortSignal.timeout(5000));
      const body = JSON.parse((await readAll(res)).toString('utf8')) as {
        data?: Array<Record<string, unknown>>;
      };
      if ((res.statusCode ?? 500) >= 400 || !Array.isArray(body.data))
        throw new Error(`upstream /models answered ${res.statusCode}`);
      this.cache = body.data
        .filter((m) => typeof m.id === 'string')
        .map((m) => ({
          id: m.id as string,
          name: typeof m.name === 'string' ? m.name : (m.id as string),
          object: 'model',
          created: typeof m.created === 'number' ? m.created : Math.floor(Date.now() / 1000),
          owned_by: 'openai',
          connection_type: 'external',
          urlIdx: 0,
          openai: m,
          info: null,
          tags: [],
          actions: [],
          filters: [],
        }));
      if (this.ctx.config.websocketRedis && this.ctx.redis && this.cache.length > 0) {
        const fields = this.cache.flatMap((m) => [m.id, JSON.stringify(m)]);
        await this.ctx.redis
          .retry((r) => r.hset(this.ctx.key('models'), ...fields))
          .catch((err: Error) => this.ctx.log(`model registry write failed: ${err.message}`));
      }
    } catch (err) {
      this.ctx.log(`models: ${(err as Error).message}`);
      if (!this.cache) return [];
    }
    return this.cache ?? [];
  }

  /**
   * The chat path's model lookup. With WEBSOCKET_MANAGER=redis the registry is the Redis hash and
   * this first read is outside any error handling (§6.4): a Redis error propagates (→ 500).
   */
  async find(id: string): Promise<SimModel | undefined> {
    if (this.ctx.config.websocketRedis && this.ctx.redis) {
      const raw = await this.ctx.redis.retry((r) => r.hget(this.ctx.key('models'), id));
      if (raw) return JSON.parse(raw) as SimModel;
    }
    const local = (await this.list()).find((m) => m.id === id);
    if (local) return local;
    return (await this.list(true)).find((m) => m.id === id);
  }
}
