// Shared by the config tests: fixture paths and "this must throw a ValidationError" with the
// error returned for further assertions.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { ValidationError } from '../../../../src/core/errors.js';
import type { ConfigIssue } from '../../../../src/core/config/issues.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures');
export const EXPERIMENTS = path.join(ROOT, 'experiments');

export function experimentFixture(kind: 'valid' | 'invalid', name: string): string {
  return path.join(FIXTURES, 'experiments', kind, name);
}

export function targetFixture(kind: 'valid' | 'invalid', name: string): string {
  return path.join(FIXTURES, 'targets', kind, name);
}

export type ConfigValidationError = Omit<ValidationError, 'issues'> & { issues: ConfigIssue[] };

export async function rejection(promise: Promise<unknown>): Promise<ConfigValidationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ConfigValidationError;
  }
  throw new Error('expected a ValidationError, but the promise resolved');
}

/** Secrets used by fixtures that reference them; distinctive so a leak is easy to find. */
export const SECRET_ENV = {
  OWUI_ADMIN_PASSWORD: 'admin-pw-7f3e9c',
  OWUI_LOAD_PASSWORD: 'load-pw-2b8d41',
  OWUI_API_KEY_1: 'sk-key-5a6c0e',
} as const;
