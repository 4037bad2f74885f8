// Credentials for a load run against Open WebUI (docs/openwebui-protocol.md §2, §10.2): detect the
// version first, then either an admin adds N test users (`POST /api/v1/auths/add`, role user) or
// a given list of users signs in; API keys can be given for the SSE flow.
//
// Contract:
// - `GET /api/version` first; its `version` picks the behaviour (`behaviourFor`); a server that
//   does not answer it is assumed to be the newest version.
// - Every user signs in at most ONCE per run and the token is reused by every stream and socket of
//   that user (Open WebUI allows 15 sign-ins per 180 s per email, successful ones included). A
//   user created by `/auths/add` uses the token in the add reply, so it needs no sign-in at all;
//   an email that already exists (a previous run) signs in with the given password.
// - A 429 fails the whole provisioning with a PreflightError that says so and how long to wait;
//   other failures name the call, the status and the server's detail. Secrets are never printed.
// - API keys (`sk-…`) authenticate API streams only; sockets need user JWTs (§2.4).

import type { Dispatcher } from 'undici';
import { PreflightError } from '../../core/errors.js';
import { isRecord } from '../../protocol/json.js';
import {
  behaviourFor,
  parseVersion,
  REFERENCE_OPENWEBUI_VERSION,
  type OwuiBehaviour,
} from '../../protocol/openwebui.js';
import { replicaOf, requestJson, type JsonResponse } from './http.js';

export interface UserCredentials {
  email: string;
  password: string;
}

export interface AuthSource {
  /** Admin that adds `provision` test users. */
  admin?: UserCredentials;
  provision?: number;
  /** Emails of provisioned users: `<prefix>-<i>@<domain>`. */
  emailPrefix?: string;
  emailDomain?: string;
  /** Password given to provisioned users (and used to sign them in when they already exist). */
  userPassword?: string;
  /** Existing users that sign in once each. */
  users?: UserCredentials[];
  /** API keys for the SSE flow. */
  apiKeys?: string[];
  /** `openwebui.version` of the target when it is not `auto`: used instead of detection. */
  version?: string;
}

export interface LoadUser {
  email: string;
  token: string;
  id?: string;
}

export interface Credentials {
  version: string;
  /** Bearer credentials for API streams: API keys when given, else user JWTs. Empty = no auth. */
  apiTokens: string[];
  /** Users with a JWT, for browser clients (and API streams when no API key is given). */
  users: LoadUser[];
  signIns: number;
}

export const DEFAULT_USER_PASSWORD = 'owui-chaos-load-user';

export async function detectVersion(
  dispatcher: Dispatcher,
  baseUrl: string,
  signal?: AbortSignal,
): Promise<{ version: string; behaviour: OwuiBehaviour; detected: boolean }> {
  try {
    const res = await requestJson(dispatcher, `${trimSlash(baseUrl)}/api/version`, {
      ...(signal ? { signal } : {}),
      timeoutMs: 10_000,
    });
    if (res.status === 200 && isRecord(res.body) && typeof res.body['version'] === 'string') {
      const version = res.body['version'];
      return { version, behaviour: behaviourFor(parseVersion(version)), detected: true };
    }
  } catch {
    // Unreachable or not Open WebUI: the caller's first real request will say so precisely.
  }
  return {
    version: REFERENCE_OPENWEBUI_VERSION,
    behaviour: behaviourFor(parseVersion(REFERENCE_OPENWEBUI_VERSION)),
    detected: false,
  };
}

export async function provisionCredentials(
  dispatcher: Dispatcher,
  baseUrl: string,
  source: AuthSource,
  opts: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<Credentials> {
  const base = trimSlash(baseUrl);
  // The target's `openwebui.version` overrides detection (a proxy may hide /api/version).
  const version = source.version ?? (await detectVersion(dispatcher, base, opts.signal)).version;
  const creds: Credentials = { version, apiTokens: [], users: [], signIns: 0 };
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  const signIn = async (u: UserCredentials): Promise<LoadUser> => {
    creds.signIns++;
    const res = await call(
      dispatcher,
      `${base}/api/v1/auths/signin`,
      { body: { email: u.email, password: u.password } },
      opts.signal,
    );
    if (res.status === 429) throw rateLimited(u.email);
    const token = isRecord(res.body) ? res.body['token'] : undefined;
    if (res.status !== 200 || typeof token !== 'string') throw failed(`sign-in of ${u.email}`, res);
    const id = isRecord(res.body) && typeof res.body['id'] === 'string' ? res.body['id'] : undefined;
    return id === undefined ? { email: u.email, token } : { email: u.email, token, id };
  };

  if (source.admin && (source.provision ?? 0) > 0) {
    const admin = await signIn(source.admin);
    const prefix = source.emailPrefix ?? 'owui-chaos-load';
    const domain = source.emailDomain ?? 'owui-chaos.invalid';
    const password = source.userPassword ?? DEFAULT_USER_PASSWORD;
    const indexes = Array.from({ length: source.provision ?? 0 }, (_, i) => i);
    const added = await mapLimit(indexes, concurrency, async (i) => {
      const email = `${prefix}-${i}@${domain}`;
      const res = await call(
        dispatcher,
        `${base}/api/v1/auths/add`,
        {
          token: admin.token,
          body: {
            name: `owui-chaos load ${i}`,
            email,
            password,
            role: 'user',
            profile_image_url: '/user.png',
          },
        },
        opts.signal,
      );
      const body = isRecord(res.body) ? res.body : {};
      if (res.status === 200 && typeof body['token'] === 'string') {
        const user: LoadUser = { email, token: body['token'] };
        if (typeof body['id'] === 'string') user.id = body['id'];
        return user;
      }
      // Already registered (an earlier run): sign it in once with the known password.
      if (res.status === 400 && /already|registered|taken|exists/i.test(res.text))
        return signIn({ email, password });
      if (res.status === 429) throw rateLimited(email);
      if (res.status === 401) await diagnoseTokenRefusal(dispatcher, base, admin.token, opts.signal);
      throw failed(`adding test user ${email}`, res, [
        'Check that the admin credentials belong to an admin (role "admin") of this Open WebUI.',
      ]);
    });
    creds.users.push(...added);
  }
  if (source.users && source.users.length > 0) {
    creds.users.push(...(await mapLimit(source.users, concurrency, signIn)));
  }
  creds.apiTokens =
    source.apiKeys && source.apiKeys.length > 0 ? [...source.apiKeys] : creds.users.map((u) => u.token);
  // A token signed by one replica must be accepted by every other (they share WEBUI_SECRET_KEY).
  const probe = creds.users[0]?.token;
  if (probe !== undefined) await diagnoseTokenRefusal(dispatcher, base, probe, opts.signal);
  return creds;
}

/** Requests through the load balancer to see several replicas accept (or refuse) one token. */
const TOKEN_PROBES = 8;

/**
 * Sends one freshly issued token to the load balancer several times. Accepted by some replicas and
 * refused (401) by others: the replicas sign tokens with different WEBUI_SECRET_KEYs — a
 * PreflightError that says so. Refused everywhere: a PreflightError about the token itself.
 * Accepted everywhere: returns (the caller's own error, if any, stands).
 */
export async function diagnoseTokenRefusal(
  dispatcher: Dispatcher,
  base: string,
  token: string,
  signal?: AbortSignal,
): Promise<void> {
  const seen: Array<{ status: number; replica: string | undefined }> = [];
  for (let i = 0; i < TOKEN_PROBES; i++) {
    try {
      const res = await requestJson(dispatcher, `${base}/api/models`, {
        token,
        ...(signal ? { signal } : {}),
        timeoutMs: 10_000,
      });
      seen.push({ status: res.status, replica: replicaOf(res.headers) });
    } catch {
      // Unreachable now: the caller's error (or the load's) will say so.
    }
  }
  const verdict = classifyTokenProbes(seen);
  if (verdict.kind === 'secret-mismatch') {
    throw new PreflightError(
      `A token signed by one Open WebUI replica is refused by another (${verdict.summary}): the replicas do not share WEBUI_SECRET_KEY`,
      {
        code: 'SECRET_KEY_MISMATCH',
        suggestions: [
          'Give every replica the same WEBUI_SECRET_KEY (Open WebUI signs its JWTs with it; a per-replica or generated key makes each replica refuse the others’ tokens)',
          `for i in $(seq ${TOKEN_PROBES}); do curl -s -o /dev/null -w '%{http_code}\\n' -H "Authorization: Bearer $TOKEN" ${base}/api/models; done   # mixed 200/401`,
        ],
      },
    );
  }
  if (verdict.kind === 'refused-everywhere') {
    throw new PreflightError(
      `Open WebUI refuses the token it has just issued on every request (${verdict.summary})`,
      {
        code: 'TOKEN_REFUSED',
        suggestions: [
          'Check that the token is not revoked at once (Redis reachable from every replica) and that WEBUI_SECRET_KEY is not regenerated per process',
        ],
      },
    );
  }
}

/** Pure: what a series of probe answers (status + serving replica) says about a token. */
export function classifyTokenProbes(seen: ReadonlyArray<{ status: number; replica: string | undefined }>): {
  kind: 'accepted' | 'secret-mismatch' | 'refused-everywhere' | 'unknown';
  summary: string;
} {
  const ok = seen.filter((s) => s.status === 200);
  const refused = seen.filter((s) => s.status === 401);
  const names = (list: typeof seen): string =>
    [...new Set(list.map((s) => s.replica ?? '?'))].sort().join(', ');
  const summary = `${ok.length} of ${seen.length} accepted${ok.length ? ` (by ${names(ok)})` : ''}, ${refused.length} refused with 401${refused.length ? ` (by ${names(refused)})` : ''}`;
  if (ok.length > 0 && refused.length > 0) return { kind: 'secret-mismatch', summary };
  if (refused.length > 0 && refused.length === seen.length) return { kind: 'refused-everywhere', summary };
  if (ok.length > 0) return { kind: 'accepted', summary };
  return { kind: 'unknown', summary };
}

async function call(
  dispatcher: Dispatcher,
  url: string,
  o: { token?: string; body?: unknown },
  signal?: AbortSignal,
): Promise<JsonResponse> {
  try {
    return await requestJson(dispatcher, url, {
      method: 'POST',
      ...o,
      ...(signal ? { signal } : {}),
      timeoutMs: 30_000,
    });
  } catch (cause) {
    throw new PreflightError(
      `Open WebUI did not answer POST ${new URL(url).pathname} at ${new URL(url).origin}`,
      {
        code: 'TARGET_UNREACHABLE',
        cause,
        suggestions: [`curl -sS ${new URL(url).origin}/api/version`],
      },
    );
  }
}

function rateLimited(email: string): PreflightError {
  return new PreflightError(
    `Open WebUI rate-limited sign-in for ${email} (429; it allows 15 sign-ins per 180 s per email, successful ones included)`,
    {
      code: 'SIGNIN_RATE_LIMITED',
      suggestions: ['Wait 3 minutes before the next run, or give API keys / fewer runs per user.'],
    },
  );
}

function failed(what: string, res: JsonResponse, suggestions: string[] = []): PreflightError {
  const detail =
    isRecord(res.body) && typeof res.body['detail'] === 'string' ? `: ${res.body['detail']}` : '';
  return new PreflightError(`${what} failed with HTTP ${res.status}${detail}`, {
    code: 'AUTH_FAILED',
    suggestions,
  });
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** The target file's `auth` section (src/core/config/target.ts), structurally. */
export interface TargetAuth {
  admin?: UserCredentials | undefined;
  users?:
    | {
        provision?: { count: number; emailPrefix: string; password: string } | undefined;
        existing?: UserCredentials[] | undefined;
      }
    | undefined;
  apiKeys?: string[] | undefined;
}

/**
 * Maps a target's `auth` to an AuthSource, provisioning only as many users as the run needs
 * (`needUsers`: one per browser client and per API VU, at most the target's `count`), so a small
 * run does not sign in 50 users.
 */
export function authSourceFromTarget(auth: TargetAuth, needUsers: number, version?: string): AuthSource {
  const source: AuthSource = {};
  if (version !== undefined && version !== 'auto') source.version = version.replace(/^v/, '');
  const provision = auth.users?.provision;
  if (provision && auth.admin) {
    source.admin = auth.admin;
    source.provision = Math.max(1, Math.min(provision.count, needUsers));
    source.emailPrefix = provision.emailPrefix;
    source.userPassword = provision.password;
  }
  const existing = auth.users?.existing;
  if (existing) source.users = existing.slice(0, Math.max(1, needUsers));
  if (auth.apiKeys) source.apiKeys = auth.apiKeys;
  return source;
}
