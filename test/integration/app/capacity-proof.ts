// The lab both capacity proofs measure (docs/capacity.md "Why the proof's lab has no queue" and
// "Browser users"): a loss model whose knee is computable, and the range a right knee lies in.
import { rmSync } from 'node:fs';
import { expect } from 'vitest';
import { readLabState } from '../../../src/infra/lab-state.js';
import { isAlive } from '../../../src/infra/process/daemon.js';
import { labDown } from '../../../src/lab/lab.js';
import type { CapacityModel } from '../../../src/lab/owui-sim/capacity.js';

/** 24 slots per replica, 400 ms per token, no queue: 5-token chats hold a slot S = 2 s. */
export const PROOF_MODEL: CapacityModel = {
  maxStreams: 24,
  queueLimit: 0,
  tokenCostMs: 400,
  requestCostMs: 0,
  noQueue: true,
};
export const PROOF_TOKENS = 5;
/** The completion SLO g. */
export const PROOF_COMPLETION = 0.98;
/** The sweep's resolution r. */
export const PROOF_RESOLUTION = 0.1;
/** j: a stall of 100 ms in the 2 s service time. */
export const STALL_ALLOWANCE = 0.05;

/**
 * Where a right sweep's knee must lie around the computed knee k (in the sweep's unit):
 * at most k / g (above it the refused share 1 − 1/ρ exceeds 1 − g), at least k · (1 − j) / (1 + r)
 * (below ρ = 1 − j no arrival is refused but for a stall, and bisection stops within r).
 */
export function proofRange(k: number): [number, number] {
  return [(k * (1 - STALL_ALLOWANCE)) / (1 + PROOF_RESOLUTION), k / PROOF_COMPLETION];
}

/**
 * The sweep settings of both proofs: 50 arrivals per window at least (one refusal from a stall is
 * 2 %, still within the SLO); a lag limit of 300 ms, since CPU starvation alone (load ~25–30 on
 * 2 cores) delays this process's event loop by 100–270 ms at p99 (the tool's default is 100 ms).
 */
export const PROOF_SWEEP = { resolution: PROOF_RESOLUTION, minSamples: 50, maxLagMs: 300 };

/** Stops the proof's lab, checks that none of its replicas outlived it, and removes `home`. */
export async function endProofLab(stateDir: string, home: string): Promise<void> {
  const state = readLabState(stateDir);
  await labDown(stateDir);
  for (const r of state?.replicas ?? []) if (r.pid !== undefined) expect(isAlive(r.pid)).toBe(false);
  rmSync(home, { recursive: true, force: true });
}
