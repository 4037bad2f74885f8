// Base for every owui-chaos command: `--json` (the command's return value on stdout), `--out DIR`,
// and one place that turns any error into DESIGN §7's exit codes and prints code, message,
// suggestions and cause chain. Commands stay thin: parse, wire, call core, render.

import { Command, Errors, Flags } from '@oclif/core';
import {
  ExitCode,
  OwuiChaosError,
  UsageError,
  ValidationError,
  causeChain,
  formatIssue,
} from '../core/errors.js';
import { escapeTerminal } from '../core/terminal-text.js';
import { stripOclifParsePrefix } from './flags.js';

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    out: Flags.string({
      description: 'Directory for the files this command writes',
      helpGroup: 'GLOBAL',
    }),
  };

  /** Human output goes to stderr-free stdout only when not in --json mode. */
  protected say(text: string): void {
    if (!this.jsonEnabled()) this.log(escapeTerminal(text));
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    const error = toOwuiChaosError(err);
    process.exitCode = error.exitCode;
    if (this.jsonEnabled()) {
      this.logJson({ error: error.toJSON() });
      return undefined;
    }
    process.stderr.write(renderError(error));
    return undefined;
  }
}

/** oclif parse errors become UsageError (exit 2); anything unknown is a bug (exit 1). */
export function toOwuiChaosError(err: unknown): OwuiChaosError {
  if (err instanceof OwuiChaosError) {
    // A typed flag's UsageError (src/cli/flags.ts) comes back wrapped in oclif's parse prefix.
    err.message = stripOclifParsePrefix(err.message);
    return err;
  }
  if (err instanceof Errors.CLIError) {
    const exit = (err as Errors.CLIError).oclif?.exit;
    if (exit === 0) return new OwuiChaosError(err.message, { code: 'EXIT', exitCode: ExitCode.ok });
    return new UsageError(err.message, {
      code: 'USAGE',
      suggestions: ['owui-chaos help', ...((err as Errors.CLIError).suggestions ?? [])],
    });
  }
  return new OwuiChaosError(err instanceof Error ? err.message : String(err), {
    code: 'BUG',
    exitCode: ExitCode.bug,
    cause: err instanceof Error ? err.cause : undefined,
    suggestions: ['This is a bug in owui-chaos; please report it with the output above.'],
  });
}

export function renderError(error: OwuiChaosError): string {
  const lines = [`Error [${error.code}]: ${error.message}`];
  if (error instanceof ValidationError) {
    for (const issue of error.issues) lines.push(`  - ${formatIssue(issue)}`);
  }
  for (const cause of causeChain(error).slice(1)) lines.push(`  Caused by: ${cause.message}`);
  if (error.suggestions.length > 0) {
    lines.push('Try this:');
    for (const s of error.suggestions) lines.push(`  ${s}`);
  }
  return escapeTerminal(lines.join('\n')) + '\n';
}
