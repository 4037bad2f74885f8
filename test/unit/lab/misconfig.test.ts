import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import {
  FOREIGN_ORIGIN,
  MISCONFIG_CATALOGUE,
  MISCONFIG_NAMES,
  applyEnv,
  formatMisconfigs,
  nginxOptionsFor,
  parseMisconfigs,
  parseReplicaEnv,
  planMisconfig,
  replicaEnvFor,
} from '../../../src/lab/misconfig.js';
import { renderNginxConfig } from '../../../src/lab/nginx/nginx-config.js';

const ctx = { replicaCount: 3, secretKey: 'labsecret', redisMaster: { host: '127.0.0.1', port: 7001 } };
const base: Record<string, string> = {
  WEBUI_SECRET_KEY: 'labsecret',
  REDIS_URL: 'redis://mymaster:6379/0',
  REDIS_SENTINEL_HOSTS: '127.0.0.1:26001,127.0.0.1:26002',
  REDIS_SENTINEL_PORT: '26001',
  WEBSOCKET_MANAGER: 'redis',
  CORS_ALLOW_ORIGIN: 'http://127.0.0.1:8080',
};

function envs(names: string): Array<Record<string, string>> {
  const plan = planMisconfig(parseMisconfigs(names), ctx);
  return [0, 1, 2].map((i) => replicaEnvFor(base, i, plan, undefined));
}

/** The body of `location <path> { … }`. */
function location(conf: string, path: string): string {
  const start = conf.indexOf(`location ${path} {`);
  if (start < 0) throw new Error(`no location ${path}`);
  return conf.slice(start, conf.indexOf('\n    }', start));
}

function nginxFor(names: string): string {
  const plan = planMisconfig(parseMisconfigs(names), ctx);
  return renderNginxConfig({
    prefix: '/tmp/lab/nginx',
    listenPort: 18080,
    upstreams: [{ host: '127.0.0.1', port: 9001 }],
    buffering: 'off',
    ...nginxOptionsFor(plan.nginx),
  });
}

describe('parseMisconfigs', () => {
  it('reads comma lists and repeated flags, with the issue\u2019s exact names', () => {
    expect(MISCONFIG_NAMES).toEqual([
      'buffering',
      'http1.0-upstream',
      'no-upgrade-headers',
      'short-read-timeout',
      'secret-per-replica',
      'pinned-redis-master',
      'local-websocket-manager',
      'cors-mismatch',
    ]);
    expect(parseMisconfigs(['buffering,cors-mismatch', ' secret-per-replica '])).toEqual([
      { name: 'buffering' },
      { name: 'cors-mismatch' },
      { name: 'secret-per-replica' },
    ]);
    expect(parseMisconfigs(undefined)).toEqual([]);
    expect(parseMisconfigs('')).toEqual([]);
  });

  it('gives short-read-timeout a default of 5s and accepts a value', () => {
    expect(parseMisconfigs('short-read-timeout')).toEqual([{ name: 'short-read-timeout', value: '5s' }]);
    expect(parseMisconfigs('short-read-timeout=2s')).toEqual([{ name: 'short-read-timeout', value: '2s' }]);
    expect(formatMisconfigs(parseMisconfigs('short-read-timeout=750ms,buffering'))).toBe(
      'short-read-timeout=750ms,buffering',
    );
  });

  it('refuses an unknown name with a usage error listing every valid one', () => {
    let err: unknown;
    try {
      parseMisconfigs('buffering,no-upgrade-header');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as UsageError).code).toBe('MISCONFIG_INVALID');
    expect((err as Error).message).toContain('Unknown misconfiguration `no-upgrade-header`');
    for (const n of MISCONFIG_NAMES) expect((err as Error).message).toContain(n);
  });

  it('refuses duplicates, values on switches without one, and timeouts that are not short', () => {
    expect(() => parseMisconfigs('buffering,buffering')).toThrow(/given twice/);
    expect(() => parseMisconfigs('buffering=on')).toThrow(/takes no value/);
    expect(() => parseMisconfigs('short-read-timeout=soon')).toThrow(/not a duration/);
    expect(() => parseMisconfigs('short-read-timeout=90s')).toThrow(/not short/);
  });

  it('describes every switch in the catalogue', () => {
    for (const n of MISCONFIG_NAMES) {
      const info = MISCONFIG_CATALOGUE[n];
      expect(info.name).toBe(n);
      expect(info.change.length).toBeGreaterThan(10);
      expect(info.symptom.length).toBeGreaterThan(10);
    }
  });
});

describe('planMisconfig: replica env (Open WebUI\u2019s own variables)', () => {
  it('changes nothing for a healthy lab', () => {
    const plan = planMisconfig([], ctx);
    expect(plan.nginx).toEqual({});
    expect(plan.replicaEnv).toEqual([{}, {}, {}]);
    expect(envs('')).toEqual([base, base, base]);
  });

  it('secret-per-replica: a different WEBUI_SECRET_KEY on every replica', () => {
    const keys = envs('secret-per-replica').map((e) => e.WEBUI_SECRET_KEY);
    expect(new Set(keys).size).toBe(3);
    expect(keys).not.toContain('labsecret');
  });

  it('pinned-redis-master: REDIS_URL names the master, no Sentinel hosts anywhere', () => {
    for (const e of envs('pinned-redis-master')) {
      expect(e.REDIS_URL).toBe('redis://127.0.0.1:7001/0');
      expect(e.WEBSOCKET_REDIS_URL).toBe('redis://127.0.0.1:7001/0');
      expect(e).not.toHaveProperty('REDIS_SENTINEL_HOSTS');
      expect(e).not.toHaveProperty('REDIS_SENTINEL_PORT');
      expect(e).not.toHaveProperty('WEBSOCKET_SENTINEL_HOSTS');
      expect(e.WEBSOCKET_MANAGER).toBe('redis');
    }
  });

  it('local-websocket-manager: WEBSOCKET_MANAGER unset, Redis kept', () => {
    for (const e of envs('local-websocket-manager')) {
      expect(e).not.toHaveProperty('WEBSOCKET_MANAGER');
      expect(e.REDIS_URL).toBe(base.REDIS_URL);
    }
  });

  it('cors-mismatch: CORS_ALLOW_ORIGIN names a foreign site only', () => {
    for (const e of envs('cors-mismatch')) expect(e.CORS_ALLOW_ORIGIN).toBe(FOREIGN_ORIGIN);
  });

  it('nginx switches leave the replica env alone', () => {
    expect(envs('buffering,http1.0-upstream,no-upgrade-headers,short-read-timeout')).toEqual([
      base,
      base,
      base,
    ]);
  });
});

describe('planMisconfig: nginx', () => {
  it('healthy: HTTP/1.1, upgrade headers, long read timeout', () => {
    const conf = nginxFor('');
    for (const loc of ['/ws/', '/']) {
      expect(location(conf, loc)).toContain('proxy_http_version 1.1;');
      expect(location(conf, loc)).toContain('proxy_set_header Upgrade $http_upgrade;');
      expect(location(conf, loc)).toContain('proxy_set_header Connection $connection_upgrade;');
      expect(location(conf, loc)).toContain('proxy_read_timeout 3600s;');
    }
    expect(location(conf, '/')).toContain('proxy_buffering off;');
  });

  it('buffering: proxy_buffering on (over HTTP/1.0) for plain HTTP only', () => {
    const conf = nginxFor('buffering');
    expect(location(conf, '/')).toContain('proxy_buffering on;');
    expect(location(conf, '/ws/')).toContain('proxy_http_version 1.1;');
  });

  it('http1.0-upstream: HTTP/1.0 in every location, buffering untouched', () => {
    const conf = nginxFor('http1.0-upstream');
    for (const loc of ['/ws/', '/']) {
      expect(location(conf, loc)).toContain('proxy_http_version 1.0;');
      expect(location(conf, loc)).not.toContain('proxy_http_version 1.1;');
    }
    expect(location(conf, '/')).toContain('proxy_buffering off;');
  });

  it('no-upgrade-headers: neither Upgrade nor Connection is forwarded', () => {
    const conf = nginxFor('no-upgrade-headers');
    for (const loc of ['/ws/', '/']) {
      expect(location(conf, loc)).not.toContain('proxy_set_header Upgrade');
      expect(location(conf, loc)).not.toContain('proxy_set_header Connection');
      expect(location(conf, loc)).toContain('proxy_http_version 1.1;');
    }
  });

  it('short-read-timeout: the read timeout only, in nginx time units', () => {
    const five = nginxFor('short-read-timeout');
    expect(location(five, '/')).toContain('proxy_read_timeout 5s;');
    expect(location(five, '/ws/')).toContain('proxy_read_timeout 5s;');
    expect(location(five, '/')).toContain('proxy_send_timeout 3600s;');
    expect(location(nginxFor('short-read-timeout=1500ms'), '/')).toContain('proxy_read_timeout 1500ms;');
  });
});

describe('--replica-env', () => {
  it('reads KEY=VALUE for all replicas and N:KEY=VALUE for one (1-based)', () => {
    const flags = parseReplicaEnv(['A=1', '2:B=x=y', 'EMPTY=', '2:A=3'], 3);
    expect(flags).toEqual({ all: { A: '1', EMPTY: '' }, byReplica: { 2: { B: 'x=y', A: '3' } } });
    expect(replicaEnvFor({ A: '0' }, 0, undefined, flags)).toEqual({ A: '1', EMPTY: '' });
    expect(replicaEnvFor({ A: '0' }, 1, undefined, flags)).toEqual({ A: '3', B: 'x=y', EMPTY: '' });
  });

  it('wins over the misconfiguration plan', () => {
    const plan = planMisconfig(parseMisconfigs('cors-mismatch'), ctx);
    const flags = parseReplicaEnv(['1:CORS_ALLOW_ORIGIN=*'], 3);
    expect(replicaEnvFor(base, 0, plan, flags).CORS_ALLOW_ORIGIN).toBe('*');
    expect(replicaEnvFor(base, 1, plan, flags).CORS_ALLOW_ORIGIN).toBe(FOREIGN_ORIGIN);
  });

  it('refuses malformed items and replicas the lab does not have', () => {
    expect(() => parseReplicaEnv(['NOEQUALS'], 3)).toThrow(/not KEY=VALUE/);
    expect(() => parseReplicaEnv(['1-BAD=1'], 3)).toThrow(UsageError);
    expect(() => parseReplicaEnv(['4:A=1'], 3)).toThrow(/replicas 1 to 3/);
    expect(() => parseReplicaEnv(['0:A=1'], 3)).toThrow(/replicas 1 to 3/);
  });

  it('applyEnv: null unsets, later wins', () => {
    expect(applyEnv({ A: '1', B: '2' }, { A: null }, { B: '3', C: '4' })).toEqual({ B: '3', C: '4' });
  });
});
