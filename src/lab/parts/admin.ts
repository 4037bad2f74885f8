// Lab part: the lab admin. The first signup through nginx becomes the admin; then the model path
// is checked end to end with its token. It has no process of its own: nothing to stop or list.

import { randomBytes } from 'node:crypto';
import { PreflightError } from '../../core/errors.js';
import { LAB_MODEL } from '../lab-target.js';
import { NO_ENDPOINTS, type LabPart } from './part.js';

export const adminPart: LabPart = {
  name: 'admin',

  async up(ctx) {
    const { settings, state, progress } = ctx;
    const url = state.nginx!.url;
    progress('signing up the lab admin');
    const admin = {
      email: `admin@${settings.name}.owui-chaos.lab`,
      password: randomBytes(12).toString('base64url'),
    };
    const token = await signupAdmin(url, admin.email, admin.password);
    state.admin = admin;
    if (ctx.wiring.plan().misconfigs.some((m) => m.name === 'secret-per-replica')) {
      // Built wrong on purpose: a token works only on the replica that signed it, so check each
      // replica's model path directly with a token of its own.
      for (const r of state.replicas)
        await checkModels(r.url, await signin(r.url, admin.email, admin.password));
    } else {
      await checkModels(url, token);
    }
  },

  status: () => Promise.resolve({ parts: [] }),
  down: () => Promise.resolve(),
  endpoints: () => NO_ENDPOINTS,
};

/** POSTs JSON to an auth endpoint; the parsed body (or {} when it is not JSON) and the raw text. */
async function postAuth<T>(
  url: string,
  body: unknown,
): Promise<{ res: Response; text: string; body: Partial<T> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  try {
    return { res, text, body: JSON.parse(text) as Partial<T> };
  } catch {
    return { res, text, body: {} };
  }
}

async function signupAdmin(baseUrl: string, email: string, password: string): Promise<string> {
  const { res, text, body } = await postAuth<{ token: string; role: string }>(
    `${baseUrl}/api/v1/auths/signup`,
    { name: 'owui-chaos lab admin', email, password },
  );
  if (!res.ok || typeof body.token !== 'string' || body.role !== 'admin') {
    throw new PreflightError(
      `Signing up the lab admin through nginx failed (HTTP ${res.status}, role ${body.role ?? 'none'})`,
      { code: 'LAB_PROVISION_FAILED', cause: new Error(text.slice(0, 500)) },
    );
  }
  return body.token;
}

async function signin(baseUrl: string, email: string, password: string): Promise<string> {
  const { res, text, body } = await postAuth<{ token: string }>(`${baseUrl}/api/v1/auths/signin`, {
    email,
    password,
  });
  if (!res.ok || typeof body.token !== 'string') {
    throw new PreflightError(`Signing in the lab admin at ${baseUrl} failed (HTTP ${res.status})`, {
      code: 'LAB_PROVISION_FAILED',
      cause: new Error(text.slice(0, 500)),
    });
  }
  return body.token;
}

async function checkModels(baseUrl: string, token: string): Promise<void> {
  const res = await fetch(`${baseUrl}/api/models`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let ids: string[] = [];
  try {
    ids = ((JSON.parse(text) as { data?: Array<{ id?: string }> }).data ?? []).map((m) => String(m.id));
  } catch {
    // reported below
  }
  if (!res.ok || !ids.includes(LAB_MODEL)) {
    throw new PreflightError(
      `The lab does not list model \`${LAB_MODEL}\` at ${baseUrl} (HTTP ${res.status})`,
      {
        code: 'LAB_PROVISION_FAILED',
        cause: new Error(text.slice(0, 500)),
      },
    );
  }
}
