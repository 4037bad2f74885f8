// What a real browser sends and sees when it opens Open WebUI's socket and chats over it
// (docs/browser-measure.md). Pure and portable: the Node engine's and the k6 scenarios' browser
// clients both decide with these functions, so the two engines classify every failure the same way.
//
// Contract:
// - `siteOrigin(url, configured?)` is the `Origin` a browser on that site sends: the configured
//   one, else scheme://host[:port] of the URL (default ports dropped, as browsers do).
// - Every failed connection attempt maps to ONE `ConnectFailure` with a `reason` from
//   CONNECT_ERROR_REASONS (and `status` for a refused handshake):
//   handshake (HTTP status ≠ 101), origin_refused (python-engineio's "… is not an accepted origin."
//   — Open WebUI's CORS_ALLOW_ORIGIN), network (no HTTP answer at all), connect_error (Socket.IO
//   CONNECT refused), join_refused (`user-join` acked empty or without a user id), join_timeout,
//   connect_timeout (no join within the connect budget), closed (closed before joining).
// - `classifySocketChatReply` accepts a socket-mode chat reply only when it is a 2xx JSON object
//   carrying `task_ids`/`task_id` or `status`; anything else (an SSE stream, HTML, a JSON list) is a
//   protocol error that names the status and content type.

import { isRecord } from './json.js';

export const CONNECT_ERROR_REASONS = [
  'handshake',
  'origin_refused',
  'network',
  'connect_error',
  'join_refused',
  'join_timeout',
  'connect_timeout',
  'closed',
] as const;
export type ConnectErrorReason = (typeof CONNECT_ERROR_REASONS)[number];

export interface ConnectFailure {
  reason: ConnectErrorReason;
  /** HTTP status of a refused handshake. */
  status?: string;
  /** A short human-readable detail (not a tag: unbounded). */
  detail?: string;
}

/** python-engineio's answer to an Origin outside `cors_allowed_origins`. */
const ORIGIN_REFUSED = /is not an accepted origin/i;

export function siteOrigin(baseUrl: string, configured?: string): string {
  const source = configured !== undefined && configured !== '' ? configured : baseUrl;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(source.trim());
  if (!m) return source.trim();
  const scheme = m[1]!.toLowerCase();
  let host = m[2]!.replace(/^[^@]*@/, '').toLowerCase();
  if ((scheme === 'http' && host.endsWith(':80')) || (scheme === 'https' && host.endsWith(':443')))
    host = host.slice(0, host.lastIndexOf(':'));
  return `${scheme}://${host}`;
}

/**
 * A websocket handshake answered with something other than 101. Real Open WebUI 0.12.4 refuses an
 * Origin outside CORS_ALLOW_ORIGIN with a bare 403 and an empty body (docs/openwebui-protocol.md);
 * older python-engineio answers 400 "… is not an accepted origin.". Our clients always ask for
 * EIO=4, the other cause of a 403 there, so a 403 is read as an origin refusal.
 */
export function handshakeFailure(status: number, body: string): ConnectFailure {
  const detail = body.slice(0, 200);
  if (ORIGIN_REFUSED.test(body) || (status === 403 && body.trim() === ''))
    return { reason: 'origin_refused', status: String(status), detail };
  return { reason: 'handshake', status: String(status), detail };
}

/** A Socket.IO CONNECT refused (`44{…}`). */
export function connectErrorFailure(data: unknown): ConnectFailure {
  const message =
    isRecord(data) && typeof data['message'] === 'string' ? data['message'] : JSON.stringify(data);
  const detail = String(message ?? '').slice(0, 200);
  return ORIGIN_REFUSED.test(detail)
    ? { reason: 'origin_refused', detail }
    : { reason: 'connect_error', detail };
}

/**
 * The `user-join` ack: Open WebUI answers `{id, name}` for a user it accepted and an EMPTY ack when
 * the token is not valid there (e.g. signed with another replica's WEBUI_SECRET_KEY). Undefined =
 * joined.
 */
export function joinAckFailure(args: readonly unknown[]): ConnectFailure | undefined {
  const first = args[0];
  if (isRecord(first) && (typeof first['id'] === 'string' || typeof first['id'] === 'number'))
    return undefined;
  return {
    reason: 'join_refused',
    detail: args.length === 0 ? 'empty ack' : JSON.stringify(args).slice(0, 200),
  };
}

export type SocketChatReply =
  { ok: true } | { ok: false; status: string; contentType: string; detail: string };

/** Is a 2xx reply to a socket-mode chat what Open WebUI sends (`{status, task_ids}`)? */
export function classifySocketChatReply(
  status: number,
  contentType: string | undefined,
  bodyText: string,
): SocketChatReply {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase() || 'none';
  const bad = (detail: string): SocketChatReply => ({
    ok: false,
    status: String(status),
    contentType: type,
    detail,
  });
  if (!type.includes('json')) return bad(`expected a JSON task reply, got ${type}: ${bodyText.slice(0, 80)}`);
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return bad(`the reply is not JSON: ${bodyText.slice(0, 80)}`);
  }
  if (!isRecord(body)) return bad(`the reply is not a JSON object: ${bodyText.slice(0, 80)}`);
  if ('task_ids' in body || 'task_id' in body || 'status' in body) return { ok: true };
  return bad(`the reply has no task_ids/status: ${bodyText.slice(0, 80)}`);
}

/** How long a socket chat may wait for its first event before it counts as lost (seconds, not the chat timeout). */
export const DEFAULT_EVENT_GRACE_MS = 10_000;
