// Authentication as Open WebUI v0.11 does it (docs/openwebui-protocol.md §2): HS256 JWTs with a
// per-request revocation lookup in Redis (errors NOT caught: a Redis outage is a 500 on every JWT
// request), `sk-` API keys behind their enable switches, the `token` cookie, the per-email sign-in
// limiter in Redis with an in-process fallback, and the `/api/v1/auths/*` routes.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.js';
import { HttpError, MESSAGES, parseCookies, readJson, sendJson, str } from './http-util.js';
import { type JwtClaims, signJwt, verifyJwt } from './jwt.js';
import { checkPassword, hashPassword, type Role, type SimUser } from './store.js';

export interface AuthedUser {
  user: SimUser;
  via: 'jwt' | 'api_key';
  token: string;
  claims?: JwtClaims;
}

const RATE_LIMIT = 15;
const RATE_WINDOW_SEC = 180;
const RATE_BUCKET_SEC = 60;

/** The credential a request carries: Bearer header, then `token` cookie, then `x-api-key`. */
export function requestCredential(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '').trim() || undefined;
  const cookie = parseCookies(req.headers.cookie).token;
  if (cookie) return cookie;
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key !== '' ? key : undefined;
}

export function userPermissions(ctx: SimContext, role: Role): Record<string, unknown> {
  const admin = role === 'admin';
  return {
    workspace: { models: admin, knowledge: admin, prompts: admin, tools: admin },
    chat: { controls: true, file_upload: true, delete: true, edit: true, temporary: true },
    features: {
      api_keys: admin || ctx.config.userApiKeysPermission,
      web_search: true,
      image_generation: true,
      code_interpreter: true,
      channels: admin,
    },
  };
}

export class AuthService {
  /** Per-process limiter used when Redis is absent or failing: email → attempt times (s). */
  private readonly localAttempts = new Map<string, number[]>();

  constructor(private readonly ctx: SimContext) {}

  issueToken(user: SimUser): { token: string; expires_at: number | null } {
    const nowSec = Math.floor(Date.now() / 1000);
    const exp =
      this.ctx.config.jwtExpiresMs === undefined
        ? undefined
        : nowSec + Math.floor(this.ctx.config.jwtExpiresMs / 1000);
    const claims: JwtClaims = { id: user.id };
    if (exp !== undefined) claims.exp = exp;
    if (this.ctx.features.jwtFullClaims) {
      claims.jti = randomUUID();
      if (this.ctx.features.jwtIat) claims.iat = nowSec;
    }
    return { token: signJwt(claims, this.ctx.config.secretKey), expires_at: exp ?? null };
  }

  /** ≤ 0.9.5: a config read is a Redis GET, so a Redis outage breaks the endpoint. */
  async configRead(name: string): Promise<void> {
    if (!this.ctx.features.configReadsInRedis || !this.ctx.redis) return;
    await this.ctx.redis.retry((r) => r.get(this.ctx.key(`config:${name}`)));
  }

  /** get_current_user: any role; throws HttpError 401/403, or a raw Redis error (→ 500). */
  async currentUser(req: IncomingMessage): Promise<AuthedUser> {
    const token = requestCredential(req);
    if (!token) throw new HttpError(401, MESSAGES.notAuthenticated);
    if (token.startsWith('sk-')) return this.apiKeyUser(token);
    const check = verifyJwt(token, this.ctx.config.secretKey, Math.floor(Date.now() / 1000));
    if (!check.ok) throw new HttpError(401, MESSAGES.invalidToken);
    const claims = check.claims;
    if (this.ctx.redis && this.ctx.features.jwtFullClaims) {
      // Two GETs per request, errors deliberately uncaught (§2.2).
      const redis = this.ctx.redis;
      const revoked = claims.jti
        ? await redis.retry((r) => r.get(this.ctx.key(`auth:token:${claims.jti}:revoked`)))
        : null;
      if (revoked) throw new HttpError(401, MESSAGES.invalidToken);
      const revokedAt = await redis.retry((r) => r.get(this.ctx.key(`auth:user:${claims.id}:revoked_at`)));
      if (revokedAt && typeof claims.iat === 'number' && claims.iat < Number(revokedAt))
        throw new HttpError(401, MESSAGES.invalidToken);
    }
    const user = await this.ctx.store.getUser(claims.id);
    if (!user) throw new HttpError(401, MESSAGES.invalidToken);
    return { user, via: 'jwt', token, claims };
  }

  private async apiKeyUser(token: string): Promise<AuthedUser> {
    if (!this.ctx.config.enableApiKeys) throw new HttpError(403, MESSAGES.apiKeyNotAllowed);
    const user = await this.ctx.store.getUserByApiKey(token);
    if (!user) throw new HttpError(401, MESSAGES.invalidToken);
    if (user.role !== 'admin' && !this.ctx.config.userApiKeysPermission)
      throw new HttpError(403, MESSAGES.apiKeyNotAllowed);
    return { user, via: 'api_key', token };
  }

  async verifiedUser(req: IncomingMessage): Promise<AuthedUser> {
    const authed = await this.currentUser(req);
    if (authed.user.role !== 'user' && authed.user.role !== 'admin')
      throw new HttpError(401, MESSAGES.accessProhibited);
    return authed;
  }

  async adminUser(req: IncomingMessage): Promise<AuthedUser> {
    const authed = await this.currentUser(req);
    if (authed.user.role !== 'admin') throw new HttpError(401, MESSAGES.accessProhibited);
    return authed;
  }

  /** Socket auth: a valid JWT of a user/admin, else undefined (sk- keys cannot open sockets). */
  async socketUser(token: unknown): Promise<SimUser | undefined> {
    if (typeof token !== 'string' || token === '' || token.startsWith('sk-')) return undefined;
    const check = verifyJwt(token, this.ctx.config.secretKey, Math.floor(Date.now() / 1000));
    if (!check.ok) return undefined;
    const user = await this.ctx.store.getUser(check.claims.id);
    return user && (user.role === 'user' || user.role === 'admin') ? user : undefined;
  }

  /** Counts this attempt; true when the email made more than 15 attempts in 180 s. */
  async rateLimited(email: string): Promise<boolean> {
    if (!this.ctx.features.heartbeat) return false; // the limiter arrived with 0.6.41
    const key = email.trim().toLowerCase();
    const nowSec = Math.floor(Date.now() / 1000);
    if (this.ctx.redis) {
      try {
        const bucket = Math.floor(nowSec / RATE_BUCKET_SEC);
        const redis = this.ctx.redis;
        const current = this.ctx.key(`ratelimit:${key}:${bucket}`);
        await redis.retry(async (r) => {
          await r.incr(current);
          await r.expire(current, RATE_WINDOW_SEC + RATE_BUCKET_SEC);
        });
        const keys = Array.from({ length: RATE_WINDOW_SEC / RATE_BUCKET_SEC }, (_, i) =>
          this.ctx.key(`ratelimit:${key}:${bucket - i}`),
        );
        const counts = await redis.retry((r) => r.mget(...keys));
        return counts.reduce((sum, c) => sum + Number(c ?? 0), 0) > RATE_LIMIT;
      } catch {
        // Falls back to memory, like Open WebUI's limiter.
      }
    }
    const times = (this.localAttempts.get(key) ?? []).filter((t) => t > nowSec - RATE_WINDOW_SEC);
    times.push(nowSec);
    this.localAttempts.set(key, times);
    return times.length > RATE_LIMIT;
  }

  private cookie(token: string, expiresAt: number | null): string {
    const expires = expiresAt === null ? '' : `; Expires=${new Date(expiresAt * 1000).toUTCString()}`;
    return `token=${token}; HttpOnly; Path=/; SameSite=Lax${expires}`;
  }

  private sessionBody(user: SimUser, token: string, expiresAt: number | null): Record<string, unknown> {
    return {
      token,
      token_type: 'Bearer',
      expires_at: expiresAt,
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      profile_image_url: user.profile_image_url,
      permissions: userPermissions(this.ctx, user.role),
    };
  }

  private async newUser(body: Record<string, unknown>, role: Role): Promise<SimUser> {
    const email = str(body, 'email')?.trim().toLowerCase();
    const password = str(body, 'password');
    const name = str(body, 'name')?.trim();
    if (!email || !/^[^@\s]+@[^@\s]+$/.test(email) || password === undefined || !name) {
      throw new HttpError(400, 'Invalid email format, or missing name or password.');
    }
    const { hash, salt } = await hashPassword(password);
    const id = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const user: SimUser = {
      id,
      email,
      name,
      role,
      profile_image_url: str(body, 'profile_image_url') ?? `/api/v1/users/${id}/profile/image`,
      password_hash: hash,
      salt,
      api_key: null,
      created_at: now,
      updated_at: now,
    };
    if (!(await this.ctx.store.insertUser(user))) throw new HttpError(400, MESSAGES.emailTaken);
    return user;
  }

  async signin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    await this.configRead('auth.enable_login_form');
    if (!this.ctx.config.enablePasswordAuth) throw new HttpError(403, MESSAGES.passwordAuthDisabled);
    const email = str(body, 'email') ?? '';
    if (await this.rateLimited(email)) throw new HttpError(429, MESSAGES.rateLimited);
    const user = await this.ctx.store.getUserByEmail(email);
    if (!user || !(await checkPassword(user, str(body, 'password') ?? '')))
      throw new HttpError(400, MESSAGES.invalidCred);
    const { token, expires_at } = this.issueToken(user);
    sendJson(res, 200, this.sessionBody(user, token, expires_at), {
      'set-cookie': this.cookie(token, expires_at),
    });
  }

  async signup(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    await this.configRead('ui.enable_signup');
    const first = (await this.ctx.store.countUsers()) === 0;
    if (!first && !this.ctx.config.enableSignup) throw new HttpError(403, MESSAGES.signupDisabled);
    const user = await this.newUser(body, first ? 'admin' : this.ctx.config.defaultUserRole);
    const { token, expires_at } = this.issueToken(user);
    sendJson(res, 200, this.sessionBody(user, token, expires_at), {
      'set-cookie': this.cookie(token, expires_at),
    });
  }

  async add(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await this.adminUser(req);
    const body = await readJson(req);
    const role = str(body, 'role') ?? 'pending';
    if (role !== 'pending' && role !== 'user' && role !== 'admin')
      throw new HttpError(400, `Invalid role "${role}"`);
    const user = await this.newUser(body, role);
    const { token } = this.issueToken(user);
    sendJson(res, 200, {
      token,
      token_type: 'Bearer',
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      profile_image_url: user.profile_image_url,
    });
  }

  async session(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const authed = await this.currentUser(req);
    const exp = typeof authed.claims?.exp === 'number' ? authed.claims.exp : null;
    const body = {
      ...this.sessionBody(authed.user, authed.token, exp),
      bio: null,
      gender: null,
      date_of_birth: null,
      status_emoji: null,
      status_message: null,
    };
    sendJson(res, 200, body, authed.via === 'jwt' ? { 'set-cookie': this.cookie(authed.token, exp) } : {});
  }

  async signout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const authed = await this.currentUser(req);
    const claims = authed.claims;
    if (this.ctx.redis && claims?.jti) {
      const ttl = typeof claims.exp === 'number' ? claims.exp - Math.floor(Date.now() / 1000) : undefined;
      const key = this.ctx.key(`auth:token:${claims.jti}:revoked`);
      await this.ctx.redis.retry((r) =>
        ttl === undefined ? r.set(key, '1') : r.set(key, '1', 'EX', Math.max(1, ttl)),
      );
    }
    sendJson(
      res,
      200,
      { status: true },
      {
        'set-cookie': ['token=; Max-Age=0; Path=/', 'oui-session=; Max-Age=0; Path=/'],
      },
    );
  }

  async apiKey(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const { user } = await this.verifiedUser(req);
    if (method === 'GET') {
      if (!user.api_key) throw new HttpError(404, 'API key not found');
      sendJson(res, 200, { api_key: user.api_key });
      return;
    }
    if (method === 'DELETE') {
      await this.ctx.store.setApiKey(user.id, null);
      sendJson(res, 200, true);
      return;
    }
    if (!this.ctx.config.enableApiKeys || (user.role !== 'admin' && !this.ctx.config.userApiKeysPermission)) {
      throw new HttpError(403, MESSAGES.apiKeyNotAllowed);
    }
    const key = `sk-${randomUUID().replace(/-/g, '')}`;
    await this.ctx.store.setApiKey(user.id, key);
    sendJson(res, 200, { api_key: key });
  }
}
