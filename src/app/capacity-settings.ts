// Resolving a capacity request (docs/capacity.md) into the settings of its sweeps: the client mix,
// the SLOs, each step's timing, the sweep's bounds and the replica counts to sweep — defaults
// filled in, and a usage error (what, which flag, how to fix) for every inconsistent request.
// Reads the SLO file; touches no target.

import { join, resolve } from 'node:path';
import { defaultSlosFile } from '../cli/paths.js';
import { inUsers as countsUsers, type CapacityWorkload } from '../core/capacity/offer.js';
import { sweepTargets, type StepTiming, type SweepTarget } from '../core/capacity/plan.js';
import type { LoadUnit } from '../core/capacity/result.js';
import { DEFAULT_SWEEP, type SweepConfig } from '../core/capacity/sweep.js';
import { loadSloDefaults } from '../core/config/slo-defaults.js';
import { LAB_TARGET } from '../core/config/target.js';
import { UsageError } from '../core/errors.js';
import { loadSloFile } from '../core/slo/load.js';
import type { SloSpec } from '../core/slo/spec.js';
import { defaultLabStateDir } from '../infra/lab-state.js';
import type { CapacityRequest } from './capacity.js';

/** SLOs a capacity sweep judges by default: those of experiments/slos/default.yaml that scale with load. */
const CAPACITY_METRICS = new Set(['ttft', 'e2e', 'tpot', 'itl', 'stream_outcome', 'garbled_token_rate']);

export interface CapacitySettings {
  workload: CapacityWorkload;
  /** Browser and mixed sweeps count users, API sweeps chats per second. */
  inUsers: boolean;
  unit: LoadUnit;
  isLab: boolean;
  labName: string;
  labStateDir: string;
  /** The run id, and the output directory (not created here). */
  id: string;
  outDir: string;
  /** Each judged over the step window (`phases: ['all']`). */
  slos: SloSpec[];
  timing: StepTiming;
  tokens: number;
  maxDurationMs: number;
  /** The first sweep's search settings (later sweeps start near the knee the previous predicts). */
  baseConfig: SweepConfig;
  /** Generator lag p99 above which a step is invalid. */
  maxLagMs: number;
  /** Arrivals each measurement window must hold at least (the window grows at low loads). */
  minSamples: number;
  targets: SweepTarget[];
}

export async function resolveCapacitySettings(
  req: CapacityRequest,
  env: NodeJS.ProcessEnv,
  began: number,
): Promise<CapacitySettings> {
  const client = req.client ?? 'api';
  const inUsers = countsUsers({ client });
  const unit: LoadUnit = inUsers ? 'users' : 'chats/s';
  const chatEveryMs = req.chatEveryMs ?? 30_000;
  const browserShare = client === 'browser' ? 1 : client === 'mixed' ? (req.browserShare ?? 0.5) : 0;
  const browserSchedule = req.browserSchedule ?? 'open';
  if (inUsers && !(chatEveryMs >= 100)) {
    throw new UsageError(`--chat-every ${chatEveryMs} ms is too short for a user's chat interval`, {
      code: 'CAPACITY_BAD_CHAT_INTERVAL',
      suggestions: ['--chat-every 10s'],
    });
  }
  if (client === 'mixed' && !(browserShare > 0 && browserShare < 1)) {
    throw new UsageError(`--mix ${Math.round(browserShare * 100)} % must lie strictly between 0 and 100 %`, {
      code: 'CAPACITY_BAD_MIX',
      suggestions: ['--client mixed --mix 50%', '--client browser', '--client api'],
    });
  }
  const isLab = (req.target ?? LAB_TARGET) === LAB_TARGET;
  if (!isLab && !req.scaleCmd && req.replicas.length > 1) {
    throw new UsageError(
      `--replicas ${req.replicas.join(',')} on a real target needs --scale-cmd to change the replica count; without one only the current count is measured`,
      {
        code: 'CAPACITY_SCALE_CMD_MISSING',
        suggestions: [
          `owui-chaos capacity --target ${req.target} --replicas ${req.replicas.join(',')} --scale-cmd 'docker compose up -d --scale open-webui={n}'`,
          `owui-chaos capacity --target ${req.target} --replicas ${req.replicas[req.replicas.length - 1]}`,
        ],
      },
    );
  }
  if (!isLab && req.scaleCmd && !req.scaleCmd.includes('{n}')) {
    throw new UsageError(`--scale-cmd "${req.scaleCmd}" has no {n} for the replica count`, {
      code: 'CAPACITY_BAD_SCALE_CMD',
      suggestions: [`--scale-cmd 'docker compose up -d --scale open-webui={n}'`],
    });
  }
  const labName = req.labName ?? 'default';
  const labStateDir = defaultLabStateDir(labName, env);
  const id = `${new Date(began).toISOString().replace(/[:.]/g, '-')}-capacity`;
  const outDir = resolve(req.outDir ?? join(env.OWUI_CHAOS_HOME ?? '.owui-chaos', 'runs', id));

  // --- SLOs ------------------------------------------------------------------------------------
  const slos = (
    req.slosFile
      ? await loadSloFile(req.slosFile)
      : (await loadSloDefaults(defaultSlosFile(), env)).filter(
          (s) =>
            CAPACITY_METRICS.has(s.metric) &&
            // A default SLO of a client kind the sweep does not load with would never have data.
            (s.client === undefined ||
              client === 'mixed' ||
              (s.client === 'api' ? client === 'api' : client === 'browser')),
        )
  ).map((s): SloSpec => ({ ...s, phases: ['all'] }));
  if (slos.length === 0) {
    throw new UsageError(`No SLO to sweep against${req.slosFile ? ` in ${req.slosFile}` : ''}`, {
      code: 'CAPACITY_NO_SLOS',
      suggestions: ['List SLOs such as `- { metric: ttft, stat: p95, lte: 2000 }` in the --slos file'],
    });
  }
  const latencyObjectives = slos
    .filter((s) => (s.metric === 'ttft' || s.metric === 'e2e') && s.lte !== undefined)
    .map((s) => s.lte!);
  const timing: StepTiming = {
    warmupMs: req.timing?.warmupMs ?? 10_000,
    measureMs: req.timing?.measureMs ?? 30_000,
    // The tail lets every window arrival be measured up to the largest latency objective.
    tailMs: req.timing?.tailMs ?? Math.min(60_000, Math.max(1000, ...latencyObjectives.map((v) => v + 500))),
  };
  if (latencyObjectives.some((o) => o > timing.tailMs)) {
    throw new UsageError(
      `The step tail (${timing.tailMs} ms) is shorter than a latency objective (${Math.max(...latencyObjectives)} ms)`,
      {
        code: 'CAPACITY_TAIL_TOO_SHORT',
        suggestions: ['Leave the tail at its default, or make it longer than every ttft/e2e objective'],
      },
    );
  }
  const tokens = req.tokens ?? 50;
  const maxDurationMs = req.maxDurationMs ?? 15 * 60_000;
  const baseConfig: SweepConfig = inUsers
    ? {
        ...DEFAULT_SWEEP,
        minLoad: 1,
        startLoad: req.startUsers ?? Math.max(1, Math.round((req.startRate ?? 1) * (chatEveryMs / 1000))),
        maxLoad: req.maxUsers ?? 200,
        integer: true,
        ...(req.resolution !== undefined ? { resolution: req.resolution } : {}),
      }
    : {
        ...DEFAULT_SWEEP,
        startLoad: req.startRate ?? 1,
        maxLoad: req.maxRate ?? 200,
        ...(req.resolution !== undefined ? { resolution: req.resolution } : {}),
      };
  const maxLagMs = req.maxLagMs ?? 100;
  const minSamples = req.minSamples ?? 30;

  // --- target ----------------------------------------------------------------------------------
  const targets = sweepTargets(req.replicas, req.minusOne === true).filter(
    (t) => t.minusOne || !(req.minusOne === true && req.onlyMinusOne === true),
  );
  if (targets.length === 0) {
    throw new UsageError(`Nothing to sweep: no replica count in ${req.replicas.join(',')} can lose one`, {
      code: 'CAPACITY_BAD_REPLICAS',
      suggestions: ['--replicas 2,3 --minus-one'],
    });
  }
  return {
    workload: { client, chatEveryMs, browserShare, browserSchedule },
    inUsers,
    unit,
    isLab,
    labName,
    labStateDir,
    id,
    outDir,
    slos,
    timing,
    tokens,
    maxDurationMs,
    baseConfig,
    maxLagMs,
    minSamples,
    targets,
  };
}
