// labPids / labPorts / labSummary gather what every lab part records in state.json. A part that
// forgot a pid or a port would leave a process or a listener behind after `lab down` unnoticed
// by the lab tests that check "nothing alive, nothing listening"; these cases list them exactly.

import { describe, expect, it } from 'vitest';
import type { LabState } from '../../../src/infra/lab-state.js';
import { labPids, labPorts, labSummary } from '../../../src/lab/lab.js';

const daemon = (name: string, pid: number) => ({
  name,
  pid,
  logFile: `/x/${name}.log`,
  command: name,
  args: [],
});
const spawn = { command: 'node', args: [], env: {}, logFile: '/x/r.log' };

function fullState(): LabState {
  return {
    schemaVersion: 1,
    name: 't',
    stateDir: '/x',
    createdAt: '2026-01-01T00:00:00.000Z',
    ownerPid: 1,
    replicasIn: 'process',
    buffering: 'off',
    mockLlm: { ...daemon('mock-llm', 10), port: 21010, url: 'http://127.0.0.1:21010' },
    toxiproxy: {
      url: 'http://127.0.0.1:21020',
      port: 21020,
      real: true,
      daemon: daemon('toxiproxy', 20),
      proxies: [
        { name: 'llm', listen: '127.0.0.1:21021', upstream: '127.0.0.1:21010' },
        { name: 'redis-master', listen: '127.0.0.1:21022', upstream: '127.0.0.1:21030' },
      ],
    },
    redis: {
      masterName: 'mymaster',
      master: { ...daemon('redis-master', 30), role: 'master', port: 21030 },
      replica: { ...daemon('redis-replica', 31), role: 'replica', port: 21031 },
      sentinels: [{ ...daemon('sentinel-1', 32), role: 'sentinel', port: 21032 }],
    },
    postgres: {
      ...daemon('postgres', 40),
      port: 21040,
      dataDir: '/x/pg',
      binDir: '/usr/lib/postgresql/15/bin',
      user: 'owui',
      database: 'openwebui',
      version: '15',
    },
    replicas: [
      { name: 'owui-1', port: 21051, url: 'http://127.0.0.1:21051', mode: 'process', pid: 51, spawn },
      {
        name: 'owui-2',
        port: 21052,
        url: 'http://127.0.0.1:21052',
        mode: 'docker',
        containerId: 'abc',
        containerName: 'owui-chaos-t-owui-2',
        spawn,
      },
    ],
    nginx: {
      ...daemon('nginx', 60),
      port: 21060,
      url: 'http://127.0.0.1:21060',
      configFile: '/x/nginx/nginx.conf',
      prefix: '/x/nginx',
      binary: '/usr/sbin/nginx',
    },
  };
}

describe('lab parts: what state.json records', () => {
  it('labPids lists every recorded process, front (nginx) to back (mock LLM)', () => {
    expect(labPids(fullState())).toEqual([
      { part: 'nginx', pid: 60 },
      { part: 'owui-1', pid: 51 },
      { part: 'postgres', pid: 40 },
      { part: 'redis-master', pid: 30 },
      { part: 'redis-replica', pid: 31 },
      { part: 'sentinel-1', pid: 32 },
      { part: 'toxiproxy', pid: 20 },
      { part: 'mock-llm', pid: 10 },
    ]);
  });

  it('labPorts lists every listener, proxies included; a container replica has a port but no pid', () => {
    expect(labPorts(fullState()).sort()).toEqual(
      [21060, 21051, 21052, 21040, 21030, 21031, 21032, 21020, 21021, 21022, 21010].sort(),
    );
  });

  it('labSummary has one row per part, proxy and replica (with its container)', () => {
    const rows = labSummary(fullState()).endpoints.map(
      (e) => `${e.part}:${e.name}:${e.pid ?? e.container ?? '-'}`,
    );
    expect(rows).toEqual([
      'nginx:nginx:60',
      'replica:owui-1:51',
      'replica:owui-2:owui-chaos-t-owui-2',
      'postgres:postgres:40',
      'redis:redis-master:30',
      'redis:redis-replica:31',
      'sentinel:sentinel-1:32',
      'toxiproxy:toxiproxy-server:20',
      'proxy:llm:-',
      'proxy:redis-master:-',
      'mock-llm:mock-llm:10',
    ]);
  });

  it('a state with nothing started lists nothing (negative control)', () => {
    const empty: LabState = { ...fullState(), replicas: [] };
    for (const k of ['mockLlm', 'toxiproxy', 'redis', 'postgres', 'nginx'] as const) delete empty[k];
    expect(labPids(empty)).toEqual([]);
    expect(labPorts(empty)).toEqual([]);
    expect(labSummary(empty).endpoints).toEqual([]);
  });
});
