// One place that turns "which engine, against which target, with what pacing" into a LoadEngine,
// for `run`, `load`, `gameday` and `capacity` alike, so they cannot drift: integrity is verified
// exactly when the target's model is the mock LLM (MOCK_MODEL_ID), the per-chat timeout against
// the mock follows its known reply time (mockChatTimeoutMs), k6's log problems reach the caller.

import { basename, join } from 'node:path';
import type { Experiment } from '../core/config/experiment.js';
import type { Target } from '../core/config/target.js';
import type { LoadEngine, LoadPlan } from '../core/ports.js';
import type { SloSpec } from '../core/slo/spec.js';
import { K6LoadEngine } from '../engines/k6/engine.js';
import { NodeLoadEngine } from '../engines/node/engine.js';
import type { AuthSource, provisionCredentials } from '../engines/node/provisioning.js';
import { MOCK_MODEL_ID } from '../protocol/ground-truth.js';

export { MOCK_MODEL_ID };

type Credentials = Awaited<ReturnType<typeof provisionCredentials>>;

export interface PacingAsk {
  tokensPerSecond?: number;
  firstTokenMs?: number;
}

export interface EngineSpec {
  engine: 'node' | 'k6';
  target: Pick<Target, 'model'>;
  /** Credentials already provisioned (run's preflight), or how the engine gets them itself. */
  access: { credentials: Credentials } | { auth: AuthSource };
  /** Integrity check; default: on when the target's model is the mock LLM. */
  verify?: boolean;
  pacing?: PacingAsk;
  /** Longest reply asked for and longest silence before the first token (for the mock timeout). */
  reply: { tokens: number; firstTokenMs?: number };
  workers?: number | undefined;
  k6Binary?: string | undefined;
  /** Run directory: k6 writes its bundle, config and output below `<runDir>/k6`. */
  runDir: string;
  slos?: readonly SloSpec[];
  onNotice?: (text: string) => void;
}

/** Whether answers of this target can be checked against the mock LLM's ground truth. */
export function verifiesIntegrity(target: Pick<Target, 'model'>): boolean {
  return target.model === MOCK_MODEL_ID;
}

export function createLoadEngine(spec: EngineSpec): LoadEngine {
  const verify = spec.verify ?? verifiesIntegrity(spec.target);
  const pacing = spec.pacing;
  const pacingOpt =
    pacing && (pacing.tokensPerSecond !== undefined || pacing.firstTokenMs !== undefined)
      ? {
          pacing: {
            ...(pacing.tokensPerSecond !== undefined ? { tokensPerSecond: pacing.tokensPerSecond } : {}),
            ...(pacing.firstTokenMs !== undefined ? { firstTokenMs: pacing.firstTokenMs } : {}),
          },
        }
      : {};
  if (spec.engine === 'k6') {
    return new K6LoadEngine({
      ...spec.access,
      verify,
      ...(spec.slos ? { slos: spec.slos } : {}),
      workDir: join(spec.runDir, 'k6'),
      testId: basename(spec.runDir),
      // Script errors and our scenarios' "missing module" warnings must not vanish when k6 exits 0.
      onLogProblem: (p) =>
        spec.onNotice?.(`k6 ${p.level}: ${p.message} (all output: ${join(spec.runDir, 'k6', 'k6.log')})`),
      ...(spec.k6Binary ? { binary: spec.k6Binary } : {}),
      ...pacingOpt,
    });
  }
  const streamTimeoutMs = verifiesIntegrity(spec.target)
    ? mockChatTimeoutMs(spec.reply, pacing?.tokensPerSecond)
    : undefined;
  return new NodeLoadEngine({
    ...spec.access,
    verify,
    ...pacingOpt,
    ...(spec.workers !== undefined ? { workers: spec.workers } : {}),
    ...(streamTimeoutMs !== undefined ? { streamTimeoutMs } : {}),
  });
}

/** The engine of an experiment (its `load` section decides engine, pacing and reply size). */
export function engineFor(
  experiment: Experiment,
  target: Target,
  credentials: Credentials,
  opts: {
    workers?: number | undefined;
    k6Binary?: string | undefined;
    runDir: string;
    onNotice?: (text: string) => void;
  },
): LoadEngine {
  const load = experiment.load;
  const tokensPerSecond = load.chat?.tokensPerSecond ?? load.sockets?.tokensPerSecond;
  const firstTokenMs = load.chat?.firstTokenDelay ?? load.sockets?.firstTokenDelay;
  return createLoadEngine({
    engine: load.engine,
    target,
    access: { credentials },
    pacing: {
      ...(tokensPerSecond !== undefined ? { tokensPerSecond } : {}),
      ...(firstTokenMs !== undefined ? { firstTokenMs } : {}),
    },
    reply: replyOf(load),
    slos: experiment.slos,
    workers: opts.workers,
    k6Binary: opts.k6Binary,
    runDir: opts.runDir,
    ...(opts.onNotice ? { onNotice: opts.onNotice } : {}),
  });
}

/** Longest reply and longest first-token silence an experiment's load asks of the model. */
export function replyOf(load: Experiment['load']): { tokens: number; firstTokenMs: number } {
  return {
    tokens: Math.max(load.chat?.tokens ?? 0, load.sockets?.tokens ?? 0),
    firstTokenMs: Math.max(load.chat?.firstTokenDelay ?? 0, load.sockets?.firstTokenDelay ?? 0),
  };
}

/** Longest reply a load plan asks for (`load` has no first-token delay). */
export function replyOfPlan(plan: LoadPlan, firstTokenMs = 0): { tokens: number; firstTokenMs: number } {
  return { tokens: Math.max(plan.chat?.tokens ?? 0, plan.sockets?.tokens ?? 0), firstTokenMs };
}

/** The mock LLM's pacing when a prompt does not ask for one (src/lab/mock-llm/pacing.ts). */
export const MOCK_DEFAULT_TOKENS_PER_SECOND = 50;

/**
 * Per-chat timeout against the mock LLM. A socket chat whose `done` was lost (failover, killed
 * replica) is only noticed when it times out, and its `ws_missed_done` sample is stamped then. With
 * the engine's 120 s default that is after the end of most runs: the loss was counted at the very
 * end (as a chat cancelled by the deadline), outside the fault window its SLO looks at, and the
 * browser client sat idle for the rest of the run. The mock's reply time is known (tokens at
 * tokens/s), so allow 3× it + 10 s, at least 15 s: enough for the latency and slicer toxics of the
 * built-in experiments, short enough that a loss early in a 20 s window is counted inside it.
 * Against a real model the reply time is unknown and the default stays.
 */
export function mockChatTimeoutMs(
  reply: { tokens: number; firstTokenMs?: number },
  tokensPerSecond: number | undefined,
): number {
  // One pacing is asked of the mock for every chat (see createLoadEngine).
  const tps = tokensPerSecond ?? MOCK_DEFAULT_TOKENS_PER_SECOND;
  const silence = reply.firstTokenMs ?? 0;
  const longest = silence + (1000 * reply.tokens) / tps;
  return Math.min(Math.max(120_000, silence + 60_000), Math.max(15_000, Math.round(3 * longest + 10_000)));
}
