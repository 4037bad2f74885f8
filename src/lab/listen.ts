// Starts a lab HTTP server listening and says where: one place for the listen-or-fail dance and
// for bracketing IPv6 hosts in URLs, shared by the mock LLM and the Toxiproxy-compatible server.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `host:port` (0 = a free port); rejects on EADDRINUSE and the like. */
export async function listenHttp(
  server: Server,
  host: string,
  port = 0,
): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { url: `http://${urlHost}:${bound}`, port: bound };
}
