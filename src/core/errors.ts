// Error model shared by every layer. Each error carries a stable `code`, the process exit code of
// DESIGN §7, suggestions a person can paste, and the cause chain. Invalid input and runtime
// failure are different classes, so the CLI can tell "fix your file" from "the target broke".

export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  invalidInput: 3,
  preflightFailed: 4,
  sloBreached: 10,
  faultFailed: 11,
  loadGeneratorError: 12,
  interrupted: 13,
  rollbackFailed: 14,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

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
