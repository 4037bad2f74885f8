import { describe, expect, it } from 'vitest';
import { setProxyBuffering } from '../../../../src/infra/nginx-buffering.js';
import { nginxPaths, renderNginxConfig } from '../../../../src/lab/nginx/nginx-config.js';

/** The body of `location <path> { … }`. */
function location(conf: string, path: string): string {
  const start = conf.indexOf(`location ${path} {`);
  if (start < 0) throw new Error(`no location ${path}`);
  return conf.slice(start, conf.indexOf('\n    }', start));
}

const base = {
  prefix: '/tmp/lab/nginx',
  listenPort: 18080,
  upstreams: [
    { host: '127.0.0.1', port: 9001 },
    { host: '127.0.0.1', port: 9002 },
  ],
  buffering: 'off' as const,
};

describe('renderNginxConfig', () => {
  it('speaks HTTP/1.1 to the upstreams and forwards Upgrade/Connection through a map', () => {
    const conf = renderNginxConfig(base);
    for (const loc of ['/ws/', '/']) expect(location(conf, loc)).toContain('proxy_http_version 1.1;');
    expect(conf).toMatch(/map \$http_upgrade \$connection_upgrade \{\s+default upgrade;\s+'' +close;\s+\}/);
    expect(conf).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(conf).toContain('proxy_set_header Connection $connection_upgrade;');
  });

  it('balances with least_conn and marks each server with max_fails and fail_timeout', () => {
    const conf = renderNginxConfig({ ...base, maxFails: 2, failTimeoutS: 7 });
    const upstream = /upstream openwebui \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    expect(upstream).toContain('least_conn;');
    expect(upstream).toContain('server 127.0.0.1:9001 max_fails=2 fail_timeout=7s;');
    expect(upstream).toContain('server 127.0.0.1:9002 max_fails=2 fail_timeout=7s;');
  });

  it('sets proxy_buffering as asked; `on` also uses HTTP/1.0 for plain HTTP, as the bursty field setups do', () => {
    const on = renderNginxConfig({ ...base, buffering: 'on' });
    expect(location(on, '/')).toContain('proxy_buffering on;');
    expect(location(on, '/')).toContain('proxy_http_version 1.0;');
    const off = renderNginxConfig({ ...base, buffering: 'off' });
    expect(location(off, '/')).toContain('proxy_buffering off;');
    expect(location(off, '/')).not.toContain('proxy_http_version 1.0;');
  });

  it('keeps websockets on HTTP/1.1 with the upgrade headers whatever the buffering', () => {
    const ws = location(renderNginxConfig({ ...base, buffering: 'on' }), '/ws/');
    expect(ws).toContain('proxy_http_version 1.1;');
    expect(ws).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(ws).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(ws).not.toContain('1.0');
  });

  it('does not let an upstream X-Accel-Buffering header override the buffering setting', () => {
    expect(renderNginxConfig({ ...base, buffering: 'on' })).toContain(
      'proxy_ignore_headers X-Accel-Buffering;',
    );
  });

  it('keeps streams open with long read and send timeouts', () => {
    const conf = renderNginxConfig({ ...base, readTimeoutS: 900 });
    expect(conf).toContain('proxy_read_timeout 900s;');
    expect(conf).toContain('proxy_send_timeout 900s;');
    expect(renderNginxConfig(base)).toContain('proxy_read_timeout 3600s;');
  });

  it('names the upstream on every response and logs upstream address and timings', () => {
    const conf = renderNginxConfig(base);
    for (const loc of ['/ws/', '/'])
      expect(location(conf, loc)).toContain('add_header X-Upstream $upstream_addr always;');
    expect(conf).toMatch(/log_format owui_chaos[^;]*\$upstream_addr[^;]*\$upstream_response_time/s);
    expect(conf).toContain(`access_log ${nginxPaths(base.prefix).accessLog} owui_chaos;`);
  });

  it('listens on 127.0.0.1 only and keeps every written path inside the prefix', () => {
    const conf = renderNginxConfig(base);
    expect(conf).toContain('listen 127.0.0.1:18080;');
    expect(conf).not.toMatch(/listen (?!127\.0\.0\.1:)/);
    expect(conf).toContain('daemon off;');
    expect(conf).toContain('pid /tmp/lab/nginx/nginx.pid;');
    expect(conf).toContain('error_log /tmp/lab/nginx/logs/error.log');
    for (const m of conf.matchAll(/_temp_path (\S+);/g)) expect(m[1]).toMatch(/^\/tmp\/lab\/nginx\/temp\//);
    expect([...conf.matchAll(/_temp_path /g)]).toHaveLength(5);
  });

  it('quotes paths with spaces', () => {
    const conf = renderNginxConfig({ ...base, prefix: '/tmp/my lab' });
    expect(conf).toContain('pid "/tmp/my lab/nginx.pid";');
  });

  it('adds the user directive only when asked', () => {
    expect(renderNginxConfig(base)).not.toMatch(/^user /m);
    expect(renderNginxConfig({ ...base, user: 'root' })).toMatch(/^user root;$/m);
  });

  it('rejects an empty upstream list and a bad port', () => {
    expect(() => renderNginxConfig({ ...base, upstreams: [] })).toThrow(/at least one upstream/);
    expect(() => renderNginxConfig({ ...base, listenPort: 0 })).toThrow(/not a TCP port/);
  });
});

describe('setProxyBuffering', () => {
  it('gives exactly the config rendered with the other setting, and back', () => {
    const off = renderNginxConfig(base);
    const on = renderNginxConfig({ ...base, buffering: 'on' });
    expect(setProxyBuffering(off, 'on')).toBe(on);
    expect(setProxyBuffering(on, 'off')).toBe(off);
    expect(setProxyBuffering(off, 'off')).toBe(off);
  });

  it('fails on a config without the lab buffering block', () => {
    expect(() => setProxyBuffering('http { proxy_buffering on; }', 'off')).toThrow(
      /no owui-chaos buffering block/,
    );
  });
});
