// The revert stack (DESIGN §6): every fault's inverse is persisted BEFORE the fault is applied, so
// reverts run on success, failure, Ctrl-C, and — after a crash or `kill -9` — on the next
// `owui-chaos rollback`. The file is rewritten atomically on every change.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { RollbackError, errorMessage } from '../errors.js';
import { parseRevertRecord, zodIssues, type RevertRecord } from '../faults/revert-record.js';

export type RevertEntryStatus =
  /** Recorded; the fault is being (or has been) applied and is not reverted yet. */
  | 'pending'
  | 'reverted'
  /** Revert attempted and failed: something may still be injected. */
  | 'failed'
  /** The fault needs no revert (instantaneous, e.g. `redis.failover`). */
  | 'none'
  /**
   * Closed without a revert (`rollback --forget`, or the lab it was injected into is gone): nothing
   * verified that it is undone; `error` says why it was closed.
   */
  | 'forgotten';

export interface RevertEntry {
  /** Timeline entry name. */
  name: string;
  action: string;
  description: string;
  record: RevertRecord | null;
  status: RevertEntryStatus;
  recordedAt: number;
  revertedAt?: number;
  error?: string;
}

export interface RevertStackFile {
  schemaVersion: 1;
  runId: string;
  entries: RevertEntry[];
}

const RevertEntrySchema = z.object({
  name: z.string(),
  action: z.string(),
  description: z.string(),
  record: z.unknown(), // read by parseRevertRecord, which names the field
  status: z.enum(['pending', 'reverted', 'failed', 'none', 'forgotten']),
  recordedAt: z.number(),
  revertedAt: z.number().exactOptional(),
  error: z.string().exactOptional(),
});

const RevertStackFileSchema = z.object({
  schemaVersion: z.literal(1),
  runId: z.string().min(1),
  entries: z.array(RevertEntrySchema),
});

export class RevertStack {
  private readonly data: RevertStackFile;

  private constructor(
    private readonly file: string,
    data: RevertStackFile,
  ) {
    this.data = data;
  }

  static create(file: string, runId: string): RevertStack {
    const stack = new RevertStack(file, { schemaVersion: 1, runId, entries: [] });
    stack.save();
    return stack;
  }

  /** Reads a stack back through its schema: a damaged file is a RollbackError naming it and the field. */
  static load(file: string): RevertStack {
    if (!existsSync(file)) throw new Error(`no revert stack at ${file}`);
    const damaged = (why: string): RollbackError =>
      new RollbackError(`The revert stack ${file} is damaged (${why}); nothing was reverted from it`, {
        code: 'REVERT_STACK_INVALID',
        suggestions: [
          `Check the file by hand: each entry of \`entries\` holds one fault's inverse (docs/safety.md)`,
          'owui-chaos rollback --forget <run id>   # closes the run once its faults are undone by hand',
        ],
      });
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw damaged(`not JSON: ${errorMessage(err)}`);
    }
    const parsed = RevertStackFileSchema.safeParse(raw);
    if (!parsed.success) throw damaged(zodIssues(parsed.error));
    const entries = parsed.data.entries.map((e, i): RevertEntry => {
      if (e.record === null) return { ...e, record: null };
      try {
        return { ...e, record: parseRevertRecord(e.record) };
      } catch (err) {
        throw damaged(`entries.${i}.record: ${errorMessage(err)}`);
      }
    });
    return new RevertStack(file, { ...parsed.data, entries });
  }

  get runId(): string {
    return this.data.runId;
  }

  get entries(): readonly RevertEntry[] {
    return this.data.entries;
  }

  /** Entries still to revert, most recent first (the order reverts run in). */
  outstanding(): RevertEntry[] {
    return this.data.entries.filter((e) => e.status === 'pending' || e.status === 'failed').reverse();
  }

  record(entry: Omit<RevertEntry, 'status' | 'recordedAt'>, now: number): RevertEntry {
    const full: RevertEntry = { ...entry, status: entry.record ? 'pending' : 'none', recordedAt: now };
    this.data.entries.push(full);
    this.save();
    return full;
  }

  mark(entry: RevertEntry, status: RevertEntryStatus, now: number, error?: string): void {
    entry.status = status;
    entry.revertedAt = now;
    if (error === undefined) delete entry.error;
    else entry.error = error;
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2));
    renameSync(tmp, this.file);
  }
}
