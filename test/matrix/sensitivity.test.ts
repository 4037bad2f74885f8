// The full sensitivity matrix (`npm run test:matrix`, ~25 min on 2 cores): every row of
// test/matrix/catalogue.ts run for real on a lab built with its misconfiguration; each must exit
// with its code and be caught by what the catalogue names. Writes the measured matrix to
// $OWUI_MATRIX_OUT (default .owui-chaos/matrix.json) for docs/sensitivity-matrix.md.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MATRIX } from './catalogue.js';
import { runRow, startMatrixLab, stopMatrixLab, type RowOutcome } from './run-row.js';

const home = mkdtempSync(join(tmpdir(), 'owui-matrix-'));
const measured: Array<{ misconfig: string; experiment: string } & RowOutcome> = [];
const only = process.env['OWUI_MATRIX_ONLY']?.split(',');
const rows = MATRIX.filter((r) => !only || only.includes(r.misconfig));
const byMisconfig = [...new Set(rows.map((r) => r.misconfig))];

afterAll(() => {
  writeFileSync(
    process.env['OWUI_MATRIX_OUT'] ?? join('.owui-chaos', 'matrix.json'),
    JSON.stringify(measured, null, 2),
  );
  rmSync(home, { recursive: true, force: true });
});

describe.each(byMisconfig)('lab with %s', (misconfig) => {
  for (const row of rows.filter((r) => r.misconfig === misconfig)) {
    it(`${row.experiment} → exit ${row.exit}${row.caughtBy.length ? `, caught by ${row.caughtBy.join(' + ')}` : ''}`, async () => {
      const name = `mx-${byMisconfig.indexOf(misconfig)}`;
      const stateDir = await startMatrixLab(home, name, misconfig);
      try {
        const out = await runRow(
          home,
          name,
          row.experiment,
          join(home, 'runs', `${name}-${row.experiment}`),
          row.duration ? ['--duration', row.duration] : [],
        );
        measured.push({ misconfig, experiment: row.experiment, ...out });
        expect(out.names.filter((n) => n.startsWith('MISMATCH'))).toEqual([]);
        expect({ exit: out.exit, summary: out.summary }).toMatchObject({ exit: row.exit });
        for (const name of row.caughtBy) expect(out.names).toContain(name);
        // A healthy row names nothing.
        if (row.caughtBy.length === 0) expect(out.names).toEqual([]);
      } finally {
        await stopMatrixLab(stateDir);
      }
    }, 400_000);
  }
});
