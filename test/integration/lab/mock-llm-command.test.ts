// `owui-chaos mock-llm` as a real process (built CLI in dist/): prints its URL as one JSON line,
// serves, and exits 0 on SIGTERM.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = existsSync(`${root}dist/commands/mock-llm.js`);
if (!built)
  console.warn('skipping mock-llm command test: dist/ is not built (run `npx tsc -p tsconfig.build.json`)');

describe.skipIf(!built)('owui-chaos mock-llm', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('prints { url } once listening, serves /v1/models, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['bin/run.js', 'mock-llm', '--port', '0', '--json', '--first-token-ms', '10'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const firstLine = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no output within 20 s; stderr: ${stderr}`)), 20_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(out.slice(0, nl));
        }
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}; stderr: ${stderr}`)));
    });
    const { url } = JSON.parse(firstLine) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0]?.id).toBe('owui-chaos-mock');

    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    await expect(fetch(`${url}/v1/models`)).rejects.toThrow();
  });

  it('rejects an unknown write mode with exit code 2', async () => {
    const child = spawn(process.execPath, ['bin/run.js', 'mock-llm', '--write', 'sideways'], {
      cwd: root,
      stdio: 'pipe',
    });
    children.push(child);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
  });
});
