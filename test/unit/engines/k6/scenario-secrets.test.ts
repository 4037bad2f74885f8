// The scenarios' secrets (scenarios/lib/config.ts readSecrets): the env vars k6-operator sets, and
// the file `load --engine k6` writes (OWUI_SECRETS_FILE), which holds any number of users.
import { describe, expect, it } from 'vitest';
import { readSecrets } from '../../../../scenarios/lib/config.js';

describe('readSecrets', () => {
  it('reads the env vars alone (k6-operator: tokens from a Secret)', () => {
    expect(
      readSecrets({
        OWUI_API_TOKENS: 'sk-a, sk-b',
        OWUI_USER_TOKENS: '[{"token":"j1","id":"u1"},{"bad":1}]',
      }),
    ).toEqual({ apiTokens: ['sk-a', 'sk-b'], userTokens: [{ token: 'j1', id: 'u1' }], signIn: [] });
  });

  it('reads the secrets file first, then the env vars', () => {
    const users = Array.from({ length: 1_000 }, (_, i) => ({
      token: `jwt-${i}-${'x'.repeat(200)}`,
      id: `u${i}`,
    }));
    const text = JSON.stringify({ apiTokens: ['sk-f', '', 7], userTokens: [...users, { id: 'no-token' }] });
    // 1,000 users: far past the 128 KiB one env string may hold.
    expect(text.length).toBeGreaterThan(128 * 1024);
    const s = readSecrets({ OWUI_API_TOKENS: 'sk-e' }, text);
    expect(s.apiTokens).toEqual(['sk-f', 'sk-e']);
    expect(s.userTokens).toEqual(users);
  });

  it('refuses a file that is not a JSON object, naming it', () => {
    expect(() => readSecrets({}, '{not json')).toThrow(/OWUI_SECRETS_FILE is not JSON/);
    expect(() => readSecrets({}, 'null')).toThrow(/OWUI_SECRETS_FILE must hold a JSON object/);
  });
});
