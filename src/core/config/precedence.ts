// Configuration precedence, written down in one place:
//
//     defaults  <  file  <  environment  <  flags
//
//   defaults     the zod schemas' `.default(…)` values (experiment.ts, target.ts, faults.ts)
//   file         the experiment / target YAML (with `${VAR}` and `{ env: VAR }` references resolved)
//   environment  OWUI_CHAOS_* variables below, for CI jobs that reuse one experiment file
//   flags        the command line (`--target`, `--engine`, `--duration`, `--abort-on-breach`)
//
// Environment and flag values are applied to the document before validation, so they are checked
// by the same schema and cross-field rules as the file, and a problem names where it came from.

import type { Env } from './env.js';
import type { Override } from './document.js';

/** Flags commands may pass (the same names as the OWUI_CHAOS_* variables, camel-cased). */
export interface ExperimentFlags {
  target?: string;
  engine?: string;
  duration?: string;
  abortOnBreach?: boolean;
}

interface Setting {
  flag: keyof ExperimentFlags;
  env: string;
  path: string[];
  /** Converts the env var's text to the document's value. */
  fromEnv: (text: string) => unknown;
}

const asBoolean = (text: string): unknown =>
  /^(1|true|yes|on)$/i.test(text) ? true : /^(0|false|no|off)$/i.test(text) ? false : text;

export const EXPERIMENT_SETTINGS: readonly Setting[] = [
  { flag: 'target', env: 'OWUI_CHAOS_TARGET', path: ['target'], fromEnv: (t) => t },
  { flag: 'engine', env: 'OWUI_CHAOS_ENGINE', path: ['load', 'engine'], fromEnv: (t) => t },
  { flag: 'duration', env: 'OWUI_CHAOS_DURATION', path: ['load', 'duration'], fromEnv: (t) => t },
  {
    flag: 'abortOnBreach',
    env: 'OWUI_CHAOS_ABORT_ON_BREACH',
    path: ['settings', 'abortOnBreach'],
    fromEnv: asBoolean,
  },
];

/** Overrides in precedence order (environment first, flags last: later ones win). */
export function experimentOverrides(env: Env, flags: ExperimentFlags): Override[] {
  const overrides: Override[] = [];
  for (const setting of EXPERIMENT_SETTINGS) {
    const text = env[setting.env];
    if (text !== undefined && text !== '') {
      overrides.push({ path: setting.path, value: setting.fromEnv(text), origin: `env ${setting.env}` });
    }
  }
  for (const setting of EXPERIMENT_SETTINGS) {
    const value = flags[setting.flag];
    if (value !== undefined) {
      overrides.push({ path: setting.path, value, origin: `flag --${kebab(setting.flag)}` });
    }
  }
  return overrides;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
