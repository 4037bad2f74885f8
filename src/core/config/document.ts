// The one pipeline every config file goes through: read → YAML with positions → environment
// references → overrides (env vars and flags, see precedence.ts) → zod schema → cross-field
// checks → ValidationError listing every problem. Contract: either returns the parsed value with
// the secrets it holds, or throws a ValidationError (exit 3) whose issues all carry a path, the
// file and (where the file has the node) line and column; secret values appear in neither.

import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { ValidationError } from '../errors.js';
import { resolveEnv, type Env } from './env.js';
import {
  dotted,
  translateZodIssues,
  withPosition,
  type ConfigIssue,
  type ConfigIssueCode,
} from './issues.js';
import { scrubText, type SecretRef } from './secrets.js';
import { parseSource, type DocPath, type SourceFile } from './source.js';
import { MAX_FILE_BYTES_ENV, MAX_FILE_ENTRIES_ENV, fileLimits } from './limits.js';

export type { Env } from './env.js';

export type DocumentKind = 'experiment' | 'target' | 'slos';

/**
 * A problem found by a cross-field check, before it gets a file position. `issue` carries a
 * problem already located in another file (e.g. the experiment's target), passed through as is.
 */
export interface Finding {
  code: ConfigIssueCode;
  path: DocPath;
  message: string;
  issue?: ConfigIssue;
}

/** A value set from outside the file (an env var or a flag), applied before validation. */
export interface Override {
  path: DocPath;
  value: unknown;
  /** Where it came from, for messages: "flag --duration", "env OWUI_CHAOS_DURATION". */
  origin: string;
}

export interface DocumentOptions {
  schema: z.ZodType;
  kind: DocumentKind;
  env: Env;
  overrides?: readonly Override[];
  /** Cross-field checks on the schema-valid value; may return issues of other files (a target). */
  check?: (value: unknown) => Finding[] | Promise<Finding[]>;
  /** Problems that do not stop a run. */
  warn?: (value: unknown) => Finding[];
  notFoundSuggestions?: string[];
}

export interface LoadedDocument {
  /** Absolute path of the file. */
  file: string;
  /** The schema's output. */
  value: unknown;
  /** Values from secret environment variables, for `redact` and `scrubText`. */
  secrets: SecretRef[];
  /** Problems that do not stop a run (e.g. no time left to observe recovery). */
  warnings: ConfigIssue[];
}

const LABEL: Record<DocumentKind, string> = {
  experiment: 'Experiment',
  target: 'Target',
  slos: 'SLO defaults',
};
const EMPTY_HINT: Record<DocumentKind, string> = {
  experiment: 'an experiment needs at least `title:` and `load: { duration, chat | sockets }`',
  target: 'a target needs at least `openwebui: { url }`, `auth:` and `model:`',
  slos: 'give `slos: [...]`',
};
const CODE: Record<DocumentKind, string> = {
  experiment: 'EXPERIMENT_INVALID',
  target: 'TARGET_INVALID',
  slos: 'SLOS_INVALID',
};

export async function loadDocument(file: string, options: DocumentOptions): Promise<LoadedDocument> {
  let text: string;
  const limits = fileLimits(options.env);
  try {
    text = await readBounded(file, limits.maxBytes);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const shownName = displayPath(file);
    const reason =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${code ?? String(error)})`;
    const issue: ConfigIssue = {
      code: 'FILE_NOT_FOUND',
      path: '',
      file: shownName,
      message: `${shownName} ${reason}`,
    };
    throw new ValidationError(`${LABEL[options.kind]} file ${shownName} ${reason}`, [issue], {
      code: 'FILE_NOT_FOUND',
      cause: error,
      suggestions:
        options.notFoundSuggestions ?? (options.kind === 'experiment' ? ['owui-chaos experiment list'] : []),
    });
  }
  return parseDocumentText(text, file, options);
}

export async function parseDocumentText(
  text: string,
  file: string,
  options: DocumentOptions,
): Promise<LoadedDocument> {
  const shownName = displayPath(file);
  const source = parseSource(text, shownName, { maxEntries: fileLimits(options.env).maxEntries });
  if (source.syntaxIssues.length > 0) throw invalid(options.kind, shownName, source.syntaxIssues, []);

  if (source.data === null || source.data === undefined) {
    const issue: ConfigIssue = {
      code: 'MISSING_KEY',
      path: '',
      file: shownName,
      line: 1,
      column: 1,
      message: `the file is empty; ${EMPTY_HINT[options.kind]}`,
    };
    throw invalid(options.kind, shownName, [issue], []);
  }
  const resolved = resolveEnv(source.data, options.env);
  const issues: ConfigIssue[] = resolved.issues.map((issue) =>
    withPosition(issue, shownName, source.locate(issue.path.split('.').filter(Boolean).map(segment))),
  );

  let data = resolved.data;
  const overridden: Override[] = [];
  for (const override of options.overrides ?? []) {
    data = setIn(data, override.path, override.value);
    overridden.push(override);
  }

  const parsed = options.schema.safeParse(data);
  if (!parsed.success) {
    const translated = translateZodIssues(parsed.error.issues, {
      schema: options.schema,
      data,
      source,
      secrets: resolved.secrets,
    });
    for (const issue of translated) {
      if (resolved.missingPaths.some((p) => dotted(p) === issue.path)) continue;
      issues.push(fromOverride(issue, overridden));
    }
    throw invalid(options.kind, shownName, issues, resolved.secrets);
  }
  const locate = (finding: Finding): ConfigIssue =>
    finding.issue ??
    fromOverride(
      withPosition(
        { code: finding.code, path: dotted(finding.path), message: finding.message },
        shownName,
        source.locate(finding.path),
      ),
      overridden,
    );
  issues.push(...((await options.check?.(parsed.data)) ?? []).map(locate));
  if (issues.length > 0) throw invalid(options.kind, shownName, issues, resolved.secrets);
  const warnings = (options.warn?.(parsed.data) ?? []).map(locate);
  return { file: path.resolve(file), value: parsed.data, secrets: resolved.secrets, warnings };
}

function invalid(
  kind: DocumentKind,
  file: string,
  issues: ConfigIssue[],
  secrets: readonly SecretRef[],
): ValidationError {
  // In file order, so a person can fix them top to bottom; issues without a position go last.
  const clean = issues
    .map((issue) => ({ ...issue, message: scrubText(issue.message, secrets) }))
    .sort(
      (a, b) =>
        (a.file ?? '').localeCompare(b.file ?? '') ||
        (a.line ?? Infinity) - (b.line ?? Infinity) ||
        (a.column ?? 0) - (b.column ?? 0),
    );
  const codes = new Set(clean.map((i) => i.code));
  const only = (code: ConfigIssueCode): boolean => codes.size === 1 && codes.has(code);
  const code = only('YAML_SYNTAX') ? 'YAML_SYNTAX' : only('ENV_MISSING') ? 'ENV_MISSING' : CODE[kind];
  const count = clean.length === 1 ? 'has 1 problem' : `has ${clean.length} problems`;
  const message =
    code === 'YAML_SYNTAX'
      ? `${LABEL[kind]} file ${file} is not valid YAML`
      : `${LABEL[kind]} file ${file} ${count}`;
  const suggestions: string[] = [];
  for (const issue of clean) {
    const name =
      issue.code === 'ENV_MISSING' ? /`([A-Za-z_][A-Za-z0-9_]*)`/.exec(issue.message)?.[1] : undefined;
    if (name !== undefined && !suggestions.some((s) => s.startsWith(`export ${name}=`)))
      suggestions.push(`export ${name}=…`);
  }
  suggestions.push(
    kind === 'target'
      ? `owui-chaos experiment validate <experiment> --target ${file}`
      : `owui-chaos experiment validate ${file}`,
  );
  return new ValidationError(message, clean, { code, suggestions });
}

function fromOverride(issue: ConfigIssue, overrides: readonly Override[]): ConfigIssue {
  const override = overrides.find(
    (o) => issue.path === dotted(o.path) || issue.path.startsWith(`${dotted(o.path)}.`),
  );
  if (override === undefined) return issue;
  const { file: _file, line: _line, column: _column, ...rest } = issue;
  return { ...rest, message: `${issue.message} (set by ${override.origin})` };
}

function setIn(data: unknown, at: DocPath, value: unknown): unknown {
  if (at.length === 0) return value;
  const [head, ...rest] = at as [string | number, ...Array<string | number>];
  const base = (
    data !== null && typeof data === 'object'
      ? Array.isArray(data)
        ? [...(data as unknown[])]
        : { ...(data as object) }
      : {}
  ) as Record<string | number, unknown>;
  base[head] = setIn(base[head], rest, value);
  return base;
}

function segment(text: string): string | number {
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** A path relative to cwd when the file is below it (shorter messages), else absolute. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

export type { SourceFile };

/**
 * Reads a config file, refusing what is not a regular file (a FIFO would block the read, and with
 * it every signal handler, for ever; a device may never end) and anything larger than `maxBytes`
 * (checked on the size and again while reading, for a file that grows).
 */
async function readBounded(file: string, maxBytes: number): Promise<string> {
  const shownName = displayPath(file);
  const refuse = (reason: string, suggestion: string): ValidationError =>
    new ValidationError(
      `File ${shownName} ${reason}`,
      [{ code: 'FILE_NOT_FOUND', path: '', file: shownName, message: `${shownName} ${reason}` }],
      { code: 'FILE_REFUSED', suggestions: [suggestion] },
    );
  const info = await stat(file);
  if (info.isDirectory()) {
    const err = new Error(`EISDIR: ${file}`) as NodeJS.ErrnoException;
    err.code = 'EISDIR';
    throw err;
  }
  if (!info.isFile()) {
    const kind = info.isFIFO()
      ? 'a FIFO (named pipe)'
      : info.isCharacterDevice() || info.isBlockDevice()
        ? 'a device'
        : info.isSocket()
          ? 'a socket'
          : 'not a regular file';
    throw refuse(
      `is ${kind}, not a regular file; it was not read`,
      'Save the YAML to a regular file and pass that',
    );
  }
  const tooBig = refuse(
    `is larger than ${maxBytes} bytes (${info.size} bytes); config files are far smaller — it was not read`,
    `If the file really is this large: ${MAX_FILE_BYTES_ENV}=<bytes> (and ${MAX_FILE_ENTRIES_ENV}=<n> for more entries)`,
  );
  if (info.size > maxBytes) throw tooBig;
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw tooBig;
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    await handle.close();
  }
}
