import { describe, expect, it } from 'vitest';
import { resolveEnv } from '../../../../src/core/config/env.js';
import { parseTarget } from '../../../../src/core/config/target.js';
import { redact, scrubText } from '../../../../src/core/config/secrets.js';
import { renderError } from '../../../../src/cli/base-command.js';
import { rejection } from './helpers.js';

describe('environment references', () => {
  it('interpolates ${VAR}, ${VAR:-fallback} and $${ (a literal)', () => {
    const { data, issues } = resolveEnv(
      { a: 'http://${HOST}:${PORT:-8080}/x', b: 'cost $${NOT_A_VAR}' },
      { HOST: 'h' },
    );
    expect(issues).toEqual([]);
    expect(data).toEqual({ a: 'http://h:8080/x', b: 'cost ${NOT_A_VAR}' });
  });

  it('replaces { env, default } anywhere a scalar goes, keeping the default’s type', () => {
    const { data } = resolveEnv(
      { list: [{ env: 'A' }, { env: 'B', default: 3 }], flag: { env: 'C', default: false } },
      { A: 'x' },
    );
    expect(data).toEqual({ list: ['x', 3], flag: false });
  });

  it('reports every missing variable with where it is referenced, and carries on', () => {
    const { data, issues, missingPaths } = resolveEnv(
      { a: { env: 'MISSING_ONE' }, b: ['${MISSING_TWO}'] },
      {},
    );
    expect(issues.map((i) => [i.code, i.path])).toEqual([
      ['ENV_MISSING', 'a'],
      ['ENV_MISSING', 'b.0'],
    ]);
    expect(issues[1]?.message).toContain('`MISSING_TWO` is not set (referenced by `b.0`)');
    expect(data).toEqual({ a: '', b: [''] });
    expect(missingPaths).toEqual([['a'], ['b', 0]]);
  });

  it('records secrets by key (password, token, apiKeys, secret) or by variable name', () => {
    const { secrets } = resolveEnv(
      {
        password: { env: 'P' },
        apiKeys: ['${K}'],
        url: 'http://${DB_PASSWORD}@x',
        user: { env: 'USER_NAME' },
        nested: { jwtSecret: { env: 'S' } },
      },
      { P: 'p-value', K: 'k-value', DB_PASSWORD: 'db-value', USER_NAME: 'alice', S: 's-value' },
    );
    expect(secrets.map((s) => [s.path.join('.'), s.env])).toEqual([
      ['password', 'P'],
      ['apiKeys.0', 'K'],
      ['url', 'DB_PASSWORD'],
      ['nested.jwtSecret', 'S'],
    ]);
  });
});

describe('redaction', () => {
  it('returns a copy with each secret replaced by where it came from, leaving the original intact', () => {
    const original = { auth: { password: 'hunter2-long', apiKeys: ['sk-1234'] }, url: 'http://x' };
    const secrets = [
      { path: ['auth', 'password'], env: 'PW', value: 'hunter2-long' },
      { path: ['auth', 'apiKeys', 0], env: 'KEY', value: 'sk-1234' },
    ];
    expect(redact(original, secrets)).toEqual({
      auth: { password: '<redacted: from $PW>', apiKeys: ['<redacted: from $KEY>'] },
      url: 'http://x',
    });
    expect(original.auth.password).toBe('hunter2-long');
  });

  it('scrubs secret values out of free text (also where a secret was copied to another field)', () => {
    const secrets = [{ path: ['p'], env: 'PW', value: 'hunter2-long' }];
    expect(scrubText('login with hunter2-long failed', secrets)).toBe(
      'login with <redacted: from $PW> failed',
    );
    expect(redact({ p: 'hunter2-long', note: 'pw=hunter2-long' }, secrets)).toEqual({
      p: '<redacted: from $PW>',
      note: 'pw=<redacted: from $PW>',
    });
  });

  it('never prints a secret in a validation error, even where the secret is the wrong value', async () => {
    const secret = 'tok-3c9d2e8f';
    const error = await rejection(
      parseTarget(
        'openwebui: { url: "${OWUI_API_TOKEN}" }\nauth: { apiKeys: ["${OWUI_API_TOKEN}"] }\nmodel: 12\n',
        '/tmp/t.yaml',
        { OWUI_API_TOKEN: secret },
      ),
    );
    const text = renderError(error) + JSON.stringify(error.toJSON());
    expect(text).not.toContain(secret);
    expect(error.issues.find((i) => i.path === 'openwebui.url')?.message).toBe(
      '`openwebui.url` is <redacted: from $OWUI_API_TOKEN>; use an http(s) URL such as `http://127.0.0.1:8080`',
    );
    expect(error.issues.find((i) => i.path === 'model')?.message).toBe(
      '`model` is 12 (a number); use the model id to chat with, e.g. `owui-chaos-mock`',
    );
  });
});
