// Whether traffic passed through a fault's proxy between two readings (ProxyTraffic, ports.ts).
// Connections that stayed open count by how much their bytes grew; one that closed counts (its
// close is traffic) and hands its bytes to the closed count, so only the closed count's growth
// beyond the bytes already seen on it is new; one that opened counts with all its bytes.

import type { ProxyTraffic } from '../ports.js';

/** Bytes that moved between `a` and `b` (≥ 0; at least 1 for any connection that opened or closed). */
export function trafficBetween(a: ProxyTraffic, b: ProxyTraffic): number {
  const before = a.open ?? {};
  const after = b.open ?? {};
  let moved = 0;
  let seenOnClosed = 0;
  for (const [peer, bytes] of Object.entries(after)) {
    const was = before[peer];
    moved += was === undefined ? Math.max(1, bytes) : Math.max(0, bytes - was);
  }
  for (const [peer, bytes] of Object.entries(before)) {
    if (after[peer] === undefined) {
      moved += 1;
      seenOnClosed += bytes;
    }
  }
  if (a.closedBytes !== undefined && b.closedBytes !== undefined) {
    moved += Math.max(0, b.closedBytes - a.closedBytes - seenOnClosed);
  }
  return moved;
}
