// The conformance suite against the simulator lab (2 replicas, Sentinel, Toxiproxy), simulating
// the newest real version the suite also runs against (real-openwebui.test.ts).

import { join } from 'node:path';
import { defineConformanceSuite } from './suite.js';
import { simulatorTarget } from './targets.js';
import { CONFORMANCE_VERSION } from './versions.js';

const HOME = process.env['OWUI_CHAOS_HOME'] ?? join(import.meta.dirname, '..', '..', '..', '.owui-chaos');

defineConformanceSuite(`simulator (OWUI_SIM_VERSION=${CONFORMANCE_VERSION})`, () =>
  simulatorTarget({ version: CONFORMANCE_VERSION, name: `conformance-sim-${process.pid}`, home: HOME }),
);
