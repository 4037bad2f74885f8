// Error model shared by every layer. Each error carries a stable `code`, the process exit code of
// DESIGN §7, suggestions a person can paste, and the cause chain. Invalid input and runtime
// failure are different classes, so the CLI can tell "fix your file" from "the target broke".

/**
 * Every exit code, once: its value, its name in code and what it means to a person. The help text
 * of the commands and the table in docs/cli.md are generated from this table
 * (`exitCodeHelp`, `exitCodeMarkdown`; test/unit/core/exit-codes.test.ts keeps the doc in step).
 */
export const EXIT_CODES = [
  { code: 0, name: 'ok', meaning: 'all SLOs met' },
  { code: 1, name: 'bug', meaning: 'a bug in owui-chaos' },
  {
    code: 2,
    name: 'usage',
    meaning: 'wrong command-line usage: unknown flag, bad flag value, missing argument',
  },
  { code: 3, name: 'invalidInput', meaning: 'invalid experiment, target or other input file' },
  {
    code: 4,
    name: 'preflightFailed',
    meaning: 'preflight or steady state failed (nothing was injected)',
  },
  { code: 10, name: 'sloBreached', meaning: 'SLO not met (breached, or a gating SLO without data)' },
  { code: 11, name: 'faultFailed', meaning: 'a fault or probe failed' },
  { code: 12, name: 'loadGeneratorError', meaning: 'load generator error' },
  { code: 13, name: 'interrupted', meaning: 'interrupted (SIGINT/SIGTERM)' },
  {
    code: 14,
    name: 'rollbackFailed',
    meaning: 'rollback failed: something may still be injected (printed last)',
  },
] as const;

type ExitCodeRow = (typeof EXIT_CODES)[number];
export const ExitCode = Object.fromEntries(EXIT_CODES.map((r) => [r.name, r.code])) as {
  readonly [R in ExitCodeRow as R['name']]: R['code'];
};
export type ExitCodeValue = ExitCodeRow['code'];
export type ExitCodeName = ExitCodeRow['name'];

/** "Exit codes: 0 all SLOs met · 10 …" for a command's help, listing `names` (default: all). */
export function exitCodeHelp(names?: readonly ExitCodeName[]): string {
  const rows = names ? EXIT_CODES.filter((r) => names.includes(r.name)) : EXIT_CODES;
  return `Exit codes: ${rows.map((r) => `${r.code} ${r.meaning}`).join(' · ')}.`;
}

/** The Markdown table of docs/cli.md. */
export function exitCodeMarkdown(): string {
  return [
    '| exit code | name | meaning |',
    '| --- | --- | --- |',
    ...EXIT_CODES.map((r) => `| ${r.code} | \`${r.name}\` | ${r.meaning} |`),
  ].join('\n');
}

export interface OwuiChaosErrorOptions {
  code: string;
  exitCode?: ExitCodeValue;
  suggestions?: string[];
  cause?: unknown;
}

export class OwuiChaosError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly suggestions: string[];

  constructor(message: string, options: OwuiChaosErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.exitCode = options.exitCode ?? ExitCode.bug;
    this.suggestions = options.suggestions ?? [];
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      exitCode: this.exitCode,
      message: this.message,
      suggestions: this.suggestions,
      causes: causeChain(this).map((c) => c.message),
    };
  }
}

/** Wrong command-line usage: unknown flag, conflicting flags, missing argument. Exit 2. */
export class UsageError extends OwuiChaosError {
  constructor(message: string, options: Omit<OwuiChaosErrorOptions, 'exitCode'> = { code: 'USAGE' }) {
    super(message, { ...options, exitCode: ExitCode.usage });
  }
}

/** One problem found in a file: where it is and what to do about it. */
export interface ValidationIssue {
  /** Dotted path inside the document, e.g. `timeline.2.params.latency`; empty for the whole file. */
  path: string;
  message: string;
  /** Stable code of this one problem, e.g. `UNKNOWN_KEY`, `ENV_MISSING`. */
  code?: string;
  file?: string;
  line?: number;
  column?: number;
}

export function formatIssue(issue: ValidationIssue): string {
  const where = issue.file
    ? `${issue.file}${issue.line === undefined ? '' : `:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`}`
    : '';
  // Messages that already start with the path don't get it twice.
  const path = issue.path && !issue.message.startsWith(`\`${issue.path}\``) ? `\`${issue.path}\`` : '';
  return [where, path].filter(Boolean).join(' ') + (where || path ? ': ' : '') + issue.message;
}

/** An experiment or target file (or another input document) is invalid. Exit 3. */
export class ValidationError extends OwuiChaosError {
  readonly issues: ValidationIssue[];

  constructor(
    message: string,
    issues: ValidationIssue[],
    options: Omit<OwuiChaosErrorOptions, 'exitCode'> = { code: 'INVALID_INPUT' },
  ) {
    super(message, { ...options, exitCode: ExitCode.invalidInput });
    this.issues = issues;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** The target is not ready: unreachable, auth fails, a binary is missing, steady state broken. Exit 4. */
export class PreflightError extends OwuiChaosError {
  constructor(message: string, options: Omit<OwuiChaosErrorOptions, 'exitCode'>) {
    super(message, { ...options, exitCode: ExitCode.preflightFailed });
  }
}

/** A fault could not be injected, or a probe failed. Exit 11. */
export class FaultError extends OwuiChaosError {
  constructor(message: string, options: Omit<OwuiChaosErrorOptions, 'exitCode'>) {
    super(message, { ...options, exitCode: ExitCode.faultFailed });
  }
}

/** The load generator (Node engine or k6) failed. Exit 12. */
export class LoadGeneratorError extends OwuiChaosError {
  constructor(message: string, options: Omit<OwuiChaosErrorOptions, 'exitCode'>) {
    super(message, { ...options, exitCode: ExitCode.loadGeneratorError });
  }
}

/** The run was interrupted (SIGINT/SIGTERM). Exit 13. */
export class InterruptedError extends OwuiChaosError {
  constructor(message: string, options: Omit<OwuiChaosErrorOptions, 'exitCode'> = { code: 'INTERRUPTED' }) {
    super(message, { ...options, exitCode: ExitCode.interrupted });
  }
}

/** A revert failed: something may still be injected. Exit 14, always printed last. */
export class RollbackError extends OwuiChaosError {
  constructor(message: string, options: Omit<OwuiChaosErrorOptions, 'exitCode'>) {
    super(message, { ...options, exitCode: ExitCode.rollbackFailed });
  }
}

/** The error and its causes, outermost first. Non-Error causes are wrapped for printing. */
export function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  let current: unknown = error;
  const seen = new Set<unknown>();
  while (current !== undefined && current !== null && !seen.has(current) && chain.length < 10) {
    seen.add(current);
    chain.push(current instanceof Error ? current : new Error(String(current)));
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
