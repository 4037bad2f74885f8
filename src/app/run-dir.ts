// The run directory every command that touches a target writes (docs/safety.md): where it is
// (`--out`, else `<OWUI_CHAOS_HOME>/runs/<run id>`), what its id is, and `run.json`, which says
// where the target is so `owui-chaos rollback` can revert a crashed run. One zod schema for
// run.json, written by run / gameday / capacity and read by rollback; a damaged file is a
// ValidationError naming its path, never a crash.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { ValidationError, errorMessage } from '../core/errors.js';
import { chaosHome } from './safety/run-index.js';

export const RUN_INFO_FILE = 'run.json';

export const RunInfoSchema = z.looseObject({
  runId: z.string().min(1),
  /** Which command wrote it; absent in runs of `owui-chaos run` before it was recorded. */
  kind: z.enum(['run', 'gameday', 'capacity', 'load']).optional(),
  /** `lab` or the target file as given. */
  target: z.string().min(1),
  labStateDir: z.string().min(1).optional(),
  targetFile: z.string().min(1).optional(),
  pid: z.number().int().positive().optional(),
});
export type RunInfo = z.infer<typeof RunInfoSchema>;

/** `2026-11-21T13-00-00-000Z-<name>`: sortable, safe in a path. */
export function newRunId(clock: Pick<Clock, 'now'>, name: string): string {
  return `${new Date(clock.now()).toISOString().replace(/[:.]/g, '-')}-${name}`;
}

/** `--out` when given, else `<OWUI_CHAOS_HOME>/runs/<runId>` (default home `./.owui-chaos`). */
export function runDirFor(runId: string, outDir: string | undefined, env: NodeJS.ProcessEnv): string {
  return resolve(outDir ?? join(chaosHome(env), 'runs', runId));
}

export function writeRunInfo(runDir: string, info: RunInfo): void {
  mkdirSync(runDir, { recursive: true });
  // Optional keys left undefined are dropped by JSON.stringify, as before.
  writeFileSync(join(runDir, RUN_INFO_FILE), JSON.stringify(RunInfoSchema.parse(info), null, 2));
}

export function readRunInfo(runDir: string): RunInfo {
  const file = join(runDir, RUN_INFO_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(
      `${file} cannot be read as JSON: ${errorMessage(err)}`,
      [{ path: '', message: errorMessage(err), file }],
      { code: 'RUN_INFO_INVALID', cause: err, suggestions: [`cat ${file}`] },
    );
  }
  const parsed = RunInfoSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.join('.'),
      message: i.message,
      file,
    }));
    throw new ValidationError(`${file} is not a run.json written by owui-chaos`, issues, {
      code: 'RUN_INFO_INVALID',
      suggestions: [
        `cat ${file}`,
        `owui-chaos rollback --forget ${runDir}   # if the run's target is gone for good`,
      ],
    });
  }
  return parsed.data;
}
