// Outside-in observation for driver tests: does a URL answer, refuse, or hang?

import { request } from 'node:http';

export type HttpOutcome =
  | { kind: 'answered'; status: number; body: string }
  | { kind: 'refused' }
  | { kind: 'timeout' }
  | { kind: 'error'; code: string };

export function httpGet(url: string, timeoutMs = 1000): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ kind: 'answered', status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ kind: 'error', code: 'response' }));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ kind: 'timeout' });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve({ kind: 'refused' });
      else resolve({ kind: 'error', code: err.code ?? err.message }); // after a timeout: already resolved
    });
    req.end();
  });
}

/** A tiny HTTP server answering `/health` like Open WebUI, as a `node -e` script (port from $PORT). */
export const HEALTH_SERVER_SCRIPT = [
  "const http = require('http');",
  'const port = Number(process.env.PORT);',
  'http.createServer((req, res) => {',
  "  if (req.url === '/health') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ status: true })); return; }",
  "  if (req.url === '/whoami') { res.end(String(process.pid)); return; }",
  '  res.statusCode = 404; res.end();',
  "}).listen(port, '127.0.0.1');",
  "process.on('SIGTERM', () => process.exit(0));",
].join('\n');
