// `owui-chaos lab toxiproxy-server` as a real process (built CLI in dist/): prints its URL as one
// JSON line, answers the Toxiproxy API, exits 0 on SIGTERM.

import { afterAll, describe, expect, it } from 'vitest';
import { cliBuilt, startCli, type CliRun } from '../../helpers/run-cli.js';

const built = cliBuilt('lab/toxiproxy-server');
if (!built)
  console.warn(
    'skipping lab toxiproxy-server command test: dist/ is not built (run `npx tsc -p tsconfig.build.json`)',
  );

describe.skipIf(!built)('owui-chaos lab toxiproxy-server', () => {
  const runs: CliRun[] = [];
  afterAll(() => {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  it('prints { url } once listening, serves /version and /proxies, exits 0 on SIGTERM', async () => {
    const run = startCli(['lab', 'toxiproxy-server', '--port', '0', '--json']);
    runs.push(run);
    const line = await run.firstLine();
    const { url } = JSON.parse(line) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/version`)).json()).toEqual({ version: expect.any(String) });
    expect(await (await fetch(`${url}/proxies`)).json()).toEqual({});

    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(0);
  });
});
