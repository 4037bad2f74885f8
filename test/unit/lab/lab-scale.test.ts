import { describe, expect, it } from 'vitest';
import { planLabScale, setUpstreams } from '../../../src/lab/lab-scale.js';
import { renderNginxConfig } from '../../../src/lab/nginx/nginx-config.js';
import type { LabState } from '../../../src/infra/lab-state.js';

const config = renderNginxConfig({
  prefix: '/tmp/x',
  listenPort: 8080,
  upstreams: [
    { host: '127.0.0.1', port: 9001 },
    { host: '127.0.0.1', port: 9002 },
    { host: '127.0.0.1', port: 9003 },
  ],
  buffering: 'off',
});

function state(pids: Array<number | undefined>): LabState {
  return {
    schemaVersion: 1,
    name: 't',
    stateDir: '/tmp/t',
    createdAt: '',
    ownerPid: 1,
    replicasIn: 'process',
    buffering: 'off',
    replicas: pids.map((pid, i) => ({
      name: `owui-${i + 1}`,
      port: 9001 + i,
      url: `http://127.0.0.1:${9001 + i}`,
      mode: 'process' as const,
      ...(pid !== undefined ? { pid } : {}),
      spawn: { command: 'node', args: [], env: {}, logFile: `/tmp/t/owui-${i + 1}.log` },
    })),
  };
}

describe('setUpstreams', () => {
  it('rewrites exactly the server lines of the upstream block, keeping their parameters', () => {
    const one = setUpstreams(config, [{ host: '127.0.0.1', port: 9001 }]);
    expect(one).toContain('    server 127.0.0.1:9001 max_fails=1 fail_timeout=5s;\n  }');
    expect(one).not.toContain('9002');
    expect(one).toContain('least_conn;');
    // Only that block changed: back to three gives the original bytes.
    const three = setUpstreams(
      one,
      [9001, 9002, 9003].map((port) => ({ host: '127.0.0.1', port })),
    );
    expect(three).toBe(config);
  });

  it('refuses an empty list and a config without the lab upstream block', () => {
    expect(() => setUpstreams(config, [])).toThrow(/at least one upstream/);
    expect(() => setUpstreams('http {}', [{ host: '127.0.0.1', port: 1 }])).toThrow(/upstream openwebui/);
  });
});

describe('planLabScale', () => {
  const alive = (pid: number): boolean => pid !== 13;
  it('scales down: serve the first n, stop the running rest', () => {
    expect(planLabScale(state([11, 12, 13]), 1, alive)).toEqual({
      replicas: 1,
      serve: ['owui-1'],
      stop: ['owui-2'], // owui-3 (pid 13) is already down
      start: [],
      add: 0,
    });
  });

  it('scales up: start the stopped ones and add records beyond the lab', () => {
    expect(planLabScale(state([11, undefined]), 4, alive)).toEqual({
      replicas: 4,
      serve: ['owui-1', 'owui-2', 'owui-3', 'owui-4'],
      stop: [],
      start: ['owui-2'],
      add: 2,
    });
    expect(() => planLabScale(state([11]), 0, alive)).toThrow(/cannot scale/);
  });
});
