// Integration tests skip a part (with its reason) when a prerequisite is missing, so they also run
// on a partial developer machine. This file makes sure such skips cannot hide anything where the
// prerequisites are supposed to be present: everything scripts/setup.sh installs must be here.
// Only k6 may be absent (it cannot be installed from Debian or npm); a machine without a Docker
// engine must say so with OWUI_CHAOS_NO_DOCKERD=1, and one without the real Open WebUI install
// (`lab install`: Open WebUI from PyPI and toxiproxy-server) with OWUI_CHAOS_NO_REAL_OPENWEBUI=1.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBinary } from '../../src/infra/process/binaries.js';
import {
  DEFAULT_OPENWEBUI_VERSION,
  findOpenWebui,
  findToxiproxyServer,
} from '../../src/lab/openwebui/install.js';
import { findPostgresBin } from '../../src/lab/postgres/postgres.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('prerequisites installed by scripts/setup.sh', () => {
  it.each([
    ['nginx', 'nginx'],
    ['redis-server', 'redis-server'],
    ['redis-sentinel', 'redis-sentinel'],
    ['chromium', 'chromium'],
    ['xmllint', 'libxml2-utils'],
    ['prometheus', 'prometheus'],
    ['ss', 'iproute2'],
  ])('%s is installed (Debian package %s)', (binary) => {
    expect(findBinary(binary), `${binary} missing: run bash scripts/setup.sh`).toBeDefined();
  });

  it('the CLI is built (dist/)', () => {
    expect(existsSync(join(ROOT, 'dist', 'commands', 'run.js')), 'run npm run build').toBe(true);
  });

  it.skipIf(process.env.OWUI_CHAOS_NO_DOCKERD === '1')('a Docker engine answers', () => {
    let ok = true;
    try {
      execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
    } catch {
      ok = false;
    }
    expect(
      ok,
      'no Docker engine: run bash scripts/setup.sh (starts dockerd), or set OWUI_CHAOS_NO_DOCKERD=1',
    ).toBe(true);
  });

  it('PostgreSQL is installed (Debian package postgresql)', () => {
    expect(findPostgresBin(), 'postgres missing: run bash scripts/setup.sh').toBeDefined();
  });

  const noReal = process.env.OWUI_CHAOS_NO_REAL_OPENWEBUI === '1';
  it.skipIf(noReal)(`Open WebUI ${DEFAULT_OPENWEBUI_VERSION} is installed (owui-chaos lab install)`, () => {
    expect(
      findOpenWebui(DEFAULT_OPENWEBUI_VERSION),
      'no Open WebUI install: run bash scripts/setup.sh (or owui-chaos lab install), or set OWUI_CHAOS_NO_REAL_OPENWEBUI=1',
    ).toBeDefined();
  });

  it.skipIf(noReal)('toxiproxy-server is installed (owui-chaos lab install)', () => {
    expect(findToxiproxyServer(), 'no toxiproxy-server: run bash scripts/setup.sh').toBeDefined();
  });
});
