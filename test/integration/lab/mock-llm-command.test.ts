// `owui-chaos mock-llm` as a real process (built CLI in dist/): prints its URL as one JSON line,
// serves, and exits 0 on SIGTERM.

import { afterAll, describe, expect, it } from 'vitest';
import { MOCK_MODEL_ID } from '../../../src/protocol/ground-truth.js';
import { cliBuilt, runCli, startCli, type CliRun } from '../../helpers/run-cli.js';

const built = cliBuilt('mock-llm');
if (!built)
  console.warn('skipping mock-llm command test: dist/ is not built (run `npx tsc -p tsconfig.build.json`)');

describe.skipIf(!built)('owui-chaos mock-llm', () => {
  const runs: CliRun[] = [];
  afterAll(() => {
    for (const r of runs) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  });

  it('prints { url } once listening, serves /v1/models, and exits 0 on SIGTERM', async () => {
    const run = startCli(['mock-llm', '--port', '0', '--json', '--first-token-ms', '10']);
    runs.push(run);
    const { url } = JSON.parse(await run.firstLine()) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0]?.id).toBe(MOCK_MODEL_ID);

    run.child.kill('SIGTERM');
    expect((await run.exit).code).toBe(0);
    await expect(fetch(`${url}/v1/models`)).rejects.toThrow();
  });

  it('rejects an unknown write mode with exit code 2', async () => {
    await runCli(['mock-llm', '--write', 'sideways'], { ensureExitCode: 2, timeoutMs: 30_000 });
  });
});
