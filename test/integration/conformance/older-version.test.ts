// The conformance suite against an older Open WebUI whose payloads differ from the newest (mode-B
// reply `{task_id}`, no chat creation, cumulative `output`+`content` frames): the simulator
// pretending to be that version, and the real release. Both must pass, so version detection and
// the version table are checked against reality. Not part of `npm test` (it starts two more real
// replicas): run it with `npm run test:conformance-older`, which sets OWUI_CHAOS_CONFORMANCE_OLDER=1.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineConformanceSuite } from './suite.js';
import { realInstalled, realTarget, simulatorTarget } from './targets.js';
import { CONFORMANCE_OLDER_VERSION } from './versions.js';

const HOME = process.env['OWUI_CHAOS_HOME'] ?? join(import.meta.dirname, '..', '..', '..', '.owui-chaos');
const enabled = process.env['OWUI_CHAOS_CONFORMANCE_OLDER'] === '1';

if (enabled) {
  defineConformanceSuite(`simulator (OWUI_SIM_VERSION=${CONFORMANCE_OLDER_VERSION})`, () =>
    simulatorTarget({
      version: CONFORMANCE_OLDER_VERSION,
      name: `conformance-sim-old-${process.pid}`,
      home: HOME,
    }),
  );
  defineConformanceSuite(`real Open WebUI ${CONFORMANCE_OLDER_VERSION}`, () =>
    realTarget({
      version: CONFORMANCE_OLDER_VERSION,
      dir: join(HOME, `conformance-real-old-${process.pid}`),
    }),
  );
} else {
  describe.skip('older-version conformance (npm run test:conformance-older)', () => {
    it('needs OWUI_CHAOS_CONFORMANCE_OLDER=1', () =>
      expect(realInstalled(CONFORMANCE_OLDER_VERSION)).toBe(true));
  });
}
