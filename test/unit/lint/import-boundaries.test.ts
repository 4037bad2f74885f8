// The import boundaries of docs/DESIGN.md §2 are enforced by eslint.config.js. Flat config does not
// merge rule options across blocks, so a later block can silently drop an earlier ban; these cases
// lint real snippets as if they sat in each folder and assert the ban (and its absence) holds.

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

// ESLint loads its parsers on the first lint: seconds on a busy machine, hence the timeout.
describe('import boundaries', { timeout: 60_000 }, () => {
  it.each([
    ['src/protocol/x.ts', "import 'ws';", /SDKs/],
    ['src/protocol/x.ts', "import { readFileSync } from 'node:fs';", /no Node APIs/],
    ['src/protocol/x.ts', "import { ExitCode } from '../core/errors.js';", /imports nothing of ours/],
    ['src/protocol/x.ts', "import { x } from '../engines/node/engine.js';", /imports nothing of ours/],
    ['src/core/x.ts', "import Docker from 'dockerode';", /SDKs/],
    ['src/core/x.ts', "import { Redis } from 'ioredis';", /SDKs/],
    ['src/core/x.ts', "import { x } from '../drivers/health.js';", /bottom of the import graph/],
    ['src/core/x.ts', "import { x } from '../app/drivers.js';", /bottom of the import graph/],
    ['src/engines/measure/x.ts', "import { x } from 'node:fs';", /bundled into k6/],
    ['src/drivers/x/y.ts', "import { isAlive } from '../../lab/process/daemon.js';", /src\/infra/],
    ['src/drivers/x/y.ts', "import type { LabState } from '../../lab/state.js';", /src\/infra/],
    ['src/drivers/x/y.ts', "import { labUp } from '../../lab/lab.js';", /src\/infra/],
    [
      'src/lab/x/y.ts',
      "import { x } from '../../drivers/health.js';",
      /lab imports core, protocol and infra/,
    ],
    ['src/core/x.ts', "import { readLabState } from '../infra/lab-state.js';", /bottom of the import graph/],
    ['src/infra/x.ts', "import { labUp } from '../lab/lab.js';", /imports neither/],
    ['src/infra/x.ts', "import { x } from '../drivers/health.js';", /imports neither/],
  ])('%s: `%s` is refused', async (file, code, message) => {
    const found = await restrictedImports(file, `${code}\nexport {};\n`);
    expect(found.join('\n')).toMatch(message);
  });

  it.each([
    ['src/core/x.ts', "import { z } from 'zod';"],
    ['src/core/x.ts', "import { parseSse } from '../protocol/sse-parser.js';"],
    ['src/drivers/x.ts', "import Docker from 'dockerode';"],
    ['src/engines/node/x.ts', "import WebSocket from 'ws';"],
    ['src/drivers/x/y.ts', "import { isAlive } from '../../infra/process/daemon.js';"],
    ['src/drivers/x/y.ts', "import type { LabState } from '../../infra/lab-state.js';"],
    ['src/lab/x/y.ts', "import { spawnDaemon } from '../../infra/process/daemon.js';"],
    ['src/infra/x.ts', "import { PreflightError } from '../core/errors.js';"],
    ['src/infra/process/x.ts', "import type { LabState } from '../lab-state.js';"],
  ])('%s: `%s` is allowed (negative control)', async (file, code) => {
    expect(await restrictedImports(file, `${code}\nexport {};\n`)).toEqual([]);
  });
});
