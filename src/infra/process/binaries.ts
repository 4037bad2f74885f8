// Finds the system binaries the lab needs and fails at once, naming the Debian package to install.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PreflightError } from '../../core/errors.js';

const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export function requireBinary(name: string, debianPackage: string): string {
  const found = findBinary(name);
  if (found) return found;
  throw new PreflightError(`\`${name}\` is not installed (needed by the lab)`, {
    code: 'LAB_BINARY_MISSING',
    suggestions: [`sudo apt-get install -y ${debianPackage}`, 'bash scripts/setup.sh'],
  });
}
