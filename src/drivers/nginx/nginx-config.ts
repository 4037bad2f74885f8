// Pure edits of nginx config bytes. Text is handled as latin1 so every byte outside the edited
// directive survives unchanged (UTF-8 comments, CRLF line ends, trailing spaces): the revert
// restores the original bytes anyway, but the applied config should differ only where intended.

import { BUFFERING_BEGIN, setProxyBuffering } from '../../infra/nginx-buffering.js';

export interface DirectiveEdit {
  bytes: Buffer;
  /** How many existing occurrences were rewritten (0 when the directive was inserted). */
  replaced: number;
  /** Where it was inserted when absent: `http`, `server`, or undefined when replaced. */
  insertedInto?: 'http' | 'server';
}

/**
 * `proxy_buffering on|off`. A lab-rendered config has a marked block that also pins
 * `proxy_http_version` (buffering only delays SSE over HTTP/1.0); it is swapped whole by the lab's
 * own function. Any other config gets only the directive changed.
 */
export function setBufferingBytes(original: Buffer, on: boolean): Buffer {
  const text = original.toString('latin1');
  if (text.includes(BUFFERING_BEGIN))
    return Buffer.from(setProxyBuffering(text, on ? 'on' : 'off'), 'latin1');
  return setDirective(original, 'proxy_buffering', on ? 'on' : 'off').bytes;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * Sets every occurrence of directive `name` to `value` (outside comments), or, when there is
 * none, inserts `name value;` as the first statement of the `http {` block (or of the first
 * `server {` block for an included server file). Throws when neither exists.
 */
export function setDirective(original: Buffer, name: string, value: string): DirectiveEdit {
  if (!NAME.test(name)) throw new Error(`\`${name}\` is not an nginx directive name`);
  if (/[;{}#\n\r]/.test(value) || value.trim() === '')
    throw new Error(`\`${value}\` is not a valid value for ${name}`);
  const text = original.toString('latin1');
  const lines = text.split('\n');
  let replaced = 0;
  const pattern = new RegExp(`(?<=^|[{;])(\\s*)${name}(\\s+)[^;{}]*?(\\s*;)`, 'g');
  const out = lines.map((line) => {
    const hash = commentStart(line);
    const code = hash === -1 ? line : line.slice(0, hash);
    const comment = hash === -1 ? '' : line.slice(hash);
    const edited = code.replace(pattern, (_m, space: string, gap: string, semi: string) => {
      replaced++;
      return `${space}${name}${gap}${value}${semi}`;
    });
    return edited + comment;
  });
  if (replaced > 0) return { bytes: Buffer.from(out.join('\n'), 'latin1'), replaced };

  for (const block of ['http', 'server'] as const) {
    const opener = new RegExp(`(^|[;}\\s])${block}\\s*\\{`);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const hash = commentStart(line);
      const code = hash === -1 ? line : line.slice(0, hash);
      const m = opener.exec(code);
      if (!m) continue;
      const eol = line.endsWith('\r') ? '\r' : '';
      const indent = `${/^\s*/.exec(line)?.[0].replace(/\r/g, '') ?? ''}    `;
      lines.splice(i + 1, 0, `${indent}${name} ${value};${eol}`);
      return { bytes: Buffer.from(lines.join('\n'), 'latin1'), replaced: 0, insertedInto: block };
    }
  }
  throw new Error(`no \`${name}\` directive and no http or server block to add it to`);
}

/** The value(s) a directive currently has (outside comments), in file order. */
export function directiveValues(config: Buffer, name: string): string[] {
  const values: string[] = [];
  const pattern = new RegExp(`(?<=^|[{;])\\s*${name}\\s+([^;{}]*?)\\s*;`, 'g');
  for (const line of config.toString('latin1').split('\n')) {
    const hash = commentStart(line);
    const code = hash === -1 ? line : line.slice(0, hash);
    for (const m of code.matchAll(pattern)) values.push(m[1]!);
  }
  return values;
}

/** The `pid` file the config names, if any (relative paths are relative to the prefix). */
export function pidFileOf(config: Buffer): string | undefined {
  return directiveValues(config, 'pid')[0]?.replace(/^["']|["']$/g, '');
}

/** Index of a `#` that starts a comment (not inside quotes), or -1. */
function commentStart(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return i;
  }
  return -1;
}
