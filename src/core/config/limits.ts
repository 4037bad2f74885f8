// Bounds on what a config file may ask for (docs/safety.md). Defaults that any real file stays far
// below; each can be raised through an environment variable for the rare file that needs more.
//  - file size: a file larger than this is not read at all (a 2 GB file, /dev/zero);
//  - entries: the total of mapping pairs and sequence items in the YAML (a timeline of a million faults);
//  - durations: Node's timers hold at most 2^31−1 ms (~24.8 days) — a longer `setTimeout` fires at
//    once — so no duration may exceed that; a load longer than a week needs `--allow-long`.

import type { Env } from './env.js';

export const MAX_TIMER_MS = 2 ** 31 - 1;
export const ONE_WEEK_MS = 7 * 24 * 3600 * 1000;

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_FILE_ENTRIES = 10_000;

export const MAX_FILE_BYTES_ENV = 'OWUI_CHAOS_MAX_FILE_BYTES';
export const MAX_FILE_ENTRIES_ENV = 'OWUI_CHAOS_MAX_FILE_ENTRIES';

export interface FileLimits {
  maxBytes: number;
  maxEntries: number;
}

function positiveInt(text: string | undefined, fallback: number): number {
  if (text === undefined || !/^\d+$/.test(text.trim())) return fallback;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

export function fileLimits(env: Env): FileLimits {
  return {
    maxBytes: positiveInt(env[MAX_FILE_BYTES_ENV], DEFAULT_MAX_FILE_BYTES),
    maxEntries: positiveInt(env[MAX_FILE_ENTRIES_ENV], DEFAULT_MAX_FILE_ENTRIES),
  };
}
