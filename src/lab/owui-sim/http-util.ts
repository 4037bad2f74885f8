// Small HTTP helpers for the simulator's node:http server: FastAPI-shaped errors
// (`{"detail": …}`), JSON bodies, cookies.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** An expected failure answered as FastAPI does: status + `{"detail": …}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
  }
}

/** Open WebUI's ERROR_MESSAGES that clients see. */
export const MESSAGES = {
  notAuthenticated: 'Not authenticated',
  invalidToken: 'Your session has expired or the token is invalid. Please sign in again.',
  accessProhibited:
    'You do not have permission to access this resource. Please contact your administrator for assistance.',
  invalidCred: 'The email or password provided is incorrect. Please check for typos and try logging in.',
  emailTaken:
    'Uh-oh! This email is already registered. Sign in with your existing account or choose another email to start anew.',
  apiKeyNotAllowed: 'Use of API key is not enabled in the environment.',
  notFound: "We could not find what you're looking for :/",
  modelNotFound: 'Model not found',
  rateLimited: 'Too many sign-in attempts. Please try again later.',
  passwordAuthDisabled: 'Password authentication is disabled.',
  signupDisabled:
    'You do not have permission to access this resource. Please contact your administrator for assistance.',
} as const;

const MAX_BODY = 4 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'Request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(422, [{ type: 'json_invalid', loc: ['body'], msg: 'JSON decode error' }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(422, [
      { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be an object' },
    ]);
  }
  return value as Record<string, unknown>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string | string[]> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const key = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      out[key] = value;
    }
  }
  return out;
}

export function str(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  return typeof v === 'string' ? v : undefined;
}
