// `owui-chaos load --engine k6` on the lab with real k6 binaries: API and browser clients, as a
// user runs it. One case per binary in OWUI_K6_BINARIES (comma-separated), else OWUI_K6_BINARY,
// else `k6` on PATH, each named by its version. Without k6 it is skipped with the reason printed;
// this project never installs k6 (AGPL).
//
// What it guards: an old k6 (k6/experimental/websockets) once ran the browser scenario to exit 0
// while recording nothing. Every version must either produce browser samples or fail loudly.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { k6Binaries } from '../../../helpers/k6-binaries.js';
import { runCli, sharedTestLab } from '../../app/support.js';

const binaries = k6Binaries('k6-on-the-lab tests');

interface Point {
  metric: string;
  data: { value: number; tags: Record<string, string> };
}

describe.skipIf(binaries.length === 0)('load --engine k6 on the lab', () => {
  const lab = sharedTestLab('k6lab');
  const out = mkdtempSync(join(tmpdir(), 'owui-k6-lab-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(binaries)(
    '$label: API and browser chats complete, ws metrics recorded, nothing garbled',
    async ({ binary, label }) => {
      const dir = join(out, label.replace(/\W+/g, '-'));
      const run = runCli(
        lab(),
        [
          'load',
          '--lab-name',
          lab().name,
          '--engine',
          'k6',
          '--k6-binary',
          binary,
          '--chat-vus',
          '2',
          '--socket-vus',
          '2',
          '--socket-chat-interval',
          '3s',
          '--tokens',
          '30',
          '--tps',
          '60',
          '--duration',
          '20s',
          '--out',
          dir,
        ],
        180_000,
      );
      const exit = await run.exit;
      const points = readFileSync(join(dir, 'samples.ndjson'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Point);
      const outcomes = (client: string) =>
        points.filter((p) => p.metric === 'stream_outcome' && p.data.tags.client === client);
      const completed = (client: string) =>
        outcomes(client).filter((p) => p.data.tags.outcome === 'completed');
      const context = `exit ${exit.code}\n${exit.stderr.slice(-2000)}`;
      expect(completed('api').length, context).toBeGreaterThan(0);
      expect(completed('browser').length, context).toBeGreaterThan(0);
      expect(
        points.some((p) => p.metric === 'ws_connect_time'),
        context,
      ).toBe(true);
      const garbled = points.filter((p) => p.metric === 'garbled_token_rate').map((p) => p.data.value);
      expect(garbled.length).toBeGreaterThan(0);
      expect(Math.max(...garbled)).toBe(0);
      expect(exit.code, context).toBe(0);
    },
    240_000,
  );
});
