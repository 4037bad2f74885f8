// Test support for the Open WebUI simulator suites: a tiny OpenAI-SSE stub upstream that records
// the exact bytes it sent, and a websocket-only Socket.IO client on the shared protocol codec.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { decodeEio, encodeEio } from '../../../src/protocol/engineio.js';
import { decodeSio, eventParts, sioFrame } from '../../../src/protocol/socketio.js';

export const STUB_MODEL = 'stub-model';

export interface StubLlm {
  url: string;
  /** Raw bytes of every completed-or-not streaming response, in request order. */
  sent: Buffer[];
  close(): Promise<void>;
}

/**
 * `/v1/models` lists STUB_MODEL. `/v1/chat/completions` streams the words of the last user
 * message back (one delta per word) unless it says `FAIL` (500 JSON error); `SLOW` spaces the
 * deltas 150 ms apart, otherwise 5 ms. Usage is sent with `stream_options.include_usage`.
 */
export async function startStubLlm(): Promise<StubLlm> {
  const sent: Buffer[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            object: 'list',
            data: [{ id: STUB_MODEL, object: 'model', created: 1, owned_by: 'stub' }],
          }),
        );
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        messages?: Array<{ role: string; content: string }>;
        stream?: boolean;
        stream_options?: { include_usage?: boolean };
      };
      const last = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user')?.content ?? '';
      if (last.includes('FAIL')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { message: 'stub upstream failure', type: 'server_error', code: null } }),
        );
        return;
      }
      const words = last.split(/(?<= )/);
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-stub',
            object: 'chat.completion',
            choices: [{ index: 0, message: { role: 'assistant', content: last }, finish_reason: 'stop' }],
          }),
        );
        return;
      }
      const record: Buffer[] = [];
      const index = sent.push(Buffer.alloc(0)) - 1;
      const write = (text: string): void => {
        const b = Buffer.from(text);
        record.push(b);
        sent[index] = Buffer.concat(record);
        res.write(b);
      };
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        'x-stub': 'yes',
      });
      open.add(res);
      res.on('close', () => open.delete(res));
      const delay = last.includes('SLOW') ? 150 : 5;
      let i = 0;
      const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
        `data: ${JSON.stringify({ id: 'chatcmpl-stub', object: 'chat.completion.chunk', created: 1, model: STUB_MODEL, choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
      const tick = (): void => {
        if (res.destroyed) return;
        if (i < words.length) {
          write(chunk(i === 0 ? { role: 'assistant', content: words[i] } : { content: words[i] }));
          i++;
          setTimeout(tick, delay);
          return;
        }
        if (body.stream_options?.include_usage) {
          write(
            `data: ${JSON.stringify({ id: 'chatcmpl-stub', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 3, completion_tokens: words.length, total_tokens: 3 + words.length } })}\n\n`,
          );
        }
        write('data: [DONE]\n\n');
        res.end();
      };
      tick();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    sent,
    close: () =>
      new Promise<void>((r) => {
        for (const res of open) res.destroy();
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface SocketEvent {
  name: string;
  args: unknown[];
  at: number;
}

/** A websocket-only Socket.IO v5 client, enough for the simulator's wire (no binary, no polling). */
export class TestSocket {
  readonly events: SocketEvent[] = [];
  sid = '';
  closed = false;
  private ackId = 0;
  private readonly acks = new Map<number, (args: unknown[]) => void>();
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {}

  static connect(
    baseUrl: string,
    auth: Record<string, unknown> | undefined,
    headers: Record<string, string> = {},
    timeoutMs = 5000,
  ): Promise<TestSocket> {
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws/socket.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url, { headers });
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`socket connect to ${url} timed out`));
      }, timeoutMs);
      ws.on('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          reject(
            Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body }),
          ),
        );
      });
      ws.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.on('close', () => {
        socket.closed = true;
        socket.notify();
      });
      ws.on('message', (raw) => {
        const eio = decodeEio(raw.toString());
        if (eio.type === 'open') {
          ws.send(sioFrame({ type: 'connect', nsp: '/', ...(auth ? { data: auth } : {}) }));
        } else if (eio.type === 'ping') {
          ws.send(encodeEio({ type: 'pong' }));
        } else if (eio.type === 'message') {
          const p = decodeSio(eio.data);
          if (p.type === 'connect') {
            socket.sid = String((p.data as { sid?: unknown } | undefined)?.sid ?? '');
            clearTimeout(timer);
            resolve(socket);
          } else if (p.type === 'event') {
            const parts = eventParts(p);
            if (parts) socket.events.push({ name: parts.name, args: parts.args, at: Date.now() });
            socket.notify();
          } else if (p.type === 'ack') {
            socket.acks.get(p.id)?.(p.data);
            socket.acks.delete(p.id);
          }
        }
      });
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  emit(name: string, ...args: unknown[]): void {
    this.ws.send(sioFrame({ type: 'event', nsp: '/', data: [name, ...args] }));
  }

  emitWithAck(name: string, arg: unknown, timeoutMs = 3000): Promise<unknown[]> {
    const id = this.ackId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack for ${name}`)), timeoutMs);
      this.acks.set(id, (args) => {
        clearTimeout(timer);
        resolve(args);
      });
      this.ws.send(sioFrame({ type: 'event', nsp: '/', id, data: [name, arg] }));
    });
  }

  /** Waits until `pred(events)` holds; rejects after `timeoutMs` with what arrived. */
  async waitFor(pred: (events: SocketEvent[]) => boolean, timeoutMs = 5000): Promise<SocketEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.events)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out after ${timeoutMs} ms (socket ${this.closed ? 'closed' : 'open'}); events: ${this.eventSummary()}`,
        );
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.events;
  }

  /** `name/type×count` runs in arrival order, short enough to survive a truncated CI log. */
  eventSummary(): string {
    const runs: Array<{ key: string; n: number; at: number }> = [];
    for (const e of this.events) {
      const type = (e.args[0] as { data?: { type?: string } } | undefined)?.data?.type;
      const key = type ? `${e.name}/${type}` : e.name;
      const last = runs[runs.length - 1];
      if (last?.key === key) {
        last.n++;
        last.at = e.at;
      } else runs.push({ key, n: 1, at: e.at });
    }
    const now = Date.now();
    const shown = runs.map((r) => `${r.key}×${r.n} (last ${now - r.at} ms ago)`);
    return shown.length > 12
      ? [...shown.slice(0, 4), '…', ...shown.slice(-8)].join(', ')
      : shown.join(', ') || 'none';
  }

  close(): void {
    this.ws.terminate();
  }
}

export async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

export function post(
  url: string,
  body: unknown,
  token?: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

export function get(url: string, token?: string): Promise<Response> {
  return fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}
