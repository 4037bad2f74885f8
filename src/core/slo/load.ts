// Reads SLO lists from YAML (experiments/slos/default.yaml, or `report show --slos FILE`).
// Accepted shapes: a list of SLOs, or a mapping with a `slos:` list (so an experiment file's SLO
// section can be pointed at directly). Invalid entries fail with every issue's path.

import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { ValidationError, type ValidationIssue } from '../errors.js';
import { SloSpecSchema, type SloSpec } from './spec.js';

export function parseSloDocument(text: string, file?: string): SloSpec[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new ValidationError(`SLO file ${file ?? ''} is not valid YAML`.replace('  ', ' '), [], {
      code: 'INVALID_SLO_FILE',
      cause: error,
    });
  }
  const list = Array.isArray(doc) ? doc : (doc as { slos?: unknown } | null)?.slos;
  const prefix = Array.isArray(doc) ? '' : 'slos.';
  if (!Array.isArray(list)) {
    throw new ValidationError(
      `SLO file ${file ?? ''} holds no SLO list`.replace('  ', ' '),
      [
        {
          path: '',
          message: 'expected a list of SLOs, or a mapping with a `slos:` list',
          ...(file ? { file } : {}),
        },
      ],
      { code: 'INVALID_SLO_FILE' },
    );
  }
  const issues: ValidationIssue[] = [];
  const slos: SloSpec[] = [];
  list.forEach((entry, index) => {
    const parsed = SloSpecSchema.safeParse(entry);
    if (parsed.success) slos.push(parsed.data);
    else {
      for (const issue of parsed.error.issues) {
        issues.push({
          path: [`${prefix}${index}`, ...issue.path.map(String)].join('.'),
          message: issue.message,
          ...(file ? { file } : {}),
        });
      }
    }
  });
  if (issues.length > 0) {
    throw new ValidationError(
      `SLO file ${file ?? ''} has ${issues.length} invalid entr${issues.length === 1 ? 'y' : 'ies'}`.replace(
        '  ',
        ' ',
      ),
      issues,
      {
        code: 'INVALID_SLO_FILE',
      },
    );
  }
  return slos;
}

export async function loadSloFile(path: string): Promise<SloSpec[]> {
  return parseSloDocument(await readFile(path, 'utf8'), path);
}
