// The bytes on each open TCP connection to a local listening port, from the kernel (`ss -tin`,
// iproute2: tcp_info's bytes_received and bytes_acked per socket). Toxiproxy counts a connection's
// bytes only when it closes (its link.go adds io.Copy's total at EOF), so a long-lived connection
// (a Redis client, a keep-alive pool, a WebSocket) shows nothing there while it is open; this
// sees it. Only for ports on this machine.

import { execFile } from 'node:child_process';

/** Each established connection accepted on `port`, by peer (`host:port`): bytes received + acked. */
export function openConnectionBytes(port: number): Promise<Record<string, number> | undefined> {
  return new Promise((resolve) => {
    execFile(
      'ss',
      ['-H', '-t', '-i', '-n', 'state', 'established', `( sport = :${port} )`],
      { timeout: 5000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout) => resolve(error ? undefined : parseSsTcpInfo(stdout)),
    );
  });
}

/**
 * `ss -H -t -i -n state established` output: a line with Recv-Q, Send-Q, local and peer address,
 * then an indented line of tcp_info fields. Returns bytes_received + bytes_acked by peer.
 */
export function parseSsTcpInfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  let peer: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) {
      const cols = line.trim().split(/\s+/);
      peer = cols[3];
      if (peer !== undefined) out[peer] = 0;
      continue;
    }
    if (peer === undefined) continue;
    const field = (name: string): number => Number(new RegExp(`\\b${name}:(\\d+)`).exec(line)?.[1] ?? 0);
    out[peer] = (out[peer] ?? 0) + field('bytes_received') + field('bytes_acked');
  }
  return out;
}

/** Whether a `host:port` listen address is on this machine (loopback or any-address). */
export function isLocalListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::', ''].includes(host) || host.startsWith('127.');
}
