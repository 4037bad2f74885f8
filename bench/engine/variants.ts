// Engine variants for A/B steps in one bench run (`--variants default,w1,semi64,w1+semi64`):
// `wN` = N worker threads (0 = inline), `semiN` = young-generation semi-space of N MB for the
// isolates created during the step (the engine's worker threads), set with v8.setFlagsFromString
// before the engine starts them and reset after, `undici` / `builtin` = the API streams' transport
// (the engine option streamTransport). Variants alternate step by step, so a change in
// the machine's load hits every variant alike.
import { setFlagsFromString } from 'node:v8';
import type { StreamTransport } from '../../src/engines/node/http.js';

export interface EngineVariant {
  name: string;
  workers: number | undefined;
  semiSpaceMb: number | undefined;
  streamTransport: StreamTransport | undefined;
}

export function parseVariant(text: string): EngineVariant {
  const v: EngineVariant = {
    name: text,
    workers: undefined,
    semiSpaceMb: undefined,
    streamTransport: undefined,
  };
  if (text === 'default') return v;
  for (const part of text.split('+')) {
    const w = /^w(\d+)$/.exec(part);
    const s = /^semi(\d+)$/.exec(part);
    if (w) v.workers = Number(w[1]);
    else if (s) v.semiSpaceMb = Number(s[1]);
    else if (part === 'undici' || part === 'builtin') v.streamTransport = part;
    else
      throw new Error(
        `unknown engine variant part "${part}" in "${text}": use default, wN, semiN, undici, builtin, joined by +`,
      );
  }
  return v;
}

/** Runs `fn` with the variant's V8 flags in effect for isolates created meanwhile. */
export async function withVariant<T>(v: EngineVariant, fn: () => Promise<T>): Promise<T> {
  if (v.semiSpaceMb !== undefined) setFlagsFromString(`--max-semi-space-size=${v.semiSpaceMb}`);
  try {
    return await fn();
  } finally {
    if (v.semiSpaceMb !== undefined) setFlagsFromString('--max-semi-space-size=0');
  }
}
