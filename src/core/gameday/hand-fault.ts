// A fault injected by hand on a game day goes through the same gate as a timeline entry in an
// experiment file (DESIGN §6): the zod schema of src/core/config/faults.ts (same params, defaults,
// messages), the target checks of `checkAgainstTarget` (the section it needs, `allowDestructive`,
// known proxies), and `safety.maxUnavailable` counted over the faults injected right now.

import { z } from 'zod';
import { checkAgainstTarget, type Experiment } from '../config/experiment.js';
import {
  FAULT_ACTIONS,
  FAULT_FACTS,
  TimelineEntrySchema,
  replicasTaken,
  type TimelineEntry,
} from '../config/faults.js';
import { translateZodIssues } from '../config/issues.js';
import type { Target } from '../config/target.js';
import { ValidationError, type ValidationIssue } from '../errors.js';

export interface HandFaultInput {
  name?: string;
  action: string;
  params?: Record<string, unknown>;
  /** Reverted automatically after this long (a duration such as `30s`); absent = until reverted. */
  for?: string | number;
  description?: string;
}

/** Validates a hand-injected fault; throws ValidationError (exit 3 shape) with the file-style issues. */
export function checkHandFault(
  input: HandFaultInput,
  opts: { target: Target; active: readonly TimelineEntry[]; usedNames: ReadonlySet<string> },
): TimelineEntry {
  const action = String(input.action ?? '');
  if (!(FAULT_ACTIONS as string[]).includes(action)) {
    throw new ValidationError(`\`${action}\` is not a fault action`, [
      {
        path: 'action',
        message: `is "${action}"; use one of ${FAULT_ACTIONS.join(', ')}`,
        code: 'UNKNOWN_ACTION',
      },
    ]);
  }
  const name = input.name?.trim() || nextName(action, opts.usedNames);
  const data: Record<string, unknown> = { name, at: 0, action, params: input.params ?? {} };
  if (input.for !== undefined && input.for !== '') data.for = input.for;
  if (input.description) data.description = input.description;
  const parsed = TimelineEntrySchema.safeParse(data);
  if (!parsed.success) {
    throw new ValidationError(
      `The ${action} fault is not valid`,
      translateZodIssues(parsed.error.issues, { schema: TimelineEntrySchema, data, secrets: [] }),
      { code: 'INVALID_FAULT' },
    );
  }
  const entry = parsed.data;
  const issues: ValidationIssue[] = [];
  if (opts.usedNames.has(entry.name)) {
    issues.push({
      path: 'name',
      message: `\`${entry.name}\` is already used in this session; pick another name`,
      code: 'DUPLICATE_NAME',
    });
  }
  // checkAgainstTarget reads only the timeline.
  for (const f of checkAgainstTarget({ timeline: [entry] } as unknown as Experiment, opts.target)) {
    issues.push({
      path: f.path.slice(2).join('.') || 'action',
      message: f.message.replace('`timeline.0`', `\`${entry.name}\``),
      code: f.code,
    });
  }
  const taken = replicasTaken(entry);
  if (taken > 0) {
    const already = opts.active.reduce((sum, e) => sum + replicasTaken(e), 0);
    const max = opts.target.safety.maxUnavailable;
    if (already + taken > max) {
      const others = opts.active.filter((e) => replicasTaken(e) > 0).map((e) => `\`${e.name}\``);
      issues.push({
        path: 'action',
        message: `\`${entry.name}\` would take ${already + taken} replica${already + taken === 1 ? '' : 's'} out of service${others.length ? ` together with ${others.join(', ')}` : ''}, more than the target's \`safety.maxUnavailable\` (${max}); revert those first`,
        code: 'TOO_MANY_UNAVAILABLE',
      });
    }
  }
  if (issues.length > 0)
    throw new ValidationError(`The ${action} fault \`${entry.name}\` is refused`, issues, {
      code: 'FAULT_REFUSED',
    });
  return entry;
}

function nextName(action: string, used: ReadonlySet<string>): string {
  const base = action.replace(/^(toxic|replica|redis|nginx)\./, '').replace(/[^A-Za-z0-9._-]/g, '-');
  for (let i = 1; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

/** What the console's forms need about each action: its params (from the schema) and facts. */
export interface CatalogueAction {
  action: string;
  facts: (typeof FAULT_FACTS)[keyof typeof FAULT_FACTS];
  params: Array<{
    name: string;
    type: string;
    default?: unknown;
    options?: string[];
    description?: string;
    required: boolean;
  }>;
}

interface JsonProp {
  type?: string | string[];
  anyOf?: JsonProp[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
}

/** The fault catalogue for the console's forms, read from the same zod schemas. */
export function faultCatalogue(): CatalogueAction[] {
  return TimelineEntrySchema.options.map((option) => {
    const action = option.shape.action.value as TimelineEntry['action'];
    const json = z.toJSONSchema(option.shape.params, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, JsonProp>;
      required?: string[];
    };
    const params = Object.entries(json.properties ?? {}).map(([name, p]) => {
      const types = new Set<string>(
        [p.type, ...(p.anyOf ?? []).map((a) => a.type)]
          .flat()
          .filter((t): t is string => typeof t === 'string'),
      );
      // `duration`: a number of ms or a string such as `500ms` (DurationSchema).
      const type = p.enum
        ? 'enum'
        : types.has('boolean')
          ? 'boolean'
          : types.has('string') && types.has('number')
            ? 'duration'
            : types.has('string')
              ? 'text'
              : 'number';
      return {
        name,
        type,
        ...(p.default !== undefined ? { default: p.default } : {}),
        ...(p.enum ? { options: p.enum.map(String) } : {}),
        ...(p.description ? { description: p.description } : {}),
        required: (json.required ?? []).includes(name) && p.default === undefined,
      };
    });
    return { action, facts: FAULT_FACTS[action], params };
  });
}
