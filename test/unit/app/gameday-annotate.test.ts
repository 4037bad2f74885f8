// `gameday --annotate grafana` against a small real HTTP server that checks each request the way
// Grafana's HTTP API documents `POST /api/annotations`: JSON with `time` / `timeEnd` in epoch ms,
// `tags` (strings) and `text`, optional `dashboardUID`, a Bearer token. Failures (HTTP errors,
// refused connections, timeouts) come back as warnings — never a throw — and never carry the token.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GrafanaAnnotator } from '../../../src/app/gameday-annotate.js';
import { UsageError } from '../../../src/core/errors.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- checked field by field
}

const TOKEN = 'glsa_test-secret-token-0123456789';
const servers: Server[] = [];

/** A Grafana-shaped endpoint: validates the create-annotation request and answers as Grafana does. */
async function grafana(mode: 'ok' | 'unauthorized' | 'hang' = 'ok'): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as unknown) : undefined;
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (mode === 'hang') return; // never answers
      if (mode === 'unauthorized' || req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Unauthorized' }));
        return;
      }
      const b = body as Record<string, unknown>;
      const problems = [
        req.method !== 'POST' && 'method',
        !/^\/(grafana\/)?api\/annotations$/.test(req.url ?? '') && 'path',
        !String(req.headers['content-type']).startsWith('application/json') && 'content-type',
        !Number.isInteger(b.time) && 'time',
        b.timeEnd !== undefined &&
          (!Number.isInteger(b.timeEnd) || (b.timeEnd as number) < (b.time as number)) &&
          'timeEnd',
        (!Array.isArray(b.tags) || !(b.tags as unknown[]).every((t) => typeof t === 'string')) && 'tags',
        typeof b.text !== 'string' && 'text',
        Object.keys(b).some(
          (k) => !['dashboardUID', 'panelId', 'time', 'timeEnd', 'tags', 'text'].includes(k),
        ) && 'unknown field',
      ].filter(Boolean);
      if (problems.length > 0) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `bad request: ${problems.join(', ')}` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Annotation added', id: seen.length }));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

describe('GrafanaAnnotator', () => {
  it('posts a fault window as a region and a note as a point, as Grafana documents them', async () => {
    const g = await grafana();
    const a = new GrafanaAnnotator({ url: g.url, token: TOKEN });
    expect(
      await a.post({
        time: 1_700_000_000_000.4,
        timeEnd: 1_700_000_030_000,
        tags: ['owui-chaos', 'fault:slow-llm'],
        text: 'fault slow-llm',
      }),
    ).toBeUndefined();
    expect(
      await a.post({
        time: 1_700_000_005_000,
        tags: ['owui-chaos', 'note', 'hypothesis'],
        text: 'we expect…',
      }),
    ).toBeUndefined();
    expect(g.seen.map((s) => [s.method, s.url])).toEqual([
      ['POST', '/api/annotations'],
      ['POST', '/api/annotations'],
    ]);
    expect(g.seen[0]!.body).toEqual({
      time: 1_700_000_000_000,
      timeEnd: 1_700_000_030_000,
      tags: ['owui-chaos', 'fault:slow-llm'],
      text: 'fault slow-llm',
    });
    expect(g.seen[1]!.body).not.toHaveProperty('timeEnd');
    expect(g.seen[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('keeps a sub-path and adds the dashboard UID when given', async () => {
    const g = await grafana();
    const a = new GrafanaAnnotator({ url: `${g.url}/grafana/`, token: TOKEN, dashboardUID: 'owui-chaos' });
    expect(await a.post({ time: 1, tags: [], text: 'x' })).toBeUndefined();
    expect(g.seen[0]!.url).toBe('/grafana/api/annotations');
    expect(g.seen[0]!.body.dashboardUID).toBe('owui-chaos');
  });

  it('turns every failure into a warning that names the endpoint, never the token', async () => {
    const g = await grafana('unauthorized');
    const denied = await new GrafanaAnnotator({ url: g.url, token: TOKEN }).post({
      time: 1,
      tags: [],
      text: 'x',
    });
    expect(denied).toMatch(/HTTP 401/);
    expect(denied).toContain(`${g.url}/api/annotations`);
    // Nothing listens on a closed port: refused, as a warning.
    const closed = await grafana();
    const port = new URL(closed.url).port;
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    const refused = await new GrafanaAnnotator({ url: `http://127.0.0.1:${port}`, token: TOKEN }).post({
      time: 1,
      tags: [],
      text: 'x',
    });
    expect(refused).toMatch(/ECONNREFUSED/);
    const slow = await grafana('hang');
    const t0 = Date.now();
    const timedOut = await new GrafanaAnnotator({ url: slow.url, token: TOKEN, timeoutMs: 300 }).post({
      time: 1,
      tags: [],
      text: 'x',
    });
    expect(timedOut).toMatch(/no answer within 0.3 s/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    for (const w of [denied, refused, timedOut]) expect(w).not.toContain(TOKEN);
  });

  it('refuses a URL that is not http(s) or that carries credentials', () => {
    expect(() => new GrafanaAnnotator({ url: 'ftp://x' })).toThrow(UsageError);
    expect(() => new GrafanaAnnotator({ url: 'not a url' })).toThrow(/not a URL/);
    expect(() => new GrafanaAnnotator({ url: 'http://admin:pw@127.0.0.1:3000' })).toThrow(/GRAFANA_TOKEN/);
  });
});
