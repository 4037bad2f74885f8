// k6 `options` from a ScenarioConfig: one k6 scenario per client kind, with the executors that
// match the plan's workload model (DESIGN §5).
//
// - API chats, closed model (`chat.vus`): `constant-vus`, each VU chats, then thinks.
// - API chats, open model (`chat.ratePerSecond`): `constant-arrival-rate` (k6 starts iterations on
//   schedule whatever the replies do; arrivals it cannot start count as k6 `dropped_iterations`,
//   which K6LoadEngine turns into `missed_starts`). `maxInFlight` caps the VU pool.
// - Browser clients: `per-vu-iterations` with one iteration per VU that lives for the whole
//   duration (one socket per VU, reconnecting like the web UI).

import type { Options, Scenario } from 'k6/options';
import type { ScenarioConfig } from './config.js';

export function buildOptions(config: ScenarioConfig, want: { api: boolean; browser: boolean }): Options {
  const scenarios: Record<string, Scenario> = {};
  const duration = `${Math.max(1, Math.round(config.durationMs / 1000))}s`;
  const gracefulStop = `${Math.ceil(config.gracefulStopMs / 1000)}s`;
  const chat = config.chat;
  if (want.api && chat) {
    if (chat.ratePerSecond !== undefined) {
      // k6 wants an integer rate per time unit: per-minute keeps fractional arrival rates exact enough.
      const perMinute = Math.max(1, Math.round(chat.ratePerSecond * 60));
      const cap = chat.maxInFlight ?? Math.max(1, Math.ceil(chat.ratePerSecond * 10));
      scenarios['api'] = {
        executor: 'constant-arrival-rate',
        rate: perMinute,
        timeUnit: '1m',
        duration,
        preAllocatedVUs: Math.min(cap, Math.max(1, Math.ceil(chat.ratePerSecond * 2))),
        maxVUs: cap,
        gracefulStop,
        exec: 'apiChat',
        tags: { client: 'api' },
      };
    } else {
      scenarios['api'] = {
        executor: 'constant-vus',
        vus: chat.vus ?? 1,
        duration,
        gracefulStop,
        exec: 'apiChat',
        tags: { client: 'api' },
      };
    }
  }
  if (want.browser && config.sockets) {
    scenarios['browser'] = {
      executor: 'per-vu-iterations',
      vus: config.sockets.vus,
      iterations: 1,
      maxDuration: `${Math.ceil((config.durationMs + config.gracefulStopMs) / 1000)}s`,
      exec: 'browserClient',
      tags: { client: 'browser' },
    };
  }
  const options: Options = {
    scenarios,
    // The summary's own percentiles are a convenience; owui-chaos reports from the JSON samples.
    summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
    // Open WebUI answers 4xx/5xx during faults; they are measured, not script errors.
    discardResponseBodies: false,
  };
  if (config.thresholds && Object.keys(config.thresholds).length > 0) options.thresholds = config.thresholds;
  return options;
}
