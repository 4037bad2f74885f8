// `gameday --annotate grafana` (docs/gameday.md): fault windows and notes posted as Grafana
// annotations through its HTTP API — `POST /api/annotations` with `time` and, for a window,
// `timeEnd` (epoch ms), `tags` and `text`; without a dashboard UID it is an organization annotation
// that any dashboard shows through the built-in "Annotations & Alerts" source filtered by tags.
// The token comes from the environment (GRAFANA_TOKEN) and is sent as a Bearer header only: it is
// never printed, logged or put in an error. Posting never throws: a failure (refused, HTTP error,
// timeout) comes back as a warning text for the journal, so annotating can never crash a session
// or hold up a revert.

import { UsageError } from '../core/errors.js';

export interface GrafanaAnnotation {
  /** Epoch ms. */
  time: number;
  /** Epoch ms; a region (a fault window) when present. */
  timeEnd?: number;
  tags: string[];
  text: string;
}

export interface GrafanaAnnotatorOptions {
  /** Grafana's base URL, e.g. http://127.0.0.1:3000 (a sub-path such as /grafana is kept). */
  url: string;
  token?: string;
  dashboardUID?: string;
  timeoutMs?: number;
}

export interface Annotator {
  /** Resolves with undefined when posted, else a warning (never rejects). */
  post(a: GrafanaAnnotation): Promise<string | undefined>;
  readonly where: string;
}

export class GrafanaAnnotator implements Annotator {
  readonly where: string;
  private readonly endpoint: URL;

  constructor(private readonly opts: GrafanaAnnotatorOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw new UsageError(`--grafana-url ${opts.url} is not a URL; use e.g. http://127.0.0.1:3000`, {
        code: 'BAD_GRAFANA_URL',
      });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new UsageError(`--grafana-url ${opts.url} must be http:// or https://`, {
        code: 'BAD_GRAFANA_URL',
      });
    if (base.username || base.password)
      throw new UsageError('--grafana-url must not carry credentials; put the token in GRAFANA_TOKEN', {
        code: 'BAD_GRAFANA_URL',
      });
    this.endpoint = new URL(`${base.pathname.replace(/\/+$/, '')}/api/annotations`, base);
    this.where = this.endpoint.origin + this.endpoint.pathname;
  }

  async post(a: GrafanaAnnotation): Promise<string | undefined> {
    const body = {
      ...(this.opts.dashboardUID ? { dashboardUID: this.opts.dashboardUID } : {}),
      time: Math.round(a.time),
      ...(a.timeEnd !== undefined ? { timeEnd: Math.round(Math.max(a.timeEnd, a.time)) } : {}),
      tags: a.tags,
      text: a.text,
    };
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 5000),
        redirect: 'error',
      });
      const text = await res.text().catch(() => '');
      if (!res.ok)
        return `Grafana annotation not posted: ${this.where} answered HTTP ${res.status}${brief(text, this.opts.token)}`;
      return undefined;
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
      const why =
        e.name === 'TimeoutError'
          ? `no answer within ${(this.opts.timeoutMs ?? 5000) / 1000} s`
          : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
      return `Grafana annotation not posted to ${this.where}: ${scrub(why, this.opts.token)}`;
    }
  }
}

function scrub(text: string, token: string | undefined): string {
  return token ? text.split(token).join('***') : text;
}

function brief(body: string, token: string | undefined): string {
  const one = scrub(body, token).replace(/\s+/g, ' ').trim().slice(0, 200);
  return one ? ` (${one})` : '';
}

/**
 * A session's annotations: each fault window when it closes and each note, fire and forget. A
 * failure is a warning (`onWarning`), never an error of the session; `settled()` waits for the
 * posts in flight (each bounded by the annotator's timeout) before the journal is written.
 */
export class SessionAnnotations {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly runId: string,
    private readonly annotator: Annotator | undefined,
    private readonly onWarning: (text: string) => void,
  ) {}

  window(name: string, action: string, description: string, start: number, end: number): void {
    this.post({
      time: start,
      timeEnd: end,
      tags: ['owui-chaos', 'gameday', `run:${this.runId}`, `fault:${name}`, action],
      text: `fault ${name} (${action}): ${description}`,
    });
  }

  note(at: number, kind: string, text: string): void {
    this.post({
      time: at,
      tags: ['owui-chaos', 'gameday', `run:${this.runId}`, 'note', kind],
      text: `${kind}: ${text}`,
    });
  }

  settled(): Promise<unknown> {
    return Promise.allSettled([...this.inFlight]);
  }

  private post(a: GrafanaAnnotation): void {
    const annotator = this.annotator;
    if (!annotator) return;
    const p: Promise<void> = annotator
      .post(a)
      .then((warning) => {
        if (warning) this.onWarning(warning);
      })
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }
}
