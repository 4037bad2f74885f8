// The experiment file (DESIGN §6): title, target, load, SLOs, a timeline of faults, rollbacks and
// settings. The zod schema is the single source of truth; the parsed model has every duration in
// milliseconds and every default filled in. Contract: `loadExperiment` returns a model that has
// passed the schema AND the cross-field checks (references, time windows, concurrency), or throws
// one ValidationError (exit 3) listing every problem with file, line and column.

import path from 'node:path';
import { z } from 'zod';
import { OwuiChaosError, ValidationError } from '../errors.js';
import { SloSpecSchema, type SloSpec } from '../slo/spec.js';
import {
  loadDocument,
  parseDocumentText,
  type DocumentOptions,
  type Env,
  type Finding,
  type LoadedDocument,
} from './document.js';
import { DurationSchema, PositiveDurationSchema, RateSchema } from './duration.js';
import { ONE_WEEK_MS } from './limits.js';
import {
  FAULT_FACTS,
  TimelineEntrySchema,
  faultWindow,
  formatMs,
  replicasTaken,
  type TimelineEntry,
} from './faults.js';
import type { ConfigIssue } from './issues.js';
import { experimentOverrides, type ExperimentFlags } from './precedence.js';
import { RESERVED_PHASES, defaultsForClients, mergeSlos } from './slo-defaults.js';
import { closest } from './suggest.js';
import { LAB_TARGET, type LoadedTarget, type Target } from './target.js';

export { TimelineEntrySchema, type TimelineEntry } from './faults.js';

const tokens = z
  .number()
  .int()
  .min(1)
  .max(100_000)
  .default(120)
  .describe('tokens per reply (an integer ≥ 1)');
const tokensPerSecond = z
  .number()
  .positive()
  .optional()
  .describe('mock LLM pacing in tokens per second (a number > 0)');

const firstTokenDelay = DurationSchema.optional().describe(
  'mock LLM pacing: silence before the first token, e.g. `75s` (longer than a proxy read timeout)',
);

/** Defaults every command shares (`load` flags, `k6 export` flags, experiment files). */
export const LOAD_DEFAULTS = { thinkTimeMs: 1000, chatIntervalMs: 5000, eventGraceMs: 10_000 } as const;

const ChatLoadSchema = z
  .strictObject({
    /** Closed model: virtual users, each waiting `thinkTime` between chats. */
    vus: z.number().int().min(1).optional(),
    thinkTime: DurationSchema.optional(),
    /** Open model: arrivals per time unit, latency measured from the intended start. */
    rate: RateSchema.optional(),
    maxInFlight: z.number().int().min(1).optional(),
    tokens,
    tokensPerSecond,
    firstTokenDelay,
  })
  .superRefine((chat, ctx) => {
    if ((chat.vus === undefined) === (chat.rate === undefined)) {
      ctx.addIssue({
        code: 'custom',
        params: { code: 'CONFLICT' },
        message:
          'give `vus: N` (closed model: N users with think time) or `rate: N/s` (open model: arrivals per second), not both',
      });
    }
    if (chat.vus !== undefined && chat.maxInFlight !== undefined) {
      ctx.addIssue({
        code: 'custom',
        params: { code: 'CONFLICT' },
        path: ['maxInFlight'],
        message: 'is only for the open model (`rate`); with `vus` the number of users caps concurrency',
      });
    }
    if (chat.rate !== undefined && chat.thinkTime !== undefined) {
      ctx.addIssue({
        code: 'custom',
        params: { code: 'CONFLICT' },
        path: ['thinkTime'],
        message:
          'is only for the closed model (`vus`); the open model starts chats at `rate` whatever the replies do',
      });
    }
  })
  .transform((chat) => {
    const common = {
      tokens: chat.tokens,
      ...(chat.tokensPerSecond !== undefined ? { tokensPerSecond: chat.tokensPerSecond } : {}),
      ...(chat.firstTokenDelay !== undefined ? { firstTokenDelay: chat.firstTokenDelay } : {}),
    };
    return chat.rate !== undefined
      ? {
          model: 'open' as const,
          rate: chat.rate,
          ...(chat.maxInFlight !== undefined ? { maxInFlight: chat.maxInFlight } : {}),
          ...common,
        }
      : {
          model: 'closed' as const,
          vus: chat.vus ?? 1,
          thinkTime: chat.thinkTime ?? LOAD_DEFAULTS.thinkTimeMs,
          ...common,
        };
  });

const SocketLoadSchema = z.strictObject({
  vus: z.number().int().min(1).describe('browser clients (an integer ≥ 1)'),
  chatInterval: PositiveDurationSchema.default(LOAD_DEFAULTS.chatIntervalMs),
  tokens,
  tokensPerSecond,
  firstTokenDelay,
  /** A socket chat with no event this long after Open WebUI accepted it counts as lost at once. */
  eventGrace: PositiveDurationSchema.default(LOAD_DEFAULTS.eventGraceMs).describe(
    'how long a socket chat may wait for its first event before it counts as lost, e.g. `10s`',
  ),
  /** `Origin` the browser clients send; default: the target's `openwebui.origin`, else its URL's origin. */
  origin: z.string().url().optional(),
});

const LoadSchema = z
  .strictObject({
    engine: z.enum(['node', 'k6']).default('node'),
    duration: PositiveDurationSchema,
    chat: ChatLoadSchema.optional(),
    sockets: SocketLoadSchema.optional(),
  })
  .refine((load) => load.chat !== undefined || load.sockets !== undefined, {
    message: 'give `chat: { vus | rate, … }`, `sockets: { vus, … }` or both; without them there is no load',
  });

const SettingsSchema = z.strictObject({
  /** Stop the run (and revert) at the first SLO breach instead of finishing the timeline. */
  abortOnBreach: z.boolean().default(false),
  /** How long every SLO must hold again for the deployment to count as recovered. */
  recoveryWindow: PositiveDurationSchema.default(10_000),
  /** How long the baseline should last before the first fault. Advisory: a warning, not enforced (docs/faults.md). */
  steadyState: PositiveDurationSchema.default(10_000),
  /** `always`: revert every fault at the end; `never`: leave them for inspection (`owui-chaos rollback` reverts later). */
  rollbackStrategy: z.enum(['always', 'never']).default('always'),
  /** Apply experiments/slos/default.yaml underneath this file's SLOs. */
  defaultSlos: z.boolean().default(true),
});

export const ExperimentSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  /** `lab`, or a path to a target file relative to the experiment file. */
  target: z.string().min(1).default(LAB_TARGET).describe('`lab` or the path of a target file'),
  load: LoadSchema,
  slos: z.array(SloSpecSchema).default([]),
  timeline: z.array(TimelineEntrySchema).default([]),
  /** Explicit revert order; by default every fault is reverted in reverse order of injection. */
  rollbacks: z.array(z.strictObject({ revert: z.string().min(1) })).optional(),
  settings: SettingsSchema.prefault({}),
});

export type Experiment = z.output<typeof ExperimentSchema>;
export type ExperimentInput = z.input<typeof ExperimentSchema>;
export type LoadSpec = Experiment['load'];
export type ChatLoad = NonNullable<LoadSpec['chat']>;
export type SocketLoad = NonNullable<LoadSpec['sockets']>;
export type ExperimentSettings = Experiment['settings'];
export type Rollback = NonNullable<Experiment['rollbacks']>[number];

/** Where the experiment's target is: the lab, or a target file (absolute path). */
export type TargetRef = { kind: 'lab' } | { kind: 'file'; file: string };

export interface LoadedExperiment extends LoadedDocument {
  experiment: Experiment;
  targetRef: TargetRef;
  /** The target, when `resolveTarget` produced one (used for target-aware checks). */
  target?: LoadedTarget;
}

export interface LoadExperimentOptions {
  /** Environment for `${VAR}` / `{ env: VAR }` and for OWUI_CHAOS_* overrides (default process.env). */
  env?: Env;
  /** Command-line overrides (highest precedence). */
  flags?: ExperimentFlags;
  /** SLOs from experiments/slos/default.yaml, merged under the experiment's own. */
  defaultSlos?: readonly SloSpec[];
  /**
   * Loads the target so the experiment can be checked against it (sections present, destructive
   * faults allowed, `safety.maxUnavailable`). Return undefined to skip (e.g. the lab is not up).
   * A ValidationError it throws is merged into the experiment's error.
   */
  resolveTarget?: (ref: TargetRef) => Promise<LoadedTarget | undefined>;
  /** A load longer than a week is allowed (`--allow-long`); see src/core/config/limits.ts. */
  allowLong?: boolean;
}

/** Replicas that may be down at once when no target says otherwise (the target schema's default). */
export const DEFAULT_MAX_UNAVAILABLE = 1;

export async function loadExperiment(
  file: string,
  options: LoadExperimentOptions = {},
): Promise<LoadedExperiment> {
  const absolute = path.resolve(file);
  const state: { targetRef?: TargetRef; target?: LoadedTarget } = {};
  const loaded = await loadDocument(absolute, documentOptions(absolute, options, state));
  return finish(loaded, state);
}

/** Parses experiment YAML text (tests, tooling). `file` names it in messages and anchors a relative target. */
export async function parseExperiment(
  text: string,
  file: string,
  options: LoadExperimentOptions = {},
): Promise<LoadedExperiment> {
  const absolute = path.resolve(file);
  const state: { targetRef?: TargetRef; target?: LoadedTarget } = {};
  const loaded = await parseDocumentText(text, absolute, documentOptions(absolute, options, state));
  return finish(loaded, state);
}

function finish(
  loaded: LoadedDocument,
  state: { targetRef?: TargetRef; target?: LoadedTarget },
): LoadedExperiment {
  const experiment = loaded.value as Experiment;
  return {
    ...loaded,
    experiment,
    targetRef: state.targetRef ?? { kind: 'lab' },
    ...(state.target !== undefined ? { target: state.target } : {}),
  };
}

function documentOptions(
  file: string,
  options: LoadExperimentOptions,
  state: { targetRef?: TargetRef; target?: LoadedTarget },
): DocumentOptions {
  const env = options.env ?? process.env;
  const overrides = experimentOverrides(env, options.flags ?? {});
  const targetOverride = [...overrides].reverse().find((o) => o.path[0] === 'target');
  return {
    schema: ExperimentSchema,
    kind: 'experiment',
    env,
    overrides,
    check: async (value) => {
      const experiment = value as Experiment;
      // A target named on the command line or in the environment is relative to cwd; one
      // written in the experiment file is relative to that file.
      const ref = String(experiment.target);
      state.targetRef =
        ref === LAB_TARGET
          ? { kind: 'lab' }
          : { kind: 'file', file: path.resolve(targetOverride ? process.cwd() : path.dirname(file), ref) };
      const findings = checkExperiment(experiment, DEFAULT_MAX_UNAVAILABLE);
      if (experiment.load.duration > ONE_WEEK_MS && !options.allowLong) {
        findings.push({
          code: 'OUT_OF_RANGE',
          path: ['load', 'duration'],
          message: `\`load.duration\` is ${ms(experiment.load.duration)}, longer than a week; pass --allow-long if that is meant`,
        });
      }
      if (options.resolveTarget) {
        try {
          const target = await options.resolveTarget(state.targetRef);
          if (target !== undefined) {
            state.target = target;
            const max = target.target.safety.maxUnavailable;
            if (max !== DEFAULT_MAX_UNAVAILABLE) {
              // Re-run the concurrency check with the target's own limit.
              const others = findings.filter((f) => f.code !== 'TOO_MANY_UNAVAILABLE');
              findings.length = 0;
              findings.push(...others, ...checkConcurrency(experiment, max, 'the target'));
            }
            findings.push(...checkAgainstTarget(experiment, target.target));
          }
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          const issues: ConfigIssue[] = error.issues.length
            ? (error.issues as ConfigIssue[])
            : [{ code: 'UNKNOWN_REFERENCE', path: 'target', message: error.message }];
          // A missing target file is a problem of the experiment's `target` line; problems inside
          // the target file keep that file's own positions.
          findings.push(
            ...issues.map((issue) =>
              issue.code === 'FILE_NOT_FOUND' || issue.file === undefined
                ? { code: issue.code, path: ['target'], message: `\`target\`: ${issue.message}` }
                : { code: issue.code, path: ['target'], message: issue.message, issue },
            ),
          );
        }
      }
      if (experiment.settings.defaultSlos && options.defaultSlos) {
        experiment.slos = mergeSlos(
          defaultsForClients(options.defaultSlos, {
            api: experiment.load.chat !== undefined,
            browser: experiment.load.sockets !== undefined,
          }),
          experiment.slos,
        );
      }
      return findings;
    },
    warn: (value) => warnExperiment(value as Experiment),
  };
}

const ms = formatMs;

/** Cross-field checks that need only the experiment (see the module comment). */
export function checkExperiment(experiment: Experiment, maxUnavailable = DEFAULT_MAX_UNAVAILABLE): Finding[] {
  const findings: Finding[] = [];
  const duration = experiment.load.duration;
  const names = experiment.timeline.map((e) => e.name);

  experiment.timeline.forEach((entry, i) => {
    const first = names.indexOf(entry.name);
    if (first !== i) {
      findings.push({
        code: 'DUPLICATE_NAME',
        path: ['timeline', i, 'name'],
        message: `\`timeline.${i}.name\` is "${entry.name}", already used by \`timeline.${first}\`; give each timeline entry its own name`,
      });
    }
    if ((RESERVED_PHASES as readonly string[]).includes(entry.name)) {
      findings.push({
        code: 'CONFLICT',
        path: ['timeline', i, 'name'],
        message: `\`timeline.${i}.name\` is "${entry.name}", a reserved phase name (${RESERVED_PHASES.join(', ')}); choose another name`,
      });
    }
    if (entry.at >= duration) {
      findings.push({
        code: 'OUTSIDE_DURATION',
        path: ['timeline', i, 'at'],
        message: `\`timeline.${i}.at\` is ${ms(entry.at)}, at or after the end of the load (\`load.duration\` ${ms(duration)}); inject faults while the load runs`,
      });
    }
    // `for` on a fault without an inverse (failover, rolling restart) is its observation window.
    const lasts = faultWindow(entry);
    if (
      entry.action === 'redis.kill-master' &&
      entry.for !== undefined &&
      entry.params.restartAfter !== undefined
    ) {
      findings.push({
        code: 'CONFLICT',
        path: ['timeline', i, 'params', 'restartAfter'],
        message: `\`timeline.${i}\` gives both \`for\` and \`params.restartAfter\`; they mean the same (when the master is restarted), keep one`,
      });
    }
    if (lasts !== undefined && entry.at < duration && entry.at + lasts > duration) {
      findings.push({
        code: 'OUTSIDE_DURATION',
        path: ['timeline', i, entry.for !== undefined ? 'for' : 'params'],
        message: `\`timeline.${i}\` (${entry.name}) runs from ${ms(entry.at)} to ${ms(entry.at + lasts)}, past the end of the load at ${ms(duration)}; shorten it to at most ${ms(duration - entry.at)} or lengthen \`load.duration\``,
      });
    }
    if (
      (entry.action === 'replica.kill' ||
        entry.action === 'replica.stop' ||
        entry.action === 'replica.pause') &&
      entry.params.replica !== 'random' &&
      entry.params.count !== 1
    ) {
      findings.push({
        code: 'CONFLICT',
        path: ['timeline', i, 'params', 'count'],
        message: `\`timeline.${i}.params.count\` is ${entry.params.count}, but \`replica\` names one replica; use \`replica: random\` with a count, or count 1`,
      });
    }
  });

  const phaseNames = [...RESERVED_PHASES, ...names];
  experiment.slos.forEach((slo, i) => {
    slo.phases.forEach((phase, j) => {
      if (phaseNames.includes(phase)) return;
      const guess = closest(phase, phaseNames);
      findings.push({
        code: 'UNKNOWN_REFERENCE',
        path: ['slos', i, 'phases', j],
        message: `\`slos.${i}.phases.${j}\` is "${phase}", which is neither a phase (${RESERVED_PHASES.join(', ')}) nor a timeline entry${names.length ? ` (${names.join(', ')})` : ''}${guess ? ` — did you mean \`${guess}\`?` : ''}`,
      });
    });
  });

  const reverted = new Map<string, number>();
  (experiment.rollbacks ?? []).forEach((rollback, i) => {
    const p = ['rollbacks', i, 'revert'];
    const entry = experiment.timeline.find((e) => e.name === rollback.revert);
    if (entry === undefined) {
      const guess = closest(rollback.revert, names);
      findings.push({
        code: 'UNKNOWN_REFERENCE',
        path: p,
        message: `\`rollbacks.${i}.revert\` is "${rollback.revert}", which names no timeline entry${names.length ? `; declared: ${names.join(', ')}` : ''}${guess ? ` — did you mean \`${guess}\`?` : ''}`,
      });
    } else if (FAULT_FACTS[entry.action].inverse === undefined) {
      findings.push({
        code: 'CONFLICT',
        path: p,
        message: `\`rollbacks.${i}.revert\` is "${rollback.revert}", but ${entry.action} has no inverse to run; remove it from \`rollbacks\``,
      });
    }
    const before = reverted.get(rollback.revert);
    if (before !== undefined) {
      findings.push({
        code: 'DUPLICATE_NAME',
        path: p,
        message: `\`rollbacks.${i}.revert\` repeats "${rollback.revert}" (already \`rollbacks.${before}\`); each fault is reverted once`,
      });
    } else reverted.set(rollback.revert, i);
  });

  findings.push(...checkConcurrency(experiment, maxUnavailable, 'default'));
  return findings;
}

/** When each replica-taking fault holds its replicas: until `for` ends, else until the load ends. */
function replicaWindows(
  experiment: Experiment,
): Array<{ index: number; entry: TimelineEntry; start: number; end: number; taken: number }> {
  return experiment.timeline
    .map((entry, index) => ({
      index,
      entry,
      start: entry.at,
      end: entry.at + (faultWindow(entry) ?? experiment.load.duration - entry.at),
      taken: replicasTaken(entry),
    }))
    .filter((w) => w.taken > 0);
}

function checkConcurrency(
  experiment: Experiment,
  maxUnavailable: number,
  source: 'default' | 'the target',
): Finding[] {
  const findings: Finding[] = [];
  const windows = replicaWindows(experiment);
  const limit =
    source === 'default'
      ? `\`safety.maxUnavailable\` (${maxUnavailable}, the default; a target may raise it)`
      : `the target's \`safety.maxUnavailable\` (${maxUnavailable})`;
  for (const window of windows) {
    const overlapping = windows.filter(
      (o) =>
        o !== window &&
        o.start <= window.start &&
        o.end > window.start &&
        (o.start < window.start || o.index < window.index),
    );
    const down = window.taken + overlapping.reduce((sum, o) => sum + o.taken, 0);
    if (down > maxUnavailable) {
      const others = overlapping.map((o) => `\`${o.entry.name}\``).join(', ');
      findings.push({
        code: 'TOO_MANY_UNAVAILABLE',
        path: ['timeline', window.index],
        message: `\`timeline.${window.index}\` (${window.entry.name}) takes ${down} replica${down === 1 ? '' : 's'} out of service at ${ms(window.start)}${others ? ` together with ${others}` : ''}, more than ${limit}; stagger the faults or lower \`count\``,
      });
    }
  }
  return findings;
}

/** Checks that need the target: the sections a fault uses exist, destructive faults are allowed, proxies exist. */
export function checkAgainstTarget(experiment: Experiment, target: Target): Finding[] {
  const findings: Finding[] = [];
  experiment.timeline.forEach((entry, i) => {
    const facts = FAULT_FACTS[entry.action];
    const p = ['timeline', i, 'action'];
    const section = facts.needs;
    const configured =
      section === 'replicas'
        ? target.replicas !== undefined && target.replicas.type !== 'none'
        : section === 'nginx'
          ? target.nginx !== undefined && target.nginx.type !== 'none'
          : target[section] !== undefined;
    if (!configured) {
      findings.push({
        code: 'NOT_SUPPORTED_BY_TARGET',
        path: p,
        message: `\`timeline.${i}\` (${entry.action}) needs the target's \`${section}\` section, which target \`${target.name}\` does not configure`,
      });
    }
    if (facts.destructive && !target.safety.allowDestructive) {
      findings.push({
        code: 'NOT_SUPPORTED_BY_TARGET',
        path: p,
        message: `\`timeline.${i}\` (${entry.action}) is destructive, and target \`${target.name}\` has \`safety.allowDestructive: false\`; set it to true in the target if this deployment may be broken on purpose`,
      });
    }
    if (
      entry.action.startsWith('toxic.') &&
      'proxy' in entry.params &&
      target.toxiproxy?.proxies !== undefined
    ) {
      const proxies = target.toxiproxy.proxies.map((proxy) => proxy.name);
      const proxy = entry.params.proxy;
      if (!proxies.includes(proxy)) {
        const guess = closest(proxy, proxies);
        findings.push({
          code: 'UNKNOWN_REFERENCE',
          path: ['timeline', i, 'params', 'proxy'],
          message: `\`timeline.${i}.params.proxy\` is "${proxy}", not a proxy of target \`${target.name}\` (${proxies.join(', ') || 'none listed'})${guess ? ` — did you mean \`${guess}\`?` : ''}`,
        });
      }
    }
  });
  return findings;
}

/** Problems that do not make the experiment invalid but weaken what it can show. */
export function warnExperiment(experiment: Experiment): Finding[] {
  const findings: Finding[] = [];
  const { duration } = experiment.load;
  const { steadyState, recoveryWindow } = experiment.settings;
  experiment.timeline.forEach((entry, i) => {
    if (entry.at < steadyState) {
      findings.push({
        code: 'OUTSIDE_DURATION',
        path: ['timeline', i, 'at'],
        message: `\`timeline.${i}.at\` is ${ms(entry.at)}, before the ${ms(steadyState)} steady-state window (\`settings.steadyState\`) ends; the baseline will be short`,
      });
    }
  });
  // A lasting fault without a window stays until the load stops: the run has no recovery phase.
  const untilEnd = experiment.timeline.findIndex(
    (e) => FAULT_FACTS[e.action].lasting && faultWindow(e) === undefined,
  );
  const ends = experiment.timeline.map((e) => e.at + (faultWindow(e) ?? 0));
  if (untilEnd >= 0) {
    findings.push({
      code: 'OUTSIDE_DURATION',
      path: ['timeline', untilEnd, 'for'],
      message: `\`timeline.${untilEnd}\` (${experiment.timeline[untilEnd]!.name}) has no \`for\`: it stays until the load stops, so the run has no recovery phase and recovery cannot be confirmed`,
    });
  } else if (ends.length > 0) {
    const last = Math.max(...ends);
    if (duration - last < recoveryWindow) {
      findings.push({
        code: 'OUTSIDE_DURATION',
        path: ['load', 'duration'],
        message: `the last fault ends at ${ms(last)}, leaving ${ms(Math.max(0, duration - last))} before the load stops, less than \`settings.recoveryWindow\` (${ms(recoveryWindow)}); recovery cannot be confirmed`,
      });
    }
  }
  if (experiment.slos.length === 0) {
    findings.push({
      code: 'MISSING_KEY',
      path: ['slos'],
      message: 'no SLOs: the run will measure but cannot pass or fail',
    });
  }
  return findings;
}

/** The error for a reference the caller could not resolve (used by the CLI). */
export function experimentNotFound(ref: string, builtins: readonly string[]): OwuiChaosError {
  const guess = closest(ref, builtins);
  return new ValidationError(
    `No experiment file or built-in experiment named "${ref}"${guess ? ` — did you mean \`${guess}\`?` : ''}`,
    [{ path: '', message: `built-in experiments: ${builtins.join(', ') || 'none'}` }],
    {
      code: 'FILE_NOT_FOUND',
      suggestions: [
        'owui-chaos experiment list',
        ...(guess ? [`owui-chaos experiment validate ${guess}`] : []),
      ],
    },
  );
}
