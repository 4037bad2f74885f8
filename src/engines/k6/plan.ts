// How a LoadPlan (core's port) becomes the ScenarioConfig a k6 bundle reads, and which bundle runs it.

import type { LoadPlan } from '../../core/ports.js';
import type { K6Thresholds, ScenarioConfig } from './scenario-config.js';

export interface ScenarioConfigOptions {
  version: string;
  chatPath?: string;
  verify?: boolean;
  pacing?: ScenarioConfig['pacing'];
  sse?: 'plain' | 'xk6';
  thresholds?: K6Thresholds;
  /** Per-stream and per-chat timeout. Default 120 s. */
  streamTimeoutMs?: number;
  /** How long k6 waits for in-flight iterations after the duration. Default 30 s. */
  gracefulStopMs?: number;
}

export function scenarioConfigFromPlan(plan: LoadPlan, opts: ScenarioConfigOptions): ScenarioConfig {
  const timeoutMs = opts.streamTimeoutMs ?? 120_000;
  const config: ScenarioConfig = {
    baseUrl: plan.baseUrl.replace(/\/+$/, ''),
    chatPath: opts.chatPath ?? '/api/chat/completions',
    model: plan.model,
    version: opts.version,
    durationMs: plan.durationMs,
    verify: opts.verify ?? true,
    sse: opts.sse ?? 'plain',
    gracefulStopMs: opts.gracefulStopMs ?? 30_000,
  };
  if (opts.pacing) config.pacing = opts.pacing;
  if (opts.thresholds) config.thresholds = opts.thresholds;
  if (plan.chat) {
    const chat: NonNullable<ScenarioConfig['chat']> = { tokens: plan.chat.tokens, timeoutMs };
    if (plan.chat.ratePerSecond !== undefined) {
      chat.ratePerSecond = plan.chat.ratePerSecond;
      if (plan.chat.maxInFlight !== undefined) chat.maxInFlight = plan.chat.maxInFlight;
    } else {
      chat.vus = plan.chat.vus ?? 1;
      if (plan.chat.thinkTimeMs !== undefined) chat.thinkTimeMs = plan.chat.thinkTimeMs;
    }
    config.chat = chat;
  }
  if (plan.sockets && plan.sockets.vus > 0) {
    const sockets: NonNullable<ScenarioConfig['sockets']> = {
      vus: plan.sockets.vus,
      tokens: plan.sockets.tokens,
      timeoutMs,
    };
    if (plan.sockets.chatIntervalMs !== undefined) sockets.chatIntervalMs = plan.sockets.chatIntervalMs;
    if (plan.sockets.origin !== undefined) sockets.origin = plan.sockets.origin;
    if (plan.sockets.eventGraceMs !== undefined) sockets.eventGraceMs = plan.sockets.eventGraceMs;
    config.sockets = sockets;
  }
  return config;
}

/** Which bundle runs a plan: both client kinds → mixed. */
export function scenarioFor(
  config: Pick<ScenarioConfig, 'chat' | 'sockets'>,
): 'chat-sse' | 'chat-socket' | 'mixed' {
  if (config.chat && config.sockets) return 'mixed';
  return config.sockets ? 'chat-socket' : 'chat-sse';
}
