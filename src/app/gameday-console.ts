// The game-day console (DESIGN §9): a local web page over a GamedaySession. It listens on
// 127.0.0.1 only and answers only requests that carry the session's random token (in the page URL,
// then in a header on every API call), with a Host header naming the console itself (so another
// site cannot drive it through DNS rebinding). The charting library (uPlot) is inlined into the
// page: no network is needed. Every action goes through the session, so hand faults are validated
// and persisted on the revert stack exactly like timeline entries.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { OwuiChaosError, ValidationError, errorMessage } from '../core/errors.js';
import { LIVE_PERCENTILES, LIVE_TRENDS } from '../core/gameday/live-series.js';
import { METRIC_NAMES, STREAM_OUTCOMES } from '../core/metrics.js';
import { SLO_STATS } from '../core/slo/spec.js';
import type { GamedaySession } from './gameday.js';
import { consolePage } from './gameday-console-page.js';

export interface ConsoleServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  return {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

export async function startConsole(
  session: GamedaySession,
  opts: { port?: number; token?: string; onFinishRequested?: () => void } = {},
): Promise<ConsoleServer> {
  const token = opts.token ?? randomBytes(18).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const assets = uplotAssets();
  let port = 0;
  const page = (): string =>
    consolePage({
      uplotJs: assets.js,
      uplotCss: assets.css,
      trends: [...LIVE_TRENDS],
      percentiles: [...LIVE_PERCENTILES],
      catalogue: session.catalogue,
      title: session.experiment.title,
      metrics: [...METRIC_NAMES],
      stats: [...SLO_STATS],
      outcomes: [...STREAM_OUTCOMES],
    });

  const hasToken = (req: IncomingMessage, url: URL): boolean => {
    const given = req.headers['x-owui-chaos-token'] ?? url.searchParams.get('token') ?? '';
    const buf = Buffer.from(Array.isArray(given) ? (given[0] ?? '') : given);
    return buf.length === tokenBuf.length && timingSafeEqual(buf, tokenBuf);
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) =>
      send(res, 500, { error: { code: 'BUG', message: errorMessage(err) } }),
    );
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      send(res, 421, {
        error: { code: 'WRONG_HOST', message: `this console answers for 127.0.0.1:${port} only` },
      });
      return;
    }
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (!hasToken(req, url)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(
        '403: this game-day console needs the session token printed by `owui-chaos gameday` (the full URL).\n',
      );
      return;
    }
    const path = url.pathname;
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'content-security-policy':
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
      });
      res.end(page());
      return;
    }
    if (req.method === 'GET' && path === '/api/state') return send(res, 200, session.state());
    if (req.method === 'GET' && path === '/api/series')
      return send(res, 200, session.live.since(Number(url.searchParams.get('since') ?? 0) || 0));
    if (req.method === 'GET' && path === '/api/slos')
      return send(res, 200, { slos: session.slos(), hypotheses: session.hypotheses() });
    if (req.method !== 'POST')
      return send(res, 404, { error: { code: 'NOT_FOUND', message: `no ${req.method} ${path}` } });
    // Writes need the header (a custom header cannot be sent cross-site without a CORS preflight).
    if (req.headers['x-owui-chaos-token'] === undefined)
      return send(res, 403, {
        error: { code: 'TOKEN_HEADER', message: 'POST needs the X-Owui-Chaos-Token header' },
      });
    const body = await readJson(req);
    try {
      switch (path) {
        case '/api/inject':
          return send(res, 200, { fault: await session.inject(body as never) });
        case '/api/revert':
          await session.revert(String((body as { name?: unknown }).name ?? ''));
          return send(res, 200, { ok: true });
        case '/api/revert-all':
          return send(res, 200, { failed: await session.revertAll() });
        case '/api/note': {
          const b = body as { kind?: unknown; text?: unknown; check?: unknown };
          const kind = b.kind === 'observation' ? 'observation' : 'hypothesis';
          const text = String(b.text ?? '').trim();
          if (!text) return send(res, 400, { error: { code: 'EMPTY_NOTE', message: 'a note needs text' } });
          return send(res, 200, { note: session.note(kind, text, b.check ?? undefined) });
        }
        case '/api/load':
          return send(res, 200, { change: session.changeLoad(body, 'console'), load: session.state().load });
        case '/api/finish':
          opts.onFinishRequested?.();
          return send(res, 200, { ok: true });
        default:
          return send(res, 404, { error: { code: 'NOT_FOUND', message: `no POST ${path}` } });
      }
    } catch (err) {
      const e = err instanceof OwuiChaosError ? err : undefined;
      return send(res, e ? 400 : 500, {
        error: {
          code: e?.code ?? 'FAILED',
          message: errorMessage(err),
          ...(err instanceof ValidationError ? { issues: err.issues } : {}),
          ...(e?.suggestions.length ? { suggestions: e.suggestions } : {}),
        },
      });
    }
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolvePromise());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    token,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new ValidationError('request body too large', [{ path: '', message: `over ${MAX_BODY} bytes` }]);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('request body is not JSON', [{ path: '', message: 'send a JSON object' }]);
  }
}
