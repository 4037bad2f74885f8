// nginx drivers against a real nginx (local binary, and the same binary inside a container when a
// Docker engine answers) proxying to a slow chunked upstream. Observed from outside: with
// proxy_buffering on the client's first body byte arrives near the end of the stream; off, it
// arrives at once. Reverts restore the original config bytes exactly (sha256).

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultError } from '../../../src/core/errors.js';
import { DockerodeReplicaDriver } from '../../../src/drivers/docker/dockerode-replica-driver.js';
import type { DriverLogEntry } from '../../../src/drivers/driver-log.js';
import { ContainerNginxDriver, LocalNginxDriver } from '../../../src/drivers/nginx/nginx-driver.js';
import { revertFromRecord } from '../../../src/drivers/revert-records.js';
import { findBinary } from '../../../src/infra/process/binaries.js';
import { freePort, tcpOpen } from '../../../src/infra/process/daemon.js';

const nginxBinary = findBinary('nginx');
if (!nginxBinary) console.warn('[skip] nginx-driver: nginx is not installed (apt-get install nginx)');
const run = promisify(execFile);

const CHUNKS = 8;
const CHUNK_GAP_MS = 120;

/**
 * Upstream: CHUNKS small writes, CHUNK_GAP_MS apart (~1 s in total). nginx talks HTTP/1.0 to it
 * (the default `proxy_http_version`), so the body is close-delimited. Measured on nginx 1.22: with
 * `proxy_http_version 1.1` and a CHUNKED upstream, nginx forwards each chunk at once even with
 * `proxy_buffering on`, so buffering would not show; with a close-delimited or Content-Length
 * body it holds everything until the end.
 */
function slowUpstream(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let sent = 0;
    const timer = setInterval(() => {
      res.write(`chunk-${sent}\n`);
      if (++sent === CHUNKS) {
        clearInterval(timer);
        res.end();
      }
    }, CHUNK_GAP_MS);
    res.on('close', () => clearInterval(timer));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Time to first body byte and to the end, as a client sees them. */
function timeResponse(port: number): Promise<{ firstByteMs: number; totalMs: number; body: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstByteMs = -1;
    let body = '';
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (firstByteMs < 0) firstByteMs = performance.now() - started;
        body += c;
      });
      res.on('end', () => resolve({ firstByteMs, totalMs: performance.now() - started, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function config(dir: string, port: number, upstreamPort: number): string {
  return [
    '# owui-chaos nginx driver test — ünïcode comment kept byte for byte',
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log notice;`,
    'events { worker_connections 64; }',
    'http {',
    '    access_log off;',
    `    client_body_temp_path ${dir}/tmp/body;`,
    `    proxy_temp_path ${dir}/tmp/proxy;`,
    `    fastcgi_temp_path ${dir}/tmp/fastcgi;`,
    `    uwsgi_temp_path ${dir}/tmp/uwsgi;`,
    `    scgi_temp_path ${dir}/tmp/scgi;`,
    '    server {',
    `        listen 127.0.0.1:${port};`,
    '        location / {',
    `            proxy_pass http://127.0.0.1:${upstreamPort};`,
    '            proxy_buffering on;   # the fault flips this',
    '        }',
    '    }',
    '}',
    '',
  ].join('\r\n'); // CRLF on purpose: the revert must restore it exactly
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function waitPort(port: number, open: boolean, budgetMs = 10_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while (Date.now() < deadline) {
    if ((await tcpOpen(port)) === open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not become ${open ? 'open' : 'closed'} within ${budgetMs} ms`);
}

function expectBuffered(t: { firstByteMs: number; totalMs: number }): void {
  // Buffered: nothing reaches the client until (almost) the whole stream is in.
  expect(t.firstByteMs).toBeGreaterThan(CHUNK_GAP_MS * (CHUNKS - 2));
}

function expectStreamed(t: { firstByteMs: number; totalMs: number }): void {
  expect(t.firstByteMs).toBeLessThan(CHUNK_GAP_MS * 3);
  expect(t.totalMs).toBeGreaterThan(CHUNK_GAP_MS * (CHUNKS - 1));
}

describe.skipIf(!nginxBinary)('LocalNginxDriver (real nginx)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owui-chaos-nginx-'));
  const conf = join(dir, 'nginx.conf');
  let upstream: Server;
  let nginx: ChildProcess | undefined;
  let port: number;
  let originalHash: string;
  const logs: DriverLogEntry[] = [];
  let driver: LocalNginxDriver;

  beforeAll(async () => {
    upstream = await slowUpstream();
    port = await freePort();
    mkdirSync(join(dir, 'tmp'));
    writeFileSync(conf, config(dir, port, (upstream.address() as AddressInfo).port));
    originalHash = sha(readFileSync(conf));
    nginx = spawn(nginxBinary!, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: 'ignore' });
    await waitPort(port, true);
    driver = new LocalNginxDriver({ configFile: conf, prefix: dir, logger: (e) => logs.push(e) });
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGQUIT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (nginx.exitCode === null) nginx.kill('SIGKILL');
    }
    await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves buffered, then unbuffered after setBuffering(false), then buffered and byte-identical after revert', async () => {
    const before = await timeResponse(port);
    expect(before.body).toContain(`chunk-${CHUNKS - 1}`);
    expectBuffered(before);

    const prepared = await driver.prepareSetBuffering(false);
    expect(prepared.record).toMatchObject({
      driver: 'nginx',
      op: 'restoreConfig',
      args: { configFile: conf, sha256: originalHash },
    });
    expect(prepared.description).toBe(`nginx proxy_buffering off in ${conf} (was on)`);
    expect(sha(readFileSync(conf))).toBe(originalHash); // preparing changes nothing
    const handle = await prepared.apply();
    const edited = readFileSync(conf, 'latin1');
    expect(edited).toContain('proxy_buffering off;   # the fault flips this\r\n');
    expect(edited.replace('proxy_buffering off;', 'proxy_buffering on;')).toBe(
      readFileSync(conf, 'latin1').replace('proxy_buffering off;', 'proxy_buffering on;'),
    );
    expectStreamed(await timeResponse(port));

    await handle.revert();
    await handle.revert(); // idempotent
    expect(sha(readFileSync(conf))).toBe(originalHash);
    expectBuffered(await timeResponse(port));
    expect(logs.some((e) => e.phase === 'did' && e.action.startsWith('apply nginx config'))).toBe(true);
  });

  it('a config nginx -t rejects is not left in place and the error says so', async () => {
    const err = await driver.setDirective('proxy_buffering', 'sometimes').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultError);
    expect((err as FaultError).code).toBe('NGINX_CONFIG_INVALID');
    expect((err as FaultError).message).toContain(`nginx rejected the new config ${conf}`);
    expect((err as FaultError).message).toContain('the previous config was restored');
    expect(sha(readFileSync(conf))).toBe(originalHash);
    expectBuffered(await timeResponse(port)); // still serving, still the original config
  });

  it('a record replayed by a fresh driver (rollback after a crash) restores the original bytes', async () => {
    const handle = await driver.setBuffering(false);
    expectStreamed(await timeResponse(port));
    const record = JSON.parse(JSON.stringify(handle.revertRecord)) as typeof handle.revertRecord;
    await revertFromRecord(record, { nginx: new LocalNginxDriver({ configFile: conf, prefix: dir }) });
    expect(sha(readFileSync(conf))).toBe(originalHash);
    expectBuffered(await timeResponse(port));
  });
});

const dockerReason = await run('docker', ['info', '--format', '{{.ServerVersion}}'], {
  timeout: 20_000,
}).then(
  () => undefined,
  () => 'no Docker engine reachable',
);
if (nginxBinary && dockerReason) console.warn(`[skip] nginx-driver (container): ${dockerReason}`);

describe.skipIf(!nginxBinary || dockerReason !== undefined)(
  'ContainerNginxDriver (nginx in a container, docker exec)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'owui-chaos-nginx-ctr-'));
    const conf = join(dir, 'nginx.conf');
    const name = `owui-chaos-test-nginx-${randomBytes(4).toString('hex')}`;
    let upstream: Server;
    let port: number;
    let originalHash: string;

    beforeAll(async () => {
      upstream = await slowUpstream();
      port = await freePort();
      mkdirSync(join(dir, 'tmp'));
      writeFileSync(conf, config(dir, port, (upstream.address() as AddressInfo).port));
      originalHash = sha(readFileSync(conf));
      try {
        await run('docker', ['image', 'inspect', 'owui-chaos-base:latest']);
      } catch {
        await run('sh', ['-c', 'tar -cf - --files-from /dev/null | docker import - owui-chaos-base:latest'], {
          timeout: 60_000,
        });
      }
      const mounts = ['/usr', '/lib', '/lib64', '/etc', '/bin', '/sbin'].flatMap((d) => [
        '-v',
        `${d}:${d}:ro`,
      ]);
      await run(
        'docker',
        [
          'run',
          '-d',
          '--name',
          name,
          '--network',
          'host',
          ...mounts,
          '-v',
          `${dir}:${dir}`,
          'owui-chaos-base:latest',
          '/usr/sbin/nginx',
          '-p',
          dir,
          '-c',
          conf,
          '-g',
          'daemon off;',
        ],
        { timeout: 60_000 },
      );
      await waitPort(port, true);
    });

    afterAll(async () => {
      await run('docker', ['rm', '-f', name]).catch(() => undefined);
      await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
      rmSync(dir, { recursive: true, force: true });
    });

    it('switches buffering through docker exec and restores the exact bytes', async () => {
      const driver = new ContainerNginxDriver({
        container: name,
        configFile: conf,
        prefix: dir,
        binary: '/usr/sbin/nginx',
        exec: DockerodeReplicaDriver.execFor(),
      });
      expect(sha(await driver.readConfig())).toBe(originalHash);
      expectBuffered(await timeResponse(port));
      const handle = await driver.setBuffering(false);
      expect(handle.revertRecord.args.container).toBe(name);
      expect(readFileSync(conf, 'latin1')).toContain('proxy_buffering off;');
      expectStreamed(await timeResponse(port));
      await handle.revert();
      expect(sha(readFileSync(conf))).toBe(originalHash);
      expectBuffered(await timeResponse(port));

      const err = await driver.setDirective('proxy_buffering', 'sometimes').catch((e: unknown) => e);
      expect((err as FaultError).code).toBe('NGINX_CONFIG_INVALID');
      expect((err as FaultError).message).toContain(`in container ${name}`);
      expect(sha(readFileSync(conf))).toBe(originalHash);
    });
  },
);
