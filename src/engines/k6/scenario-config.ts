// The configuration a k6 scenario bundle reads from `OWUI_CONFIG` (scenarios/lib/config.ts).
// Shared by the engine (writes it, plan.ts) and the scenarios (read it), so both sides agree by
// type. No imports: scenarios/tsconfig.json (k6 types only) checks this file too. Secrets (tokens,
// passwords) are never part of it: they travel in separate env vars (scenarios/lib/config.ts), so
// a printed or exported config leaks nothing.

export interface ScenarioConfig {
  baseUrl: string;
  /** `/api/chat/completions` through Open WebUI; `/v1/chat/completions` for the mock LLM directly. */
  chatPath: string;
  model: string;
  /** Open WebUI version (picks the socket event name, payload shape, task reply). */
  version: string;
  durationMs: number;
  /** Check integrity against the mock LLM's ground truth; false against a real model. */
  verify: boolean;
  pacing?: {
    firstTokenMs?: number;
    tokensPerSecond?: number;
    jitter?: number;
    write?: 'event' | 'batch' | 'split';
  };
  chat?: {
    vus?: number;
    thinkTimeMs?: number;
    ratePerSecond?: number;
    maxInFlight?: number;
    tokens: number;
    timeoutMs: number;
  };
  sockets?: {
    vus: number;
    /** undefined: back-to-back chats; > 0: one chat start per interval; ≤ 0: idle clients. */
    chatIntervalMs?: number;
    tokens: number;
    timeoutMs: number;
    /** `Origin` header of the socket handshake; default: the origin of `baseUrl`. */
    origin?: string;
    /** A chat without any event this long after its accepted POST is lost (default 10 s). */
    eventGraceMs?: number;
  };
  /** `plain`: core k6 reads bodies whole (ttfb, e2e, integrity); `xk6`: the xk6-sse extension times events. */
  sse: 'plain' | 'xk6';
  /** k6 thresholds generated from the experiment's SLOs. */
  thresholds?: K6Thresholds;
  /** Time k6 waits for in-flight iterations after the duration, in ms. */
  gracefulStopMs: number;
  /** Bench only: timer-drift probe in the first `vus` browser-client VUs (scenarios/lib/loop-lag.ts). */
  loopLagProbe?: { everyMs: number; vus: number };
}

/** k6's `options.thresholds`: an expression, or one that stops the test when crossed. */
export type K6Threshold = string | { threshold: string; abortOnFail: boolean; delayAbortEval?: string };
export type K6Thresholds = Record<string, K6Threshold[]>;
