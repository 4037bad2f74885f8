// The sensitivity matrix's fast subset (the full one is `npm run test:matrix`): rows that stop at
// the steady state or at preflight, on labs built with the mistake, so the default suite proves in
// ~2 minutes that a broken deployment cannot pass. The healthy controls of the same experiments
// are rows of the full matrix; the unit tests hold the healthy control of every detector.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAST_SUBSET, MATRIX } from '../../matrix/catalogue.js';
import { runRow, startMatrixLab, stopMatrixLab } from '../../matrix/run-row.js';

const home = mkdtempSync(join(tmpdir(), 'owui-matrix-fast-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('sensitivity matrix (fast subset)', () => {
  for (const [i, pick] of FAST_SUBSET.entries()) {
    const row = MATRIX.find((r) => r.misconfig === pick.misconfig && r.experiment === pick.experiment)!;
    it(`${row.misconfig}: ${row.experiment} exits ${row.exit}, caught by ${row.caughtBy.join(' + ')}`, async () => {
      const name = `mxf-${process.pid}-${i}`;
      const stateDir = await startMatrixLab(home, name, row.misconfig);
      try {
        const out = await runRow(home, name, row.experiment, join(home, 'runs', name), ['--workers', '0']);
        expect(out.names.filter((n) => n.startsWith('MISMATCH'))).toEqual([]);
        expect({ exit: out.exit, summary: out.summary }).toMatchObject({ exit: row.exit });
        for (const n of row.caughtBy) expect(out.names).toContain(n);
      } finally {
        await stopMatrixLab(stateDir);
      }
    }, 240_000);
  }
});
