// Environment references in config files, resolved before schema validation:
//   - `${NAME}` (or `${NAME:-fallback}`) inside any string; `$${` writes a literal `${`;
//   - `{ env: NAME, default?: value }` anywhere a scalar goes.
// Contract: never throws and never reads `process.env` itself (the caller injects the env
// object). Returns the resolved data, the secrets it produced (for redaction) and one issue per
// missing variable; a missing value is replaced by "" so validation can go on and report
// everything else in the same pass.

import { closest } from './suggest.js';
import { isSecretEnvName, isSecretPath, type SecretRef } from './secrets.js';
import type { ConfigIssue } from './issues.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvResolution {
  data: unknown;
  secrets: SecretRef[];
  /** ENV_MISSING and malformed-reference issues, without file positions (the caller adds them). */
  issues: ConfigIssue[];
  /** Paths whose value was missing (schema issues there are noise and are dropped). */
  missingPaths: Array<Array<string | number>>;
}

const INTERPOLATION = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function resolveEnv(data: unknown, env: Env): EnvResolution {
  const result: EnvResolution = { data: undefined, secrets: [], issues: [], missingPaths: [] };
  result.data = walk(data, [], env, result);
  return result;
}

function walk(value: unknown, path: Array<string | number>, env: Env, out: EnvResolution): unknown {
  if (typeof value === 'string') return interpolate(value, path, env, out);
  if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i], env, out));
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if ('env' in record) return envReference(record, path, env, out);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, walk(v, [...path, k], env, out)]));
  }
  return value;
}

function envReference(
  record: Record<string, unknown>,
  path: Array<string | number>,
  env: Env,
  out: EnvResolution,
): unknown {
  const where = path.join('.');
  const extra = Object.keys(record).filter((k) => k !== 'env' && k !== 'default');
  for (const key of extra) {
    const guess = closest(key, ['env', 'default']);
    out.issues.push({
      code: 'UNKNOWN_KEY',
      path: [...path, key].join('.'),
      message: `unknown key \`${key}\` in an environment reference${guess ? ` — did you mean \`${guess}\`?` : ''}; use \`{ env: NAME, default: value }\``,
    });
  }
  const name = record['env'];
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    out.issues.push({
      code: 'INVALID_VALUE',
      path: [...path, 'env'].join('.'),
      message: `\`${[...path, 'env'].join('.')}\` is ${JSON.stringify(name)}; use the name of an environment variable, e.g. \`{ env: OWUI_ADMIN_PASSWORD }\``,
    });
    out.missingPaths.push(path);
    return '';
  }
  const fromEnv = env[name];
  if (fromEnv !== undefined) {
    if (isSecretPath(path) || isSecretEnvName(name)) out.secrets.push({ path, env: name, value: fromEnv });
    return fromEnv;
  }
  if ('default' in record) {
    const fallback = record['default'];
    if (fallback !== null && typeof fallback === 'object') {
      out.issues.push({
        code: 'INVALID_TYPE',
        path: [...path, 'default'].join('.'),
        message: `\`${[...path, 'default'].join('.')}\` is an ${Array.isArray(fallback) ? 'array' : 'object'}; use a string, number or boolean`,
      });
    }
    return fallback;
  }
  out.issues.push(missing(name, where));
  out.missingPaths.push(path);
  return '';
}

function interpolate(text: string, path: Array<string | number>, env: Env, out: EnvResolution): string {
  if (!text.includes('${')) return text;
  let secretEnv: string | undefined;
  let missingAny = false;
  const resolved = text.replace(
    INTERPOLATION,
    (match: string, name: string | undefined, fallback: string | undefined) => {
      if (match === '$${') return '${';
      const key = name as string;
      const value = env[key];
      if (value === undefined && fallback === undefined) {
        out.issues.push(missing(key, path.join('.')));
        missingAny = true;
        return '';
      }
      if (value !== undefined && secretEnv === undefined && (isSecretPath(path) || isSecretEnvName(key)))
        secretEnv = key;
      return value ?? fallback ?? '';
    },
  );
  if (missingAny) out.missingPaths.push(path);
  if (secretEnv !== undefined) out.secrets.push({ path, env: secretEnv, value: resolved });
  return resolved;
}

function missing(name: string, where: string): ConfigIssue {
  return {
    code: 'ENV_MISSING',
    path: where,
    message: `environment variable \`${name}\` is not set (referenced by \`${where || '(document)'}\`); export ${name}=… or give a \`default\``,
  };
}
