// Secrets in config files: values that came from the environment for secret-looking keys
// (password, token, apiKey(s), secret) or from secret-looking variables (…_PASSWORD, …_TOKEN).
// Contract: `redact` returns a deep copy with every recorded secret replaced by
// `<redacted: from $NAME>`; `scrubText` removes secret values from free text (error messages),
// so neither `--json` output nor error text ever carries a secret.

import type { DocPath } from './source.js';

/** Where a secret sits in a document and which environment variable it came from. */
export interface SecretRef {
  path: Array<string | number>;
  env: string;
  /** The resolved value, kept only so free text can be scrubbed. Never print it. */
  value: string;
}

const SECRET_KEY = /(pass(word)?|token|api[-_]?keys?|secret|credential)/i;
const SECRET_ENV = /(PASS|TOKEN|SECRET|API_?KEY|CREDENTIAL|PRIVATE_KEY)/i;

/** True when the value at `path` would be secret if it came from the environment. */
export function isSecretPath(path: DocPath): boolean {
  return path.some((segment) => typeof segment === 'string' && SECRET_KEY.test(segment));
}

export function isSecretEnvName(name: string): boolean {
  return SECRET_ENV.test(name);
}

export function redactionMarker(env: string): string {
  return `<redacted: from $${env}>`;
}

/** The secret recorded at exactly `path`, if any. */
export function secretAt(secrets: readonly SecretRef[], path: DocPath): SecretRef | undefined {
  return secrets.find((s) => s.path.length === path.length && s.path.every((seg, i) => seg === path[i]));
}

/** A deep copy of `value` with every secret replaced by its redaction marker. */
export function redact<T>(value: T, secrets: readonly SecretRef[]): T {
  const copy = structuredClone(value) as unknown;
  for (const secret of secrets) {
    if (secret.path.length === 0) return redactionMarker(secret.env) as T;
    let parent: unknown = copy;
    for (const segment of secret.path.slice(0, -1)) {
      parent = isContainer(parent) ? (parent as Record<string | number, unknown>)[segment] : undefined;
    }
    const last = secret.path[secret.path.length - 1] as string | number;
    if (isContainer(parent) && last in parent) {
      (parent as Record<string | number, unknown>)[last] = redactionMarker(secret.env);
    }
  }
  return scrubDeep(copy, secrets) as T;
}

/** Replaces every occurrence of a secret value in `text` with its marker. */
export function scrubText(text: string, secrets: readonly SecretRef[]): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole. Very short values are
  // skipped: replacing "a" everywhere would mangle the text and hide nothing worth hiding.
  for (const secret of [...secrets].sort((a, b) => b.value.length - a.value.length)) {
    if (secret.value.length < 4) continue;
    out = out.split(secret.value).join(redactionMarker(secret.env));
  }
  return out;
}

function scrubDeep(value: unknown, secrets: readonly SecretRef[]): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, secrets));
  if (isContainer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubDeep(v, secrets)]));
  }
  return value;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
