// Faults carry their run (docs/safety.md): toxic names say whose they are, and an nginx config a
// run changed carries a marker that makes any other run refuse it before touching anything.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toxicFor, toxicOwnerTag } from '../../../src/app/fault-injector.js';
import { runTag } from '../../../src/app/safety/run-guard.js';
import { OwuiChaosError } from '../../../src/core/errors.js';
import { prepareBuffering } from '../../../src/core/faults/nginx.js';
import { TimelineEntrySchema } from '../../../src/core/faults/registry.js';
import { LocalNginxDriver, nginxMarker, nginxMarkerOwner } from '../../../src/drivers/nginx/nginx-driver.js';

const dir = mkdtempSync(join(tmpdir(), 'owui-owner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parsed = TimelineEntrySchema.parse({
  name: 'slow-llm',
  at: 0,
  action: 'toxic.latency',
  params: { proxy: 'llm', latency: 5 },
});
if (parsed.action !== 'toxic.latency') throw new Error('parsed as another action');
const entry = parsed;

describe('fault ownership', () => {
  it('toxic names carry the run tag, and the tag is read back; other runs get other names', () => {
    const a = toxicFor(entry, runTag('run-A')).name;
    const b = toxicFor(entry, runTag('run-B')).name;
    expect(a).toBe(`owui-chaos-slow-llm--run-${runTag('run-A')}`);
    expect(a).not.toBe(b);
    expect(toxicOwnerTag(a)).toBe(runTag('run-A'));
    expect(toxicOwnerTag('owui-chaos-slow-llm')).toBe('legacy');
    expect(toxicOwnerTag('made-by-hand')).toBeUndefined();
  });

  it('an nginx config marked by another run is refused before anything is touched; its own run may edit it', async () => {
    const conf = join(dir, 'nginx.conf');
    const body = 'events {}\nhttp {\n  proxy_buffering off;\n}\n';
    writeFileSync(conf, nginxMarker('run-A') + body);
    expect(nginxMarkerOwner(Buffer.from(nginxMarker('run-A') + body))).toBe('run-A');
    const driver = new LocalNginxDriver({ configFile: conf, binary: '/bin/false' });
    const err = await prepareBuffering(driver, true, 'run-B').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OwuiChaosError);
    expect((err as OwuiChaosError).code).toBe('FOREIGN_FAULT');
    expect((err as OwuiChaosError).message).toContain('already changed by run run-A');
    await expect(prepareBuffering(driver, true, 'run-A')).resolves.toBeDefined();
    // Unmarked: the prepared edit carries the owner's marker; the revert record keeps the original.
    writeFileSync(conf, body);
    const prepared = await prepareBuffering(driver, true, 'run-C');
    expect(prepared.record).toMatchObject({ driver: 'nginx', op: 'restoreConfig' });
    const saved = prepared.record?.driver === 'nginx' ? prepared.record.args.base64 : '';
    expect(Buffer.from(saved, 'base64').toString()).toBe(body);
  });
});
