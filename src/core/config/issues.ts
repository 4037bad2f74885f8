// Turns zod issues into ValidationIssues a person can act on: the path, what was given and what
// is allowed ("`load.chat.vus` is -3; use an integer ≥ 1"), the nearest valid key or value for
// typos, and the file position of the offending node. Values that came from secret environment
// variables are never quoted.

import type { z } from 'zod';
import type { ValidationIssue } from '../errors.js';
import { closest } from './suggest.js';
import { redactionMarker, secretAt, type SecretRef } from './secrets.js';
import type { DocPath, SourceFile } from './source.js';

/** Stable per-issue codes, next to the error's own code. */
export type ConfigIssueCode =
  | 'YAML_SYNTAX'
  | 'FILE_NOT_FOUND'
  | 'ENV_MISSING'
  | 'UNKNOWN_KEY'
  | 'MISSING_KEY'
  | 'INVALID_TYPE'
  | 'INVALID_VALUE'
  | 'OUT_OF_RANGE'
  | 'UNKNOWN_REFERENCE'
  | 'DUPLICATE_NAME'
  | 'CONFLICT'
  | 'OUTSIDE_DURATION'
  | 'TOO_MANY_UNAVAILABLE'
  | 'NOT_SUPPORTED_BY_TARGET';

export interface ConfigIssue extends ValidationIssue {
  code: ConfigIssueCode;
}

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  [key: string]: unknown;
}
const defOf = (schema: AnySchema): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/**
 * The schema that validates the value at `path`, following the data through discriminated
 * unions (the option whose discriminator matches) and into the input side of pipes.
 */
export function schemaAt(root: AnySchema, path: DocPath, data: unknown): AnySchema | undefined {
  let schema: AnySchema | undefined = root;
  let value = data;
  for (const segment of path) {
    schema = schema === undefined ? undefined : step(schema, segment, value);
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<string | number, unknown>)[segment]
        : undefined;
    if (schema === undefined) return undefined;
  }
  return schema;
}

function step(schema: AnySchema, segment: string | number, value: unknown): AnySchema | undefined {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return step(def['innerType'] as AnySchema, segment, value);
  if (def.type === 'pipe') return step(def['in'] as AnySchema, segment, value);
  if (def.type === 'object') return (def['shape'] as Record<string, AnySchema>)[String(segment)];
  if (def.type === 'array') return def['element'] as AnySchema;
  if (def.type === 'record') return def['valueType'] as AnySchema;
  if (def.type === 'union') {
    for (const option of unionOptions(schema, value)) {
      const found = step(option, segment, value);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function unionOptions(schema: AnySchema, value: unknown): AnySchema[] {
  const def = defOf(schema);
  const options = def['options'] as AnySchema[];
  const discriminator = def['discriminator'] as string | undefined;
  if (discriminator === undefined || value === null || typeof value !== 'object') return options;
  const wanted = (value as Record<string, unknown>)[discriminator];
  const match = options.filter((o) => literalValues(objectShape(o)?.[discriminator]).includes(wanted));
  return match.length > 0 ? match : options;
}

function objectShape(schema: AnySchema): Record<string, AnySchema> | undefined {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return objectShape(def['innerType'] as AnySchema);
  if (def.type === 'pipe') return objectShape(def['in'] as AnySchema);
  if (def.type === 'object') return def['shape'] as Record<string, AnySchema>;
  return undefined;
}

function literalValues(schema: AnySchema | undefined): unknown[] {
  if (schema === undefined) return [];
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return literalValues(def['innerType'] as AnySchema);
  if (def.type === 'literal') return def['values'] as unknown[];
  if (def.type === 'enum') return Object.values(def['entries'] as Record<string, unknown>);
  return [];
}

/** The keys an object schema at `path` accepts (union of all options for unions). */
export function allowedKeys(root: AnySchema, path: DocPath, data: unknown): string[] {
  const schema = schemaAt(root, path, data);
  if (schema === undefined) return [];
  const keys = new Set<string>();
  const collect = (s: AnySchema, value: unknown): void => {
    const def = defOf(s);
    if (WRAPPERS.has(def.type)) return collect(def['innerType'] as AnySchema, value);
    if (def.type === 'pipe') return collect(def['in'] as AnySchema, value);
    if (def.type === 'object') for (const k of Object.keys(def['shape'] as object)) keys.add(k);
    if (def.type === 'union') for (const o of unionOptions(s, value)) collect(o, value);
  };
  collect(schema, valueAt(data, path));
  return [...keys];
}

/** The `.describe()` text nearest to the value: what is allowed here, in words. */
export function describedAt(root: AnySchema, path: DocPath, data: unknown): string | undefined {
  let schema = schemaAt(root, path, data);
  while (schema !== undefined) {
    const description = (schema as unknown as { description?: string }).description;
    if (description) return description;
    const def = defOf(schema);
    schema = WRAPPERS.has(def.type)
      ? (def['innerType'] as AnySchema)
      : def.type === 'pipe'
        ? (def['in'] as AnySchema)
        : undefined;
  }
  return undefined;
}

function isIntegerSchema(root: AnySchema, path: DocPath, data: unknown): boolean {
  let schema = schemaAt(root, path, data);
  while (schema !== undefined) {
    const def = defOf(schema);
    if (def.type === 'number') return (schema as unknown as { format?: string }).format === 'safeint';
    schema = WRAPPERS.has(def.type)
      ? (def['innerType'] as AnySchema)
      : def.type === 'pipe'
        ? (def['in'] as AnySchema)
        : undefined;
  }
  return false;
}

export function valueAt(data: unknown, path: DocPath): unknown {
  let value = data;
  for (const segment of path) {
    value =
      value !== null && typeof value === 'object'
        ? (value as Record<string | number, unknown>)[segment]
        : undefined;
  }
  return value;
}

export function dotted(path: DocPath): string {
  return path.join('.');
}

/** How a given value is shown in a message; secrets show only where they came from. */
export function shown(value: unknown, path: DocPath, secrets: readonly SecretRef[]): string {
  const secret = secretAt(secrets, path);
  if (secret) return redactionMarker(secret.env);
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: '`true` or `false`',
  object: 'a mapping (key: value)',
  array: 'a list',
  int: 'an integer',
};

export interface TranslateContext {
  schema: AnySchema;
  data: unknown;
  source?: SourceFile;
  secrets: readonly SecretRef[];
}

/** One or more ValidationIssues per zod issue (an unknown-keys issue names each key). */
export function translateZodIssues(
  issues: readonly z.core.$ZodIssue[],
  ctx: TranslateContext,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) out.push(...translate(issue, ctx));
  return out;
}

function translate(issue: z.core.$ZodIssue, ctx: TranslateContext): ConfigIssue[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const where = `\`${dotted(path) || '(document)'}\``;
  const value = valueAt(ctx.data, path);
  const given = shown(value, path, ctx.secrets);
  const allowed = describedAt(ctx.schema, path, ctx.data);
  const at = (
    code: ConfigIssueCode,
    message: string,
    p: DocPath = path,
    pos = ctx.source?.locate(p),
  ): ConfigIssue => withPosition({ code, path: dotted(p), message }, ctx.source?.file, pos);

  switch (issue.code) {
    case 'unrecognized_keys': {
      const keys = allowedKeys(ctx.schema, path, ctx.data);
      return issue.keys.map((key) => {
        const guess = closest(key, keys);
        const hint = guess
          ? ` — did you mean \`${guess}\`?`
          : keys.length > 0
            ? `; allowed here: ${keys.join(', ')}`
            : '';
        const keyPath = [...path, key];
        return at(
          'UNKNOWN_KEY',
          `unknown key \`${key}\`${path.length ? ` in ${where}` : ''}${hint}`,
          keyPath,
          ctx.source?.locateKey(path, key),
        );
      });
    }
    case 'invalid_type': {
      const expected =
        allowed ??
        ARTICLE[isIntegerSchema(ctx.schema, path, ctx.data) ? 'int' : issue.expected] ??
        issue.expected;
      if (value === undefined) return [at('MISSING_KEY', `${where} is missing; give ${expected}`)];
      return [at('INVALID_TYPE', `${where} is ${given} (${kindOf(value)}); use ${expected}`)];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const op = small ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<';
      let rule: string;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        rule = `${isIntegerSchema(ctx.schema, path, ctx.data) ? 'an integer' : 'a number'} ${op} ${String(bound)}`;
      } else if (issue.origin === 'array' || issue.origin === 'set') {
        rule = `a list with ${small ? 'at least' : 'at most'} ${String(bound)} item${Number(bound) === 1 ? '' : 's'}`;
      } else if (issue.origin === 'string') {
        rule =
          small && Number(bound) === 1
            ? 'a non-empty string'
            : `a string of ${small ? 'at least' : 'at most'} ${String(bound)} characters`;
      } else {
        rule = `a value ${op} ${String(bound)}`;
      }
      return [
        at('OUT_OF_RANGE', `${where} is ${given}; use ${allowed && !/^an? /.test(rule) ? allowed : rule}`),
      ];
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => String(v));
      const guess = typeof value === 'string' ? closest(value, options) : undefined;
      return [
        at(
          'INVALID_VALUE',
          `${where} is ${given}; use ${options.length === 1 ? `\`${options[0]}\`` : `one of ${options.map((o) => `\`${o}\``).join(', ')}`}${guess ? ` — did you mean \`${guess}\`?` : ''}`,
        ),
      ];
    }
    case 'invalid_union': {
      const disc = issue as unknown as { note?: string; discriminator?: string; options?: unknown[] };
      if (disc.discriminator !== undefined && Array.isArray(disc.options)) {
        const options = disc.options.map(String);
        const guess = typeof value === 'string' ? closest(value, options) : undefined;
        if (value === undefined)
          return [
            at('MISSING_KEY', `${where} is missing; use one of ${options.map((o) => `\`${o}\``).join(', ')}`),
          ];
        return [
          at(
            'INVALID_VALUE',
            `${where} is ${given}; use one of ${options.map((o) => `\`${o}\``).join(', ')}${guess ? ` — did you mean \`${guess}\`?` : ''}`,
          ),
        ];
      }
      if (value === undefined)
        return [at('MISSING_KEY', `${where} is missing; give ${allowed ?? 'a value'}`)];
      return [at('INVALID_TYPE', `${where} is ${given}; use ${allowed ?? 'a value of another type'}`)];
    }
    case 'invalid_format':
      return [at('INVALID_VALUE', `${where} is ${given}; use ${allowed ?? `a valid ${issue.format}`}`)];
    case 'custom': {
      // Our own refinements word their message as "is X; use Y" or as a full sentence.
      const message =
        issue.message.startsWith('is ') || issue.message.startsWith('must ')
          ? `${where} ${issue.message}`
          : `${where}: ${issue.message}`;
      const code = (issue.params as { code?: ConfigIssueCode } | undefined)?.code ?? 'INVALID_VALUE';
      return [at(code, message)];
    }
    default:
      return [at('INVALID_VALUE', `${where}: ${issue.message} (given ${given})`)];
  }
}

export function withPosition(
  issue: ConfigIssue,
  file: string | undefined,
  pos: { line: number; column: number } | undefined,
): ConfigIssue {
  const out: ConfigIssue = { ...issue };
  if (file !== undefined) out.file = file;
  if (pos !== undefined) {
    out.line = pos.line;
    out.column = pos.column;
  }
  return out;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}
