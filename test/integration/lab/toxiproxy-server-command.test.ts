// `owui-chaos lab toxiproxy-server` as a real process (built CLI in dist/): prints its URL as one
// JSON line, answers the Toxiproxy API, exits 0 on SIGTERM.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const built = existsSync(`${root}dist/commands/lab/toxiproxy-server.js`);
if (!built)
  console.warn(
    'skipping lab toxiproxy-server command test: dist/ is not built (run `npx tsc -p tsconfig.build.json`)',
  );

describe.skipIf(!built)('owui-chaos lab toxiproxy-server', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('prints { url } once listening, serves /version and /proxies, exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['bin/run.js', 'lab', 'toxiproxy-server', '--port', '0', '--json'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const line = await new Promise<string>((resolve, reject) => {
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
    const { url } = JSON.parse(line) as { url: string };
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/version`)).json()).toEqual({ version: expect.any(String) });
    expect(await (await fetch(`${url}/proxies`)).json()).toEqual({});

    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
