// One index of runs under OWUI_CHAOS_HOME, whatever `--out` says (docs/safety.md): every run that
// injects faults registers itself (run dir, host, pid, target, lease) before its first fault, so
// `owui-chaos rollback` with no argument finds every run with pending reverts — also a CI job's run
// whose directory is elsewhere. One small file per run (`<home>/run-index/<runId>.json`), written
// atomically: two runs never write the same file.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RevertStack } from '../../core/runner/revert-stack.js';
import type { ProcessIdentity } from './process-identity.js';

export interface RunIndexEntry extends ProcessIdentity {
  schemaVersion: 1;
  runId: string;
  runDir: string;
  startedAt: string;
  /** `lab` or the target file. */
  target: string;
  targetName: string;
  labStateDir?: string;
  /** The lab's `createdAt` when the run started: a lab started again later is another lab. */
  labCreatedAt?: string;
  targetFile?: string;
  lease?: { kind: string; where: string };
  state: 'running' | 'ended' | 'forgotten';
  endedAt?: string;
  forgotten?: { at: string; reason: string; unverified: string[] };
}

export function chaosHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.OWUI_CHAOS_HOME ?? join(process.cwd(), '.owui-chaos'));
}

export function runIndexDir(home: string): string {
  return join(home, 'run-index');
}

function fileFor(home: string, runId: string): string {
  return join(runIndexDir(home), `${runId.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
}

export function writeIndexEntry(home: string, entry: RunIndexEntry): void {
  const dir = runIndexDir(home);
  mkdirSync(dir, { recursive: true });
  const file = fileFor(home, entry.runId);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(entry, null, 2));
  renameSync(tmp, file);
}

export function updateIndexEntry(
  home: string,
  runId: string,
  change: Partial<RunIndexEntry>,
): RunIndexEntry | undefined {
  const current = readIndexEntry(home, runId);
  if (!current) return undefined;
  const next = { ...current, ...change };
  writeIndexEntry(home, next);
  return next;
}

export function readIndexEntry(home: string, runId: string): RunIndexEntry | undefined {
  try {
    return JSON.parse(readFileSync(fileFor(home, runId), 'utf8')) as RunIndexEntry;
  } catch {
    return undefined;
  }
}

export function listIndex(home: string): RunIndexEntry[] {
  const dir = runIndexDir(home);
  if (!existsSync(dir)) return [];
  const out: RunIndexEntry[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    try {
      const e = JSON.parse(readFileSync(join(dir, name), 'utf8')) as RunIndexEntry;
      if (e.schemaVersion === 1 && typeof e.runId === 'string') out.push(e);
    } catch {
      // a torn or foreign file: not an entry
    }
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Outstanding reverts of a run directory (0 when it has no stack). */
export function pendingReverts(runDir: string): number {
  const file = join(runDir, 'reverts.json');
  if (!existsSync(file)) return 0;
  try {
    return RevertStack.load(file).outstanding().length;
  } catch {
    return 0;
  }
}

/** Index entries (not forgotten) whose run directory still has reverts to do. */
export function runsWithPendingReverts(home: string): RunIndexEntry[] {
  return listIndex(home).filter((e) => e.state !== 'forgotten' && pendingReverts(e.runDir) > 0);
}
