// Reading a journal.json the tool wrote (src/core/journal.ts): through a zod schema, so a damaged
// or foreign file is a ValidationError naming its path and the first wrong field, not a crash
// deep in the report. Loose objects: fields added by later versions are kept, not refused.

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ValidationError, errorMessage } from './errors.js';
import type { Journal } from './journal.js';

const ActivitySchema = z.looseObject({
  name: z.string(),
  kind: z.enum(['preflight', 'inject', 'revert', 'probe', 'load']),
  action: z.string().optional(),
  startedAt: z.number(),
  endedAt: z.number(),
  windowEndsAt: z.number().optional(),
  status: z.enum(['succeeded', 'failed', 'skipped']),
  output: z.unknown().optional(),
  error: z.string().optional(),
});

export const JournalSchema = z.looseObject({
  schemaVersion: z.literal(1),
  runId: z.string(),
  experiment: z.looseObject({ title: z.string(), file: z.string().optional() }),
  target: z.looseObject({ name: z.string(), url: z.string(), version: z.string().optional() }),
  engine: z.string(),
  startedAt: z.number(),
  endedAt: z.number(),
  status: z.enum(['completed', 'failed', 'aborted', 'interrupted']),
  plannedFaults: z.number().int().nonnegative().optional(),
  deviated: z.boolean(),
  activities: z.array(ActivitySchema),
  notes: z
    .array(
      z.looseObject({
        at: z.number(),
        kind: z.enum(['hypothesis', 'observation']),
        text: z.string(),
        faults: z.array(z.string()),
      }),
    )
    .optional(),
});

export async function readJournalFile(file: string): Promise<Journal> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(
      `${file} is not a run journal: ${errorMessage(error)}`,
      [{ path: '', message: errorMessage(error), file }],
      { code: 'JOURNAL_INVALID', cause: error },
    );
  }
  const parsed = JournalSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      `${file} is not a run journal`,
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, file })),
      { code: 'JOURNAL_INVALID' },
    );
  }
  return parsed.data as Journal;
}
