// The Node engine against a hostile server (docs/safety.md): a real node:http server on 127.0.0.1
// that answers `POST /api/chat/completions` with invalid UTF-8, a 5 MB line without a newline, a
// stream that never ends, broken JSON in `data:` lines, or bytes dripped one at a time. The built
// CLI (`owui-chaos load`) runs against it: no crash, no hang past the deadline, peak memory
// bounded, and each case counted in `protocol_errors` with its reason (or, for streams that never
// end, as timed-out/cancelled streams). The figures are printed for the closing note.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { defaultSlosFile } from '../../../../src/cli/paths.js';
import { RUN_JS } from '../../../../src/lab/lab.js';

type Mode = 'invalid-utf8' | 'long-line' | 'never-ending' | 'broken-json' | 'slow-drip' | 'healthy';

let mode: Mode = 'healthy';
let server: Server;
let port = 0;
const open = new Set<ServerResponse>();
const dir = mkdtempSync(join(tmpdir(), 'owui-hostile-'));

const chunk = (content: string): string =>
  `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;

function chat(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  open.add(res);
  res.on('close', () => open.delete(res));
  const timers: NodeJS.Timeout[] = [];
  res.on('close', () => timers.forEach(clearInterval));
  switch (mode) {
    case 'healthy':
      res.end(`${chunk('hello')}${chunk(' world')}data: [DONE]\n\n`);
      return;
    case 'invalid-utf8':
      res.write(chunk('ok'));
      res.write(
        Buffer.concat([
          Buffer.from('data: {"choices":[{"delta":{"content":"'),
          Buffer.from([0xff, 0xfe, 0xc3]),
          Buffer.from('"}}]}\n\n'),
        ]),
      );
      res.end('data: [DONE]\n\n');
      return;
    case 'long-line': {
      res.write(chunk('before'));
      const mb = Buffer.alloc(1024 * 1024, 0x61);
      for (let i = 0; i < 5; i++) res.write(mb);
      res.end();
      return;
    }
    case 'broken-json':
      res.write(chunk('a'));
      res.write('data: {"choices":[{"delta":{"content": oops\n\n');
      res.write('data: {{{{\n\n');
      res.end('data: [DONE]\n\n');
      return;
    case 'never-ending':
      timers.push(setInterval(() => res.write(chunk('x'.repeat(200))), 2));
      return;
    case 'slow-drip': {
      const bytes = Buffer.from(chunk('drip'));
      let i = 0;
      timers.push(
        setInterval(() => res.write(bytes.subarray(i % bytes.length, (i++ % bytes.length) + 1)), 200),
      );
      return;
    }
  }
}

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url === '/api/version') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"version":"0.6.30"}');
    } else if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":true}');
    } else if (req.method === 'POST' && req.url === '/api/chat/completions') {
      req.on('end', () => chat(res));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  writeFileSync(
    join(dir, 'hostile.yaml'),
    `name: hostile\nopenwebui: { url: "http://127.0.0.1:${port}" }\nauth: { apiKeys: [{ env: HOSTILE_KEY }] }\nmodel: some-model\n`,
  );
  // The completion gate plus the default protocol_errors SLO exactly as shipped.
  const defaults = parseYaml(readFileSync(defaultSlosFile(), 'utf8')) as { slos: Array<{ metric: string }> };
  const protocolSlo = defaults.slos.find((s) => s.metric === 'protocol_errors');
  if (!protocolSlo) throw new Error(`${defaultSlosFile()} has no protocol_errors SLO`);
  writeFileSync(
    join(dir, 'completed.yaml'),
    stringifyYaml({
      slos: [
        { metric: 'stream_outcome', client: 'api', stat: 'rate', tags: { outcome: 'completed' }, gte: 0.99 },
        protocolSlo,
      ],
    }),
  );
});

afterAll(async () => {
  for (const r of open) r.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

interface LoadRun {
  code: number | null;
  wallMs: number;
  peakRssMb: number;
  output: string;
  samples: Array<{ metric: string; data: { value: number; tags: Record<string, string> } }>;
  slos: Array<{ slo: { metric: string }; verdict: string }>;
}

/** `owui-chaos load` for `durationS` against the hostile server, peak RSS read from /proc. */
async function load(m: Mode, durationS: number): Promise<LoadRun> {
  mode = m;
  const out = join(dir, m);
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      RUN_JS,
      'load',
      '--target',
      join(dir, 'hostile.yaml'),
      '--chat-vus',
      '2',
      '--duration',
      `${durationS}s`,
      '--workers',
      '0',
      // One gate the healthy control must meet; the default SLOs (latency, buffering, browsers)
      // are about deployments, not about surviving a hostile server.
      '--no-default-slos',
      '--slo',
      join(dir, 'completed.yaml'),
      '--out',
      out,
    ],
    {
      env: { ...process.env, HOSTILE_KEY: 'sk-hostile', OWUI_CHAOS_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // exited
    }
  }, 50);
  const kill = setTimeout(() => child.kill('SIGKILL'), (durationS + 60) * 1000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearInterval(poll);
  clearTimeout(kill);
  const wallMs = Date.now() - started;
  let samples: LoadRun['samples'] = [];
  try {
    samples = readFileSync(join(out, 'samples.ndjson'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LoadRun['samples'][number])
      .filter((s) => (s as { type?: string }).type !== 'Metric');
  } catch {
    // no samples: asserted below
  }
  let slos: LoadRun['slos'] = [];
  try {
    slos = (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { slos: LoadRun['slos'] }).slos;
  } catch {
    // no results: asserted below
  }
  const result = { code, wallMs, peakRssMb: Math.round(peakKb / 1024), output, samples, slos };
  console.log(`hostile ${m}: exit ${code}, ${wallMs} ms, peak RSS ${result.peakRssMb} MB`);
  return result;
}

const reasons = (r: LoadRun): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const s of r.samples)
    if (s.metric === 'protocol_errors')
      out[s.data.tags.reason!] = (out[s.data.tags.reason!] ?? 0) + s.data.value;
  return out;
};
const outcomes = (r: LoadRun): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const s of r.samples)
    if (s.metric === 'stream_outcome') out[s.data.tags.outcome!] = (out[s.data.tags.outcome!] ?? 0) + 1;
  return out;
};

const DURATION_S = 5;
/** Startup and report on a loaded 2-core machine; a hang would take the stream timeout (120 s). */
const GRACE_MS = 45_000;
const RSS_BOUND_MB = 400;

describe('the engine against a hostile server', () => {
  it('healthy control: completed streams, no protocol errors', async () => {
    const r = await load('healthy', 3);
    expect(r.code, r.output).toBe(0);
    expect(r.slos.find((x) => x.slo.metric === 'protocol_errors')?.verdict).toBe('pass');
    expect(outcomes(r).completed).toBeGreaterThan(0);
    expect(reasons(r)).toEqual({});
  }, 120_000);

  it.each([
    ['invalid-utf8', 'invalid_utf8'],
    ['broken-json', 'invalid_json'],
    ['long-line', 'line_too_long'],
  ] as const)(
    '%s: no crash, bounded memory, counted as protocol error `%s`',
    async (m, reason) => {
      const r = await load(m, DURATION_S);
      // The default protocol_errors SLO fails the run even where streams still end with [DONE];
      // never a crash (1) or a generator error (12).
      expect(r.code, r.output).toBe(10);
      const verdicts = Object.fromEntries(r.slos.map((x) => [x.slo.metric, x.verdict]));
      expect(verdicts.protocol_errors, JSON.stringify(verdicts)).toBe('breach');
      expect(r.output).not.toMatch(/BUG|RangeError|heap out of memory/);
      expect(r.wallMs).toBeLessThan(DURATION_S * 1000 + GRACE_MS);
      expect(r.peakRssMb).toBeLessThan(RSS_BOUND_MB);
      expect(reasons(r)[reason] ?? 0, JSON.stringify(reasons(r))).toBeGreaterThan(0);
    },
    150_000,
  );

  it.each(['never-ending', 'slow-drip'] as const)(
    '%s: stopped at the deadline, memory bounded, streams not counted as completed',
    async (m) => {
      const r = await load(m, DURATION_S);
      // Nothing completed, so the completion gate fails the run: exit 10, not a pass.
      expect(r.code, r.output).toBe(10);
      expect(r.wallMs).toBeLessThan(DURATION_S * 1000 + GRACE_MS);
      expect(r.peakRssMb).toBeLessThan(RSS_BOUND_MB);
      const o = outcomes(r);
      expect(o.completed ?? 0).toBe(0);
      expect((o.cancelled ?? 0) + (o.timeout ?? 0), JSON.stringify(o)).toBeGreaterThan(0);
    },
    150_000,
  );
});
