// The conformance suite against real Open WebUI (pip-installed, offline, 2 replicas on one
// database, Redis through Sentinel). Where scripts/setup.sh installed Open WebUI this must run:
// a missing venv fails the suite; a machine without it says so with OWUI_CHAOS_NO_REAL_OPENWEBUI=1.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineConformanceSuite } from './suite.js';
import { realInstalled, realTarget } from './targets.js';
import { CONFORMANCE_VERSION } from './versions.js';

const HOME = process.env['OWUI_CHAOS_HOME'] ?? join(import.meta.dirname, '..', '..', '..', '.owui-chaos');

if (realInstalled(CONFORMANCE_VERSION) || process.env['OWUI_CHAOS_NO_REAL_OPENWEBUI'] !== '1') {
  defineConformanceSuite(`real Open WebUI ${CONFORMANCE_VERSION}`, () =>
    realTarget({ version: CONFORMANCE_VERSION, dir: join(HOME, `conformance-real-${process.pid}`) }),
  );
} else {
  describe.skip(`conformance: real Open WebUI ${CONFORMANCE_VERSION} (OWUI_CHAOS_NO_REAL_OPENWEBUI=1)`, () => {
    it('needs the Open WebUI venv', () => expect(realInstalled(CONFORMANCE_VERSION)).toBe(true));
  });
}
