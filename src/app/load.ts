// The `owui-chaos load` use case: load only (no faults) against a target, with the same target
// resolution, engine wiring and run directory as `run` (src/app/target-ref.ts, engine-factory.ts,
// run-dir.ts), then the same SLO gate as a run over the whole load. Nothing here prints: the
// command renders the returned summary; notices go to `onNotice`.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultSlosFile } from '../cli/paths.js';
import { systemClock, type Clock } from '../core/clock.js';
import { defaultsForClients, loadSloDefaults } from '../core/config/slo-defaults.js';
import { ExitCode, UsageError } from '../core/errors.js';
import type { LoadPlan, LoadProgress } from '../core/ports.js';
import { evaluateRun } from '../core/report/evaluate.js';
import type { SloSpec } from '../core/slo/spec.js';
import { summarizeSampleFiles, type MetricSummary } from '../core/report/metric-summary.js';
import { applyOutcome, type RunResults } from '../core/report/results.js';
import { writeReports, type ReportPaths } from '../core/report/write.js';
import { loadSloFile } from '../core/slo/load.js';
import { detectK6 } from '../engines/k6/engine.js';
import { markNotMeasured } from '../engines/k6/measurable.js';
import { hasXk6Sse } from '../engines/k6/version.js';
import { NodeLoadEngine, type LoadTotals } from '../engines/node/engine.js';
import { NdjsonFileSink } from '../engines/node/ndjson-file-sink.js';
import { authSourceFromTarget } from '../engines/node/provisioning.js';
import { siteOrigin } from '../protocol/browser-session.js';
import { createLoadEngine, replyOfPlan } from './engine-factory.js';
import { newRunId, runDirFor } from './run-dir.js';
import { resolveTargetRef } from './target-ref.js';

export interface LoadRequest {
  /** `lab` or a target file. */
  target: string;
  labName?: string;
  durationMs: number;
  chat?: { vus: number; thinkTimeMs: number } | { ratePerSecond: number; maxInFlight?: number };
  sockets?: { vus: number; chatIntervalMs: number };
  tokens: number;
  tokensPerSecond?: number;
  /** Integrity check; default: on when the target's model is the mock LLM. */
  verify?: boolean;
  engine: 'node' | 'k6';
  workers?: number;
  k6Binary?: string;
  outDir?: string;
  /** An SLO file judged on top of the defaults. */
  sloFile?: string;
  noDefaultSlos?: boolean;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  onNotice?: (text: string) => void;
  /** The sample file's sink, e.g. tapped for `--prometheus`. */
  sampleSink?: (path: string) => NdjsonFileSink;
}

export interface LoadSummary {
  verdict: string;
  exitCode: number;
  headline: string;
  slos: Array<{ id: string; phase: string; verdict: string; measured: number | null; objective: string }>;
  reports: ReportPaths;
  target: string;
  runDir: string;
  samplesFile: string;
  plan: LoadPlan;
  totals: LoadTotals | undefined;
  interrupted: boolean;
  metrics: MetricSummary[];
  /** `file:line` of sample lines that were not JSON (skipped in the table). */
  malformedSamples: string[];
  results: RunResults;
}

export function loadPlanOf(req: LoadRequest, baseUrl: string, model: string, origin?: string): LoadPlan {
  if (req.chat === undefined && req.sockets === undefined) {
    throw new UsageError('nothing to run: give --chat-vus N, --chat-rate R/s and/or --socket-vus N', {
      code: 'NO_LOAD',
      suggestions: ['owui-chaos load --chat-vus 10 --socket-vus 20 --duration 30s'],
    });
  }
  const plan: LoadPlan = { durationMs: req.durationMs, baseUrl, model };
  if (req.chat !== undefined) {
    plan.chat =
      'vus' in req.chat
        ? { vus: req.chat.vus, thinkTimeMs: req.chat.thinkTimeMs, tokens: req.tokens }
        : {
            ratePerSecond: req.chat.ratePerSecond,
            ...(req.chat.maxInFlight !== undefined ? { maxInFlight: req.chat.maxInFlight } : {}),
            tokens: req.tokens,
          };
  }
  if (req.sockets !== undefined) {
    plan.sockets = {
      vus: req.sockets.vus,
      tokens: req.tokens,
      chatIntervalMs: req.sockets.chatIntervalMs,
      ...(origin !== undefined ? { origin } : {}),
    };
  }
  return plan;
}

export async function runLoad(req: LoadRequest): Promise<LoadSummary> {
  const env = req.env ?? process.env;
  const clock = req.clock ?? systemClock;
  const notice = req.onNotice ?? (() => undefined);
  // Usage first: nothing is read or started for a request that cannot run.
  loadPlanOf(req, 'http://127.0.0.1', 'x');

  const { target } = await resolveTargetRef(req.target, {
    ...(req.labName !== undefined ? { labName: req.labName } : {}),
    env,
  });
  const plan = loadPlanOf(
    req,
    target.openwebui.url,
    target.model,
    siteOrigin(target.openwebui.url, target.openwebui.origin),
  );
  const runDir = runDirFor(newRunId(clock, 'load'), req.outDir, env);
  const samplesFile = join(runDir, 'samples.ndjson');
  const k6 = req.engine === 'k6' ? await detectK6(req.k6Binary ?? 'k6') : undefined;
  const needUsers = Math.max(req.sockets?.vus ?? 0, req.chat && 'vus' in req.chat ? req.chat.vus : 0, 1);
  const engine = createLoadEngine({
    engine: req.engine,
    target,
    access: { auth: authSourceFromTarget(target.auth, needUsers, target.openwebui.version) },
    ...(req.verify !== undefined ? { verify: req.verify } : {}),
    ...(req.tokensPerSecond !== undefined ? { pacing: { tokensPerSecond: req.tokensPerSecond } } : {}),
    reply: replyOfPlan(plan),
    workers: req.workers,
    k6Binary: req.k6Binary,
    runDir,
    onNotice: notice,
  });

  mkdirSync(runDir, { recursive: true });
  const sink = req.sampleSink ? req.sampleSink(samplesFile) : new NdjsonFileSink(samplesFile);
  notice(
    `load: ${describePlan(plan)} against ${target.openwebui.url} (${target.name}); samples → ${samplesFile}`,
  );
  try {
    await engine.run(plan, sink, {
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.onProgress ? { onProgress: req.onProgress } : {}),
    });
  } finally {
    sink.close();
  }
  const interrupted = req.signal?.aborted === true;
  const { metrics, malformed } = await summarizeSampleFiles([samplesFile]);

  // Load gates like a run (and like k6 thresholds): the SLOs are judged over the whole run.
  const clients = { api: plan.chat !== undefined, browser: plan.sockets !== undefined };
  const defaults =
    req.noDefaultSlos || !existsSync(defaultSlosFile())
      ? []
      : defaultsForClients(await loadSloDefaults(defaultSlosFile(), env), clients);
  const own = req.sloFile ? await loadSloFile(req.sloFile) : [];
  // What this k6 cannot measure is reported as such, not judged as "no data" (docs/k6.md).
  const measurable = (list: SloSpec[]): SloSpec[] =>
    k6 ? markNotMeasured(list, { sse: hasXk6Sse(k6) ? 'xk6' : 'plain', clients }) : list;
  const results = applyOutcome(
    await evaluateRun({
      sampleFiles: [samplesFile],
      journal: null,
      slos: measurable(own),
      defaultSlos: measurable(defaults),
    }),
    interrupted
      ? [
          {
            reason: 'interrupted',
            code: 'INTERRUPTED',
            message: 'The load was interrupted before its duration',
            suggestions: [],
          },
        ]
      : [],
  );
  const reports = await writeReports(results, runDir);
  return {
    verdict: results.verdict,
    exitCode: interrupted ? ExitCode.interrupted : results.exitCode,
    headline: results.headline,
    slos: results.slos.map((x) => ({
      id: x.id,
      phase: x.phase,
      verdict: x.verdict,
      measured: x.measured,
      objective: x.objectiveText,
    })),
    reports,
    target: target.name,
    runDir,
    samplesFile,
    plan,
    totals: engine instanceof NodeLoadEngine ? engine.lastTotals : undefined,
    interrupted,
    metrics,
    malformedSamples: malformed,
    results,
  };
}

export function describePlan(plan: LoadPlan): string {
  const parts: string[] = [];
  if (plan.chat?.vus !== undefined) parts.push(`${plan.chat.vus} chat VUs`);
  if (plan.chat?.ratePerSecond !== undefined) parts.push(`${plan.chat.ratePerSecond} chats/s`);
  if (plan.sockets)
    parts.push(
      `${plan.sockets.vus} browser clients${(plan.sockets.chatIntervalMs ?? 1) <= 0 ? ' (idle)' : ''}`,
    );
  return `${parts.join(' + ')} for ${Math.round(plan.durationMs / 1000)} s`;
}
