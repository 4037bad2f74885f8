// Ground truth shared by the mock LLM (which streams it) and every client (which regenerates it
// to check integrity, DESIGN §5). Portable: no Node or k6 APIs.
//
// Contract: `generateTokens(seed, count)` is a pure function; the same arguments give the same
// tokens on every platform. The text is `tokens.join('')`. Tokens mix markdown (bold, headings,
// lists, fences, tables) with multi-byte UTF-8 (CJK, emoji incl. ZWJ sequences) so both
// re-chunking errors and byte-splitting errors show up.
//
// A chat prompt carries the directive `[owui-chaos seed=N tokens=N …]` in its last user message;
// optional pacing keys (`first_token_ms`, `tps`, `jitter`, `write`) override the mock's defaults
// for that request, so pacing can be set per request even through Open WebUI.

/**
 * The model id the lab's mock LLM serves: the one model whose answers have a ground truth, so
 * integrity is verified (not `unverified`) when a target chats with it. Defined once, here.
 */
export const MOCK_MODEL_ID = 'owui-chaos-mock';

/** mulberry32: tiny, fast, good enough, identical in every JS engine (also replays test trials). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'replica',
  'sentinel',
  'failover',
  'stream',
  'token',
  'latency',
  'socket',
  'chunk',
  'buffer',
  'proxy',
  'upstream',
  'quorum',
  'master',
  'heartbeat',
  'recovery',
  'baseline',
  'budget',
  'signal',
  'cluster',
  'gateway',
  'payload',
  'cursor',
  'window',
  'event',
  'packet',
  'session',
  'ledger',
];
const CJK = ['数据', '流式', '故障', '恢复', '延迟', '副本', 'テスト', '한국어', '中文'];
const EMOJI = ['😀', '🚀', '🔥', '✅', '👩‍💻', '🇩🇪', '⚠️', '🧪'];
const LANGS = ['ts', 'python', 'bash', 'json'];

type Block = string[];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function word(rand: () => number): string {
  const r = rand();
  if (r < 0.12) return pick(rand, CJK);
  if (r < 0.2) return pick(rand, EMOJI);
  return pick(rand, WORDS);
}

function sentence(rand: () => number, words: number): Block {
  const tokens: Block = [];
  for (let i = 0; i < words; i++) {
    const w = word(rand);
    const r = rand();
    const lead = i === 0 ? '' : ' ';
    if (r < 0.1) tokens.push(`${lead}**`, w, '**');
    else if (r < 0.15) tokens.push(`${lead}\``, w, '`');
    else if (r < 0.2) tokens.push(`${lead}_`, w, '_');
    else tokens.push(lead + w);
  }
  tokens.push(pick(rand, ['.', '!', '。', '?']));
  return tokens;
}

function block(rand: () => number): Block {
  const r = rand();
  if (r < 0.15)
    return [pick(rand, ['# ', '## ', '### ']), ...sentence(rand, 2 + Math.floor(rand() * 4)), '\n\n'];
  if (r < 0.35) {
    const items = 2 + Math.floor(rand() * 3);
    const tokens: Block = [];
    for (let i = 0; i < items; i++)
      tokens.push(rand() < 0.5 ? '- ' : `${i + 1}. `, ...sentence(rand, 3 + Math.floor(rand() * 5)), '\n');
    tokens.push('\n');
    return tokens;
  }
  if (r < 0.47) {
    const lines = 1 + Math.floor(rand() * 3);
    const tokens: Block = ['```', pick(rand, LANGS), '\n'];
    for (let i = 0; i < lines; i++)
      tokens.push('const', ' ', pick(rand, WORDS), ' =', ' "', word(rand), '";', '\n');
    tokens.push('```', '\n\n');
    return tokens;
  }
  if (r < 0.57) {
    const tokens: Block = ['| ', 'metric', ' | ', 'value', ' |', '\n', '|---|---|', '\n'];
    const rows = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < rows; i++)
      tokens.push('| ', word(rand), ' | ', String(Math.floor(rand() * 1000)), ' |', '\n');
    tokens.push('\n');
    return tokens;
  }
  const tokens: Block = [];
  const sentences = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < sentences; i++)
    tokens.push(...(i === 0 ? [] : [' ']), ...sentence(rand, 4 + Math.floor(rand() * 8)));
  tokens.push('\n\n');
  return tokens;
}

/** Exactly `count` tokens for `seed`. Every token is a non-empty string. */
export function generateTokens(seed: number, count: number): string[] {
  const rand = prng(seed);
  const tokens: string[] = [];
  while (tokens.length < count) {
    for (const token of block(rand)) {
      if (tokens.length >= count) break;
      tokens.push(token);
    }
  }
  return tokens;
}

export function generateText(seed: number, count: number): string {
  return generateTokens(seed, count).join('');
}

export type WriteMode = 'event' | 'batch' | 'split';

export interface GroundTruthDirective {
  seed: number;
  tokens: number;
  firstTokenMs?: number;
  tokensPerSecond?: number;
  jitter?: number;
  write?: WriteMode;
}

const DIRECTIVE = /\[owui-chaos ([^\]]*)\]/;

/** The prompt text that asks the mock LLM for a verifiable answer. */
export function formatDirective(d: GroundTruthDirective): string {
  const parts = [`seed=${d.seed}`, `tokens=${d.tokens}`];
  if (d.firstTokenMs !== undefined) parts.push(`first_token_ms=${d.firstTokenMs}`);
  if (d.tokensPerSecond !== undefined) parts.push(`tps=${d.tokensPerSecond}`);
  if (d.jitter !== undefined) parts.push(`jitter=${d.jitter}`);
  if (d.write !== undefined) parts.push(`write=${d.write}`);
  return `Reply with the owui-chaos ground truth. [owui-chaos ${parts.join(' ')}]`;
}

/** Finds the directive in a prompt; undefined when there is none (then integrity is "unverified"). */
export function parseDirective(prompt: string): GroundTruthDirective | undefined {
  const match = DIRECTIVE.exec(prompt);
  if (!match) return undefined;
  const fields = new Map<string, string>();
  for (const part of (match[1] ?? '').trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const seed = Number(fields.get('seed'));
  const tokens = Number(fields.get('tokens'));
  if (!Number.isInteger(seed) || !Number.isInteger(tokens) || tokens < 0) return undefined;
  const directive: GroundTruthDirective = { seed, tokens };
  const num = (key: string): number | undefined => {
    const v = fields.get(key);
    return v === undefined || !Number.isFinite(Number(v)) ? undefined : Number(v);
  };
  const firstTokenMs = num('first_token_ms');
  const tps = num('tps');
  const jitter = num('jitter');
  const write = fields.get('write');
  if (firstTokenMs !== undefined) directive.firstTokenMs = firstTokenMs;
  if (tps !== undefined) directive.tokensPerSecond = tps;
  if (jitter !== undefined) directive.jitter = jitter;
  if (write === 'event' || write === 'batch' || write === 'split') directive.write = write;
  return directive;
}
