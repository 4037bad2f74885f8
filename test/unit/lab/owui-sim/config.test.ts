import { describe, expect, it } from 'vitest';
import { configFromEnv, parseJwtExpiry, parseRedisUrl } from '../../../../src/lab/owui-sim/config.js';
import { DEFAULT_OPENWEBUI_VERSION } from '../../../../src/lab/openwebui/install.js';

describe('configFromEnv', () => {
  it('reads the lab env with Open WebUI names and defaults', () => {
    const c = configFromEnv({
      PORT: '0',
      WEBUI_SECRET_KEY: 's',
      REDIS_URL: 'redis://:p%40ss@mymaster:6379/2',
      REDIS_SENTINEL_HOSTS: 's1, 127.0.0.1:26380',
      REDIS_SENTINEL_PORT: '26399',
      WEBSOCKET_MANAGER: 'redis',
      OWUI_SIM_REDIS_NATMAP: '{"127.0.0.1:6379":{"host":"127.0.0.1","port":7001}}',
      CORS_ALLOW_ORIGIN: 'http://a;http://b',
      DATABASE_URL: 'file:/tmp/db',
    });
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(0);
    expect(c.secretGenerated).toBe(false);
    expect(c.redis).toMatchObject({
      masterName: 'mymaster',
      password: 'p@ss',
      db: 2,
      sentinels: [
        { host: 's1', port: 26399 },
        { host: '127.0.0.1', port: 26380 },
      ],
      maxRetryCount: 2,
      reconnectDelayMs: 0,
      natMap: { '127.0.0.1:6379': { host: '127.0.0.1', port: 7001 } },
    });
    expect(c.websocketRedis).toBe(true);
    expect(c.keyPrefix).toBe('open-webui');
    expect(c.corsAllowOrigin).toEqual(['http://a', 'http://b']);
    expect(c.store).toEqual({ kind: 'file', dir: '/tmp/db' });
    expect(c.pingIntervalMs).toBe(25_000);
    expect(c.pingTimeoutMs).toBe(20_000);
    expect(c.jwtExpiresMs).toBe(28 * 86_400_000);
    expect(c.enableApiKeys).toBe(false);
  });

  it('generates a per-process secret when WEBUI_SECRET_KEY is unset', () => {
    const one = configFromEnv({});
    const two = configFromEnv({});
    expect(one.secretGenerated).toBe(true);
    expect(one.secretKey).not.toBe(two.secretKey);
    expect(one.redis).toBeUndefined();
    expect(one.websocketRedis).toBe(false);
    expect(one.store).toEqual({ kind: 'memory' });
  });

  it('turns a retry count below 1 into 2, as Open WebUI does', () => {
    expect(
      configFromEnv({ REDIS_URL: 'redis://x', REDIS_SENTINEL_MAX_RETRY_COUNT: '0' }).redis?.maxRetryCount,
    ).toBe(2);
    expect(
      configFromEnv({
        REDIS_URL: 'redis://x',
        REDIS_SENTINEL_MAX_RETRY_COUNT: '5',
        REDIS_RECONNECT_DELAY: '300',
      }).redis,
    ).toMatchObject({ maxRetryCount: 5, reconnectDelayMs: 300 });
  });

  it('imitates the Open WebUI release the real lab installs unless OWUI_SIM_VERSION says otherwise', () => {
    expect(configFromEnv({}).features.version).toBe(DEFAULT_OPENWEBUI_VERSION);
    expect(configFromEnv({ OWUI_SIM_VERSION: '0.11.0' }).features.version).toBe('0.11.0');
  });

  it('picks the API-key switch by version', () => {
    expect(configFromEnv({ OWUI_SIM_VERSION: '0.6.30' }).enableApiKeys).toBe(true);
    expect(configFromEnv({ OWUI_SIM_VERSION: '0.6.30', ENABLE_API_KEY: 'false' }).enableApiKeys).toBe(false);
    expect(configFromEnv({ ENABLE_API_KEYS: 'true' }).enableApiKeys).toBe(true);
    expect(configFromEnv({ ENABLE_API_KEY: 'true' }).enableApiKeys).toBe(false);
  });

  it('names the variable in its errors', () => {
    expect(() => configFromEnv({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL scheme/);
    expect(() => configFromEnv({ REDIS_URL: 'redis://m', OWUI_SIM_REDIS_NATMAP: '{' })).toThrow(
      /OWUI_SIM_REDIS_NATMAP/,
    );
    expect(() => configFromEnv({ JWT_EXPIRES_IN: 'soon' })).toThrow(/JWT_EXPIRES_IN/);
    expect(() => configFromEnv({ DEFAULT_USER_ROLE: 'root' })).toThrow(/DEFAULT_USER_ROLE/);
  });
});

describe('parseJwtExpiry', () => {
  it('reads Open WebUI durations; -1 and 0 mean no expiry', () => {
    expect(parseJwtExpiry('4w')).toBe(4 * 604_800_000);
    expect(parseJwtExpiry('1h30m')).toBe(5_400_000);
    expect(parseJwtExpiry('500ms')).toBe(500);
    expect(parseJwtExpiry('-1')).toBeUndefined();
    expect(parseJwtExpiry('0')).toBeUndefined();
    expect(() => parseJwtExpiry('4 weeks')).toThrow();
  });
});

describe('parseRedisUrl', () => {
  it('takes the master-set name from the host, defaulting to mymaster', () => {
    expect(parseRedisUrl('redis://mymaster:6379/0')).toMatchObject({ masterName: 'mymaster', db: 0 });
    expect(parseRedisUrl('redis://user:pw@other/3')).toMatchObject({
      masterName: 'other',
      username: 'user',
      password: 'pw',
      db: 3,
    });
    expect(parseRedisUrl('redis://')).toMatchObject({ masterName: 'mymaster' });
  });
});
