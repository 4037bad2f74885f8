// Inputs of `owui-chaos capacity` that need parsing, and the plan printed before anything runs
// (docs/capacity.md). Errors are UsageErrors naming the flag and the accepted form.

import { formatDuration } from '../clock.js';
import { UsageError } from '../errors.js';
import { expectedSteps, type SweepConfig } from './sweep.js';

/** `--for`: a demand to size for, as chats per second or as concurrent users. */
export type Demand = { kind: 'rate'; perSecond: number } | { kind: 'users'; users: number };

export function parseDemand(text: string): Demand {
  const t = text.trim();
  const users = /^(\d+(?:\.\d+)?)[-\s]?users?$/i.exec(t);
  if (users) return { kind: 'users', users: Number(users[1]) };
  const rate = /^(\d+(?:\.\d+)?)\s*\/\s*(s|m|min)$/i.exec(t);
  if (rate) {
    const n = Number(rate[1]);
    return { kind: 'rate', perSecond: rate[2]!.toLowerCase() === 's' ? n : n / 60 };
  }
  throw new UsageError(`--for "${text}" is neither a number of users nor a rate`, {
    code: 'CAPACITY_BAD_DEMAND',
    suggestions: ['--for 200-users', '--for 5/s', '--for 120/m'],
  });
}

/** Chats per second a demand means: users each starting a chat every `chatEveryMs`. */
export function demandRate(d: Demand, chatEveryMs: number): number {
  return d.kind === 'rate' ? d.perSecond : d.users / (chatEveryMs / 1000);
}

export function parseHeadroom(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
  const v = m ? Number(m[1]) / 100 : Number.NaN;
  if (!Number.isFinite(v) || v < 0 || v > 10) {
    throw new UsageError(`--headroom "${text}" is not a percentage`, {
      code: 'CAPACITY_BAD_HEADROOM',
      suggestions: ['--headroom 20%'],
    });
  }
  return v;
}

export function parseReplicaList(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const out: number[] = [];
  for (const p of parts) {
    const range = /^(\d+)-(\d+)$/.exec(p);
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      for (let n = Math.min(a, b); n <= Math.max(a, b); n++) out.push(n);
    } else if (/^\d+$/.test(p)) out.push(Number(p));
    else
      throw new UsageError(`--replicas "${text}": \`${p}\` is not a replica count`, {
        code: 'CAPACITY_BAD_REPLICAS',
        suggestions: ['--replicas 1,2,3', '--replicas 1-4'],
      });
  }
  const sorted = [...new Set(out)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted[0]! < 1 || sorted[sorted.length - 1]! > 16) {
    throw new UsageError(`--replicas "${text}" must list counts between 1 and 16`, {
      code: 'CAPACITY_BAD_REPLICAS',
      suggestions: ['--replicas 1,2,3'],
    });
  }
  return sorted;
}

/** Parses a load for `--max-rate` / `--start-rate`: `20/s`, `20`, `600/m`. */
export function parseRate(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|min))?$/i.exec(text.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!m || !(n > 0)) {
    throw new UsageError(`${flag} "${text}" is not a rate`, {
      code: 'CAPACITY_BAD_RATE',
      suggestions: [`${flag} 20/s`],
    });
  }
  return (m[2] ?? 's').toLowerCase() === 's' ? n : n / 60;
}

export interface StepTiming {
  warmupMs: number;
  measureMs: number;
  tailMs: number;
}

export function stepMs(t: StepTiming): number {
  return t.warmupMs + t.measureMs + t.tailMs;
}

/** One sweep of the run: a replica count, normal or with one replica down. */
export interface SweepTarget {
  replicas: number;
  minusOne: boolean;
}

export function sweepTargets(replicas: readonly number[], minusOne: boolean): SweepTarget[] {
  const out: SweepTarget[] = [];
  for (const n of replicas) {
    out.push({ replicas: n, minusOne: false });
    if (minusOne && n >= 2) out.push({ replicas: n, minusOne: true });
  }
  return out;
}

export function sweepLabel(t: SweepTarget): string {
  return t.minusOne
    ? `${t.replicas} replicas, 1 down`
    : `${t.replicas} replica${t.replicas === 1 ? '' : 's'}`;
}

/** The plan text: what will run, in which order, and how long it should take at most. */
export function renderPlan(opts: {
  target: string;
  sweeps: SweepTarget[];
  config: SweepConfig;
  timing: StepTiming;
  maxDurationMs: number;
  /** Overhead per sweep (scaling, health waits). */
  sweepOverheadMs: number;
  slos: string[];
  /** How the load is offered, when not API chats per second (a sweep in connected users). */
  users?: { chatIntervalMs: number; schedule: 'open' | 'closed'; browserShare: number };
}): string {
  const per = stepMs(opts.timing);
  const u = opts.users;
  const load = (v: number): string => (u ? `${v} users` : `${v}/s`);
  const model = u
    ? `connected users${u.browserShare < 1 ? ` (${Math.round(u.browserShare * 100)} % browser, the rest API)` : ''}, each chatting every ${formatDuration(u.chatIntervalMs)} ${u.schedule === 'open' ? 'on its own schedule (latency from the intended start; a chat still running at the next intended time makes that arrival missed)' : 'in a closed loop (chat, wait for done, think) — a control, not a measurement'}`
    : 'open model (arrivals per second, latency from the intended start)';
  const steps = expectedSteps(opts.config, opts.config.startLoad * 4);
  const expected = opts.sweeps.length * (steps * per + opts.sweepOverheadMs);
  const lines = [
    `Capacity sweep on ${opts.target}: ${opts.sweeps.map(sweepLabel).join(' · ')}`,
    `  each step: warm-up ${formatDuration(opts.timing.warmupMs)}, measure ${formatDuration(opts.timing.measureMs)}, tail ${formatDuration(opts.timing.tailMs)} (${formatDuration(per)}), ${model}`,
    `  search: start ${load(opts.config.startLoad)}, ×${opts.config.growth} until an SLO breaks, then bisect to ${Math.round(opts.config.resolution * 100)} %${opts.config.integer ? ' (whole users)' : ''}, re-measure the knee; at most ${load(opts.config.maxLoad)} and ${opts.config.maxSteps} steps per sweep`,
    `  SLOs: ${opts.slos.join('; ')}`,
    `  expected ~${steps} steps per sweep, about ${formatDuration(expected)} in total; bounded by --max-duration ${formatDuration(opts.maxDurationMs)}`,
  ];
  return lines.join('\n');
}
