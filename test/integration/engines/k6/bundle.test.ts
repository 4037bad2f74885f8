// Every scenario bundle builds for current and older k6, type-checks with k6 types only, and
// contains no Node built-ins; plain bundles never import the xk6-sse module.

import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadGeneratorError } from '../../../../src/core/errors.js';
import {
  SCENARIO_NAMES,
  bundleScenarios,
  findNodeImports,
  scenariosDir,
} from '../../../../src/engines/k6/bundle.js';
import { parseK6Version, targetFor } from '../../../../src/engines/k6/version.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'owui-chaos-k6-bundle-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

// ES-module bundles import k6's modules; CommonJS ones (k6 < 0.52) require them.
const importsOf = (text: string): string[] => [
  ...[...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1] as string),
  ...[...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1] as string),
];

describe('k6 scenario bundles', () => {
  it('build for current k6 (plain) with k6 modules external and no Node built-ins', async () => {
    const bundles = await bundleScenarios({ outDir: join(work, 'current') });
    expect(bundles.map((b) => b.name)).toEqual([...SCENARIO_NAMES]);
    for (const b of bundles) {
      const text = await readFile(b.path, 'utf8');
      expect(findNodeImports(text), b.name).toEqual([]);
      const imports = importsOf(text);
      expect(
        imports.every((m) => m === 'k6' || m.startsWith('k6/')),
        `${b.name}: ${imports.join(', ')}`,
      ).toBe(true);
      expect(imports).not.toContain('k6/x/sse');
      expect(text).toMatch(/export \{[^}]*\bsetup\b/);
      expect(text).toMatch(/export \{[^}]*\boptions\b/);
    }
    const mixed = await readFile(join(work, 'current', 'mixed.js'), 'utf8');
    expect(importsOf(mixed)).toEqual(
      expect.arrayContaining(['k6/websockets', 'k6/timers', 'k6/http', 'k6/metrics']),
    );
    expect(mixed).toMatch(/export \{[^}]*\bapiChat\b/);
    expect(mixed).toMatch(/export \{[^}]*\bbrowserClient\b/);
  });

  it('build for an older k6 with the experimental module paths and xk6-sse when asked', async () => {
    const target = targetFor(parseK6Version('k6 v0.49.0'));
    const bundles = await bundleScenarios({
      outDir: join(work, 'old'),
      target,
      sse: 'xk6',
      names: ['chat-sse'],
    });
    const text = await readFile(bundles[0]?.path ?? '', 'utf8');
    const imports = importsOf(text);
    expect(imports).toEqual(
      expect.arrayContaining(['k6/experimental/websockets', 'k6/experimental/timers', 'k6/x/sse']),
    );
    expect(imports).not.toContain('k6/websockets');
    // es2017 has no optional chaining: esbuild must have lowered every `?.`
    expect(text).not.toMatch(/\?\.[a-zA-Z_(]/);
  });

  it('fail with K6_BUNDLE_FAILED when a scenario imports a Node built-in', async () => {
    const src = join(work, 'bad-src');
    await rm(src, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(src, { recursive: true }));
    await copyFile(join(scenariosDir(), 'tsconfig.json'), join(src, 'tsconfig.json'));
    await writeFile(
      join(src, 'chat-sse.ts'),
      "import { readFileSync } from 'node:fs';\nexport default function () { readFileSync('/etc/hostname'); }\n",
    );
    const error = await bundleScenarios({
      outDir: join(work, 'bad'),
      sourceDir: src,
      names: ['chat-sse'],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LoadGeneratorError);
    expect(error).toMatchObject({ code: 'K6_BUNDLE_FAILED' });
    expect((error as Error).message).toMatch(/node:fs/);
  });

  it('type-check with k6 types only (tsc -p scenarios/tsconfig.json --noEmit)', () => {
    const tsc = resolve(scenariosDir(), '..', 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(
      process.execPath,
      [tsc, '-p', join(scenariosDir(), 'tsconfig.json'), '--noEmit'],
      { encoding: 'utf8', timeout: 110_000 },
    );
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('flags Node imports in a bundle text', () => {
    expect(
      findNodeImports('import fs from "node:fs";\nconst p = require("path");\nimport x from "os";'),
    ).toEqual(['node:fs', 'path', 'os']);
    expect(findNodeImports('import http from "k6/http";')).toEqual([]);
    // CommonJS bundles for k6 < 0.52 require k6's own modules: not foreign
    expect(findNodeImports('var h = require("k6/http");\nvar k = require("k6");')).toEqual([]);
  });
});
