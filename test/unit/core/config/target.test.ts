import { describe, expect, it } from 'vitest';
import { loadTarget, parseTarget, type TargetInput } from '../../../../src/core/config/target.js';
import { stringify } from 'yaml';
import { SECRET_ENV, rejection, targetFixture } from './helpers.js';

describe('target model', () => {
  it('parses the full example, resolving secrets from the environment', async () => {
    const { target, secrets } = await loadTarget(targetFixture('valid', 'full.yaml'), {
      env: { ...SECRET_ENV, REDIS_PASSWORD: 'redis-pw-91ab' },
    });
    expect(target.name).toBe('lab');
    expect(target.auth.admin).toEqual({
      email: 'admin@example.com',
      password: SECRET_ENV.OWUI_ADMIN_PASSWORD,
    });
    expect(target.auth.users?.provision).toEqual({
      count: 20,
      emailPrefix: 'owui-chaos-load',
      password: SECRET_ENV.OWUI_LOAD_PASSWORD,
    });
    expect(target.auth.apiKeys).toEqual([SECRET_ENV.OWUI_API_KEY_1]);
    expect(target.replicas).toEqual({
      type: 'docker',
      docker: {
        socketPath: '/var/run/docker.sock',
        names: ['owui-1'],
        label: 'com.docker.compose.service=open-webui',
      },
    });
    expect(target.redis).toEqual({
      sentinels: [{ host: '127.0.0.1', port: 26379 }],
      masterName: 'mymaster',
      password: 'redis-pw-91ab',
    });
    expect(target.nginx).toEqual({
      type: 'local',
      config: '/etc/nginx/nginx.conf',
      binary: 'nginx',
      prefix: '/some/prefix',
    });
    expect(target.safety).toEqual({ allowDestructive: false, maxUnavailable: 1 });
    expect(secrets.map((s) => [s.path.join('.'), s.env])).toEqual([
      ['auth.admin.password', 'OWUI_ADMIN_PASSWORD'],
      ['auth.users.provision.password', 'OWUI_LOAD_PASSWORD'],
      ['auth.apiKeys.0', 'OWUI_API_KEY_1'],
      ['redis.password', 'REDIS_PASSWORD'],
    ]);
  });

  it('uses an env reference’s default when the variable is unset', async () => {
    const { target } = await loadTarget(targetFixture('valid', 'full.yaml'), { env: SECRET_ENV });
    expect(target.redis?.password).toBe('');
  });

  it('accepts a minimal target (url, auth, model) and names it after the file', async () => {
    const { target } = await loadTarget(targetFixture('valid', 'minimal.yaml'), { env: SECRET_ENV });
    expect(target.name).toBe('minimal');
    expect(target.openwebui.version).toBe('auto');
    expect(target.replicas).toBeUndefined();
    expect(target.safety).toEqual({ allowDestructive: false, maxUnavailable: 1 });
  });

  it('`lab` reads the lab’s target file; without one it says to start the lab', async () => {
    const { target } = await loadTarget('lab', {
      labTargetFile: targetFixture('valid', 'minimal.yaml'),
      env: SECRET_ENV,
    });
    expect(target.name).toBe('lab');
    const unknown = await rejection(loadTarget('lab', { env: {} }));
    expect(unknown.code).toBe('TARGET_NOT_FOUND');
    expect(unknown.suggestions).toEqual(['owui-chaos lab up']);
    const gone = await rejection(
      loadTarget('lab', { labTargetFile: '/nonexistent/owui-chaos/target.yaml', env: {} }),
    );
    expect(gone.code).toBe('FILE_NOT_FOUND');
    expect(gone.suggestions).toEqual(['owui-chaos lab up']);
  });

  it('round-trips the TargetInput shape the lab writes', async () => {
    const written: TargetInput = {
      name: 'lab-default',
      openwebui: {
        url: 'http://127.0.0.1:40001',
        replicas: [{ name: 'owui-1', url: 'http://127.0.0.1:40002' }],
        version: 'auto',
      },
      auth: {
        admin: { email: 'a@b.c', password: 'pw' },
        users: { provision: { count: 50, emailPrefix: 'owui-chaos-load', password: 'pw' } },
      },
      model: 'owui-chaos-mock',
      replicas: { type: 'lab-process', 'lab-process': { stateDir: '/tmp/lab' } },
      redis: { sentinels: [{ host: '127.0.0.1', port: 40010 }], masterName: 'mymaster' },
      toxiproxy: {
        url: 'http://127.0.0.1:40020',
        proxies: [{ name: 'llm', listen: '127.0.0.1:40021', upstream: '127.0.0.1:40022' }],
      },
      nginx: { type: 'local', config: '/tmp/lab/nginx.conf', binary: 'nginx', prefix: '/tmp/lab' },
      safety: { allowDestructive: true, maxUnavailable: 1 },
    };
    const { target } = await parseTarget(stringify(written), '/tmp/lab/target.yaml');
    expect(target).toEqual({ ...written, openwebui: { ...written.openwebui } });
  });

  it.each([
    ['provision-without-admin.yaml', 'auth', '`users.provision` needs `admin: { email, password }`'],
    [
      'nginx-type-unknown.yaml',
      'nginx.type',
      '`nginx.type` is "lokal"; use one of `local`, `container`, `none` — did you mean `local`?',
    ],
    ['url-not-http.yaml', 'openwebui.url', '`openwebui.url` is "127.0.0.1:8080"; use an http(s) URL'],
    ['docker-without-names-or-label.yaml', 'replicas.docker', 'say how to find the replica containers'],
    [
      'sentinel-port-string.yaml',
      'redis.sentinels.0.port',
      '`redis.sentinels.0.port` is "lots"; use a TCP port (1–65535)',
    ],
  ])('invalid/%s → TARGET_INVALID at `%s`', async (file, path, fragment) => {
    const error = await rejection(loadTarget(targetFixture('invalid', file), { env: {} }));
    expect(error.code).toBe('TARGET_INVALID');
    expect(error.issues).toEqual([
      expect.objectContaining({
        path,
        message: expect.stringContaining(fragment),
        line: expect.any(Number),
        column: expect.any(Number),
      }),
    ]);
  });

  it('a port from the environment (a string) is read as a number', async () => {
    const { target } = await parseTarget(
      'openwebui: { url: "http://127.0.0.1:1" }\nauth: { apiKeys: [k] }\nmodel: m\nredis: { sentinels: [{ host: 127.0.0.1, port: { env: SENTINEL_PORT } }] }\n',
      '/tmp/t.yaml',
      { SENTINEL_PORT: '26380' },
    );
    expect(target.redis?.sentinels[0]?.port).toBe(26380);
  });
});
