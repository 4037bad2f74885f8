// The plan of an experiment in words and as data: load shape, each fault with its time window and
// inverse, the revert order, the SLOs. `experiment validate` prints it; the runner uses
// `revertOrder` so the order is decided in one place.

import { formatDuration } from '../clock.js';
import { METRICS } from '../metrics.js';
import type { LoadPlan } from '../ports.js';
import { siteOrigin } from '../../protocol/browser-session.js';
import { objectiveText, type SloSpec } from '../slo/spec.js';
import type { Experiment, TargetRef } from './experiment.js';
import { displayPath } from './document.js';
import { FAULT_FACTS, describeFault, faultWindow, formatMs, type TimelineEntry } from './faults.js';

export interface PlannedFault {
  name: string;
  action: TimelineEntry['action'];
  /** Milliseconds after the load starts. */
  from: number;
  /** When the fault is reverted; undefined = stays until the end of the run (or is instantaneous). */
  to: number | undefined;
  description: string;
  inverse: string | undefined;
}

export interface ExperimentPlan {
  /** One paragraph: what the experiment will do. */
  text: string;
  load: string;
  faults: PlannedFault[];
  /** Faults still injected at the end are reverted in this order. */
  revertOrder: string[];
  slos: string[];
}

/**
 * End-of-run revert order: the `rollbacks` list first, in its order, then every other fault that
 * has an inverse in reverse order of injection (so nothing injected is ever left behind).
 */
export function revertOrder(experiment: Pick<Experiment, 'timeline' | 'rollbacks'>): string[] {
  const explicit = (experiment.rollbacks ?? []).map((r) => r.revert);
  const rest = [...experiment.timeline]
    .sort((a, b) => b.at - a.at)
    .filter((e) => FAULT_FACTS[e.action].inverse !== undefined && !explicit.includes(e.name))
    .map((e) => e.name);
  return [...explicit, ...rest];
}

export function describeLoad(load: Experiment['load']): string {
  const parts: string[] = [];
  if (load.chat) {
    const pace = load.chat.tokensPerSecond !== undefined ? ` at ${load.chat.tokensPerSecond} tokens/s` : '';
    parts.push(
      load.chat.model === 'closed'
        ? `${load.chat.vus} API chat user${load.chat.vus === 1 ? '' : 's'} over SSE (closed model, ${formatMs(load.chat.thinkTime)} think time, ${load.chat.tokens}-token replies${pace})`
        : `API chats over SSE arriving at ${+load.chat.rate.toFixed(3)}/s (open model${load.chat.maxInFlight !== undefined ? `, at most ${load.chat.maxInFlight} in flight` : ''}, ${load.chat.tokens}-token replies${pace})`,
    );
  }
  if (load.sockets) {
    const pace =
      load.sockets.tokensPerSecond !== undefined ? ` at ${load.sockets.tokensPerSecond} tokens/s` : '';
    parts.push(
      `${load.sockets.vus} browser client${load.sockets.vus === 1 ? '' : 's'} on Socket.IO (each a ${load.sockets.tokens}-token chat every ${formatMs(load.sockets.chatInterval)}${pace})`,
    );
  }
  return `${parts.join(' and ')} for ${formatDuration(load.duration)} with the ${load.engine} engine`;
}

export function describeSlo(slo: SloSpec): string {
  const unit = METRICS[slo.metric].unit === 'ms' ? ' ms' : '';
  const filters = [slo.client, ...Object.entries(slo.tags ?? {}).map(([k, v]) => `${k}=${v}`)].filter(
    Boolean,
  );
  return `${slo.metric} ${slo.stat}${filters.length ? ` [${filters.join(', ')}]` : ''} ${objectiveText(slo)}${unit} in ${slo.phases.join(', ')}`;
}

export function planExperiment(experiment: Experiment, targetRef?: TargetRef): ExperimentPlan {
  const faults: PlannedFault[] = experiment.timeline.map((entry) => {
    const facts = FAULT_FACTS[entry.action];
    const lasts = faultWindow(entry);
    return {
      name: entry.name,
      action: entry.action,
      from: entry.at,
      to: lasts !== undefined ? entry.at + lasts : undefined,
      description: describeFault(entry),
      inverse: facts.inverse,
    };
  });
  const order = revertOrder(experiment);
  const load = describeLoad(experiment.load);
  const slos = experiment.slos.map(describeSlo);
  const target =
    targetRef === undefined || targetRef.kind === 'lab' ? 'the lab' : `target ${displayPath(targetRef.file)}`;

  const sentences: string[] = [`Runs ${load} against ${target}.`];
  for (const fault of faults) {
    const lasting = FAULT_FACTS[fault.action].lasting;
    const when =
      fault.to !== undefined
        ? `From ${formatMs(fault.from)} to ${formatMs(fault.to)}`
        : lasting
          ? `From ${formatMs(fault.from)} until the end of the run`
          : `At ${formatMs(fault.from)}`;
    const undo =
      fault.inverse === undefined
        ? fault.to !== undefined
          ? 'nothing to revert (the window is its fault phase)'
          : 'nothing to revert'
        : fault.to !== undefined
          ? `then ${fault.inverse}`
          : `at the end, ${fault.inverse}`;
    sentences.push(`${when}, \`${fault.name}\` (${fault.action}): ${fault.description}; ${undo}.`);
  }
  if (faults.length === 0) sentences.push('No faults are injected (a load-only baseline).');
  if (order.length > 0)
    sentences.push(`Faults still injected at the end are reverted in this order: ${order.join(', ')}.`);
  if (experiment.settings.rollbackStrategy === 'never')
    sentences.push(
      'rollbackStrategy is `never`: faults are left in place for inspection until `owui-chaos rollback`.',
    );
  sentences.push(
    slos.length > 0
      ? `SLOs: ${slos.join('; ')}; ${experiment.settings.abortOnBreach ? 'the first breach aborts the run' : 'a breach is reported, the run goes on'}, and recovery means every SLO holds for ${formatMs(experiment.settings.recoveryWindow)}.`
      : 'No SLOs: the run measures but cannot pass or fail.',
  );
  return { text: sentences.join(' '), load, faults, revertOrder: order, slos };
}

/**
 * The engine's LoadPlan (core/ports.ts) for an experiment's `load` against a target. LoadPlan has
 * no field for `tokensPerSecond` yet, so mock-LLM pacing is not carried over.
 */
export function toLoadPlan(
  load: Experiment['load'],
  target: { openwebui: { url: string; origin?: string | undefined }; model: string },
): LoadPlan {
  const plan: LoadPlan = { durationMs: load.duration, baseUrl: target.openwebui.url, model: target.model };
  if (load.chat) {
    plan.chat =
      load.chat.model === 'closed'
        ? { vus: load.chat.vus, thinkTimeMs: load.chat.thinkTime, tokens: load.chat.tokens }
        : {
            ratePerSecond: load.chat.rate,
            tokens: load.chat.tokens,
            ...(load.chat.maxInFlight !== undefined ? { maxInFlight: load.chat.maxInFlight } : {}),
          };
  }
  if (load.sockets)
    plan.sockets = {
      vus: load.sockets.vus,
      chatIntervalMs: load.sockets.chatInterval,
      tokens: load.sockets.tokens,
      eventGraceMs: load.sockets.eventGrace,
      // A browser on the site sends its origin: the experiment's, else the target's, else the URL's.
      origin: siteOrigin(target.openwebui.url, load.sockets.origin ?? target.openwebui.origin),
    };
  return plan;
}
