// Integrity of a received chat text against the ground-truth tokens (DESIGN §5 `garbled_token_rate`).
//
// Contract and counting rules (every report can quote them):
// 1. Alignment: a minimal character-level diff (Myers, O((N+M)·D) time, linear space; N, M in code
//    points) of the expected text (tokens joined) against the received text. Common prefix and
//    suffix are matched first, so a truncated stream costs O(N+M). A deletion or insertion that can
//    slide along repeated text is placed on token boundaries when possible, so "one token missing"
//    is counted as one missing token, not two corrupted neighbours.
// 2. Each expected token is:
//    - ok: every code point matched, nothing inserted inside it;
//    - missing: no code point matched and nothing received in its place (pure deletion);
//    - corrupted: partly matched, or replaced (deleted where other text was received, e.g. U+FFFD
//      from a multi-byte character split badly), or with text inserted inside it.
// 3. Extra: received text aligned to no expected token, in tokens of the received text's own
//    segmentation: each maximal inserted run at a token boundary counts ceil(run / L) tokens, with
//    L = average expected token length in code points (4 when nothing is expected). A replacement
//    absorbs up to 4 received code points per deleted code point (a broken UTF-8 sequence yields up
//    to one U+FFFD per byte) and an insertion inside a token absorbs up to that token's length; the
//    surplus is counted as extra by the same rule.
// 4. garbledRate = (missing + corrupted + extra) / expected tokens; with no expected tokens it is 0
//    for an empty reception and 1 otherwise. Exact match gives 0 everywhere.
// 5. Bounded work: beyond `maxWork` diff steps (default 50 M, far above a 2,000-token text with
//    hundreds of errors) the remaining unaligned region is treated as replaced: every expected
//    token in it counts as corrupted, so damage is never hidden (extra text in it may go uncounted).

export interface IntegrityResult {
  expectedTokens: number;
  missing: number;
  corrupted: number;
  extra: number;
  /** (missing + corrupted + extra) / expected */
  garbledRate: number;
}

/** Received code points a replacement may absorb per deleted code point (one U+FFFD per UTF-8 byte). */
const REPLACEMENT_ABSORB = 4;
const DEFAULT_TOKEN_LENGTH = 4;

export function checkIntegrity(
  expected: readonly string[],
  received: string,
  opts: { maxWork?: number } = {},
): IntegrityResult {
  const tokenStarts: number[] = [];
  const cpsExpected: number[] = [];
  for (const token of expected) {
    tokenStarts.push(cpsExpected.length);
    for (const ch of token) cpsExpected.push(ch.codePointAt(0) as number);
  }
  const n = cpsExpected.length;
  tokenStarts.push(n);
  const a = Int32Array.from(cpsExpected);
  const b = Int32Array.from(Array.from(received, (ch) => ch.codePointAt(0) as number));
  const tokenCount = expected.length;
  const avgTokenLength = tokenCount > 0 && n > 0 ? n / tokenCount : DEFAULT_TOKEN_LENGTH;

  // token index of each expected code point, and whether a position is a token boundary
  const tokenOf = new Int32Array(n);
  const boundary = new Uint8Array(n + 1);
  for (let t = 0; t < tokenCount; t++) {
    const s = tokenStarts[t] as number;
    const e = tokenStarts[t + 1] as number;
    boundary[s] = 1;
    for (let i = s; i < e; i++) tokenOf[i] = t;
  }
  boundary[n] = 1;

  const hunks = mergeFragments(diffHunks(a, b, { work: opts.maxWork ?? 50_000_000 }), a, b);
  slideToBoundaries(hunks, a, b, boundary);

  const matched = new Uint8Array(n).fill(1);
  const replaced = new Uint8Array(tokenCount);
  const insertedInside = new Uint8Array(tokenCount);
  let extra = 0;
  const extraRun = (chars: number): void => {
    if (chars > 0) extra += Math.ceil(chars / avgTokenLength);
  };
  for (const h of hunks) {
    const del = h.a1 - h.a0;
    const ins = h.b1 - h.b0;
    for (let i = h.a0; i < h.a1; i++) matched[i] = 0;
    if (del > 0 && ins > 0) {
      for (let t = tokenOf[h.a0] as number; t <= (tokenOf[h.a1 - 1] as number); t++) replaced[t] = 1;
      extraRun(ins - del * REPLACEMENT_ABSORB);
    } else if (ins > 0) {
      if (boundary[h.a0] === 1) {
        extraRun(ins);
      } else {
        const t = tokenOf[h.a0] as number;
        insertedInside[t] = 1;
        extraRun(ins - ((tokenStarts[t + 1] as number) - (tokenStarts[t] as number)));
      }
    }
  }

  let missing = 0;
  let corrupted = 0;
  for (let t = 0; t < tokenCount; t++) {
    const s = tokenStarts[t] as number;
    const e = tokenStarts[t + 1] as number;
    let ok = 0;
    for (let i = s; i < e; i++) ok += matched[i] as number;
    if (ok === e - s && insertedInside[t] === 0) continue;
    if (ok === 0 && replaced[t] === 0 && insertedInside[t] === 0) missing++;
    else corrupted++;
  }
  const garbledRate = tokenCount > 0 ? (missing + corrupted + extra) / tokenCount : b.length === 0 ? 0 : 1;
  return { expectedTokens: tokenCount, missing, corrupted, extra, garbledRate };
}

/** A change between two equal runs: expected [a0, a1) became received [b0, b1). */
export interface DiffHunk {
  a0: number;
  a1: number;
  b0: number;
  b1: number;
}

/**
 * Minimal diff of two code-point arrays as a list of change hunks (ascending, non-adjacent).
 * diff-match-patch's structure: trim common prefix/suffix, then split at the middle snake
 * (Myers 1986 §4b) and recurse, which keeps space linear.
 */
export function diffHunks(
  a: Int32Array,
  b: Int32Array,
  budget: { work: number } = { work: 50_000_000 },
): DiffHunk[] {
  const hunks: DiffHunk[] = [];
  const emit = (a0: number, a1: number, b0: number, b1: number): void => {
    if (a0 === a1 && b0 === b1) return;
    const last = hunks[hunks.length - 1];
    if (last && last.a1 === a0 && last.b1 === b0) {
      last.a1 = a1;
      last.b1 = b1;
    } else hunks.push({ a0, a1, b0, b1 });
  };
  diffRange(a, 0, a.length, b, 0, b.length, emit, budget);
  return hunks;
}

type Emit = (a0: number, a1: number, b0: number, b1: number) => void;

function diffRange(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
  emit: Emit,
  budget: { work: number },
): void {
  while (aLo < aHi && bLo < bHi && a[aLo] === b[bLo]) {
    aLo++;
    bLo++;
  }
  while (aLo < aHi && bLo < bHi && a[aHi - 1] === b[bHi - 1]) {
    aHi--;
    bHi--;
  }
  budget.work -= 1;
  if (aLo === aHi || bLo === bHi || budget.work <= 0) {
    emit(aLo, aHi, bLo, bHi);
    return;
  }
  const split = bisect(a, aLo, aHi, b, bLo, bHi, budget);
  if (!split) {
    emit(aLo, aHi, bLo, bHi);
    return;
  }
  diffRange(a, aLo, split.x, b, bLo, split.y, emit, budget);
  diffRange(a, split.x, aHi, b, split.y, bHi, emit, budget);
}

/** Finds a point (x, y) on an optimal path through the middle snake; undefined when out of budget. */
function bisect(
  a: Int32Array,
  aLo: number,
  aHi: number,
  b: Int32Array,
  bLo: number,
  bHi: number,
  budget: { work: number },
): { x: number; y: number } | undefined {
  const n1 = aHi - aLo;
  const n2 = bHi - bLo;
  const maxD = Math.ceil((n1 + n2) / 2);
  const vOffset = maxD;
  const vLength = 2 * maxD + 2;
  const v1 = new Int32Array(vLength).fill(-1);
  const v2 = new Int32Array(vLength).fill(-1);
  v1[vOffset + 1] = 0;
  v2[vOffset + 1] = 0;
  const delta = n1 - n2;
  const front = delta % 2 !== 0;
  let k1start = 0;
  let k1end = 0;
  let k2start = 0;
  let k2end = 0;
  for (let d = 0; d < maxD; d++) {
    budget.work -= 2 * d + 1;
    if (budget.work <= 0) return undefined;
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const k1Offset = vOffset + k1;
      let x1: number;
      if (k1 === -d || (k1 !== d && (v1[k1Offset - 1] as number) < (v1[k1Offset + 1] as number)))
        x1 = v1[k1Offset + 1] as number;
      else x1 = (v1[k1Offset - 1] as number) + 1;
      let y1 = x1 - k1;
      while (x1 < n1 && y1 < n2 && a[aLo + x1] === b[bLo + y1]) {
        x1++;
        y1++;
      }
      budget.work -= 1;
      v1[k1Offset] = x1;
      if (x1 > n1) k1end += 2;
      else if (y1 > n2) k1start += 2;
      else if (front) {
        const k2Offset = vOffset + delta - k1;
        if (k2Offset >= 0 && k2Offset < vLength && v2[k2Offset] !== -1) {
          const x2 = n1 - (v2[k2Offset] as number);
          if (x1 >= x2) return { x: aLo + x1, y: bLo + y1 };
        }
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const k2Offset = vOffset + k2;
      let x2: number;
      if (k2 === -d || (k2 !== d && (v2[k2Offset - 1] as number) < (v2[k2Offset + 1] as number)))
        x2 = v2[k2Offset + 1] as number;
      else x2 = (v2[k2Offset - 1] as number) + 1;
      let y2 = x2 - k2;
      while (x2 < n1 && y2 < n2 && a[aHi - x2 - 1] === b[bHi - y2 - 1]) {
        x2++;
        y2++;
      }
      budget.work -= 1;
      v2[k2Offset] = x2;
      if (x2 > n1) k2end += 2;
      else if (y2 > n2) k2start += 2;
      else if (!front) {
        const k1Offset = vOffset + delta - k2;
        if (k1Offset >= 0 && k1Offset < vLength && v1[k1Offset] !== -1) {
          const x1 = v1[k1Offset] as number;
          const y1 = vOffset + x1 - k1Offset;
          if (x1 >= n1 - x2) return { x: aLo + x1, y: bLo + y1 };
        }
      }
    }
  }
  return undefined;
}

/**
 * A minimal diff may scatter one deleted token over several small deletions that borrow matching
 * characters from its neighbour (" payload latency" → " latency" as " pa|y|load"…). Runs of pure
 * deletions (or pure insertions) separated by short equalities are replaced by one contiguous
 * deletion (insertion) when one exists: it has the same edit count, so the diff stays minimal.
 */
function mergeFragments(hunks: DiffHunk[], a: Int32Array, b: Int32Array): DiffHunk[] {
  const out: DiffHunk[] = [];
  const kind = (h: DiffHunk): 'del' | 'ins' | 'rep' =>
    h.b0 === h.b1 ? 'del' : h.a0 === h.a1 ? 'ins' : 'rep';
  const size = (h: DiffHunk): number => h.a1 - h.a0 + (h.b1 - h.b0);
  let i = 0;
  while (i < hunks.length) {
    const first = hunks[i] as DiffHunk;
    const k = kind(first);
    let j = i;
    // Grow the cluster while the next hunk is of the same kind and the equality before it is
    // shorter than the edits around it (a fragmentation artefact, not a separate change).
    while (k !== 'rep' && j + 1 < hunks.length) {
      const cur = hunks[j] as DiffHunk;
      const next = hunks[j + 1] as DiffHunk;
      const gap = next.a0 - cur.a1;
      if (kind(next) !== k || gap > Math.max(size(cur), size(next))) break;
      j++;
    }
    const last = hunks[j] as DiffHunk;
    const merged = j > i ? contiguous(k === 'del' ? a : b, k === 'del' ? b : a, first, last, k) : undefined;
    if (merged) {
      out.push(merged);
      i = j + 1;
    } else {
      out.push(first);
      i++;
    }
  }
  return out;
}

/**
 * One contiguous edit covering the region from `first` to `last`, if the longer side minus one
 * contiguous run equals the shorter side. `long`/`short` are the arrays of the longer/shorter side.
 */
function contiguous(
  long: Int32Array,
  short: Int32Array,
  first: DiffHunk,
  last: DiffHunk,
  k: 'del' | 'ins' | 'rep',
): DiffHunk | undefined {
  const [l0, l1, s0, s1] =
    k === 'del' ? [first.a0, last.a1, first.b0, last.b1] : [first.b0, last.b1, first.a0, last.a1];
  const shortLen = s1 - s0;
  const cut = l1 - l0 - shortLen;
  let prefix = 0;
  while (prefix < shortLen && long[l0 + prefix] === short[s0 + prefix]) prefix++;
  let suffix = 0;
  while (suffix < shortLen && long[l1 - 1 - suffix] === short[s1 - 1 - suffix]) suffix++;
  if (prefix + suffix < shortLen) return undefined;
  // The cut may start anywhere in [shortLen - suffix, prefix]; take the earliest, sliding fixes it.
  const at = shortLen - suffix;
  return k === 'del'
    ? { a0: l0 + at, a1: l0 + at + cut, b0: s0 + at, b1: s0 + at }
    : { a0: s0 + at, a1: s0 + at, b0: l0 + at, b1: l0 + at + cut };
}

/**
 * Moves pure deletions and pure insertions along runs of repeated text (which leaves the diff
 * equally minimal) to the first position where they sit on token boundaries.
 */
function slideToBoundaries(hunks: DiffHunk[], a: Int32Array, b: Int32Array, boundary: Uint8Array): void {
  for (let i = 0; i < hunks.length; i++) {
    const h = hunks[i] as DiffHunk;
    const prev = hunks[i - 1];
    const next = hunks[i + 1];
    const minA = prev ? prev.a1 : 0;
    const minB = prev ? prev.b1 : 0;
    const maxA = next ? next.a0 : a.length;
    const maxB = next ? next.b0 : b.length;
    const isDeletion = h.b0 === h.b1;
    const isInsertion = h.a0 === h.a1;
    if (isDeletion === isInsertion) continue; // replacement (or empty): nothing to slide
    const aligned = (off: number): boolean =>
      isDeletion ? boundary[h.a0 + off] === 1 && boundary[h.a1 + off] === 1 : boundary[h.a0 + off] === 1;
    if (aligned(0)) continue;
    const canLeft = (off: number): boolean =>
      isDeletion
        ? h.a0 + off - 1 >= minA && a[h.a0 + off - 1] === a[h.a1 + off - 1]
        : h.b0 + off - 1 >= minB && h.a0 + off - 1 >= minA && b[h.b0 + off - 1] === b[h.b1 + off - 1];
    const canRight = (off: number): boolean =>
      isDeletion
        ? h.a1 + off < maxA && a[h.a0 + off] === a[h.a1 + off]
        : h.b1 + off < maxB && h.a0 + off < maxA && b[h.b0 + off] === b[h.b1 + off];
    let best: number | undefined;
    for (let off = 0; best === undefined && canLeft(off);) {
      off--;
      if (aligned(off)) best = off;
    }
    for (let off = 0; best === undefined && canRight(off);) {
      off++;
      if (aligned(off)) best = off;
    }
    if (best !== undefined) {
      h.a0 += best;
      h.a1 += best;
      h.b0 += best;
      h.b1 += best;
    }
  }
}

/**
 * The expected tokens a FINAL socket snapshot should be compared with. Open WebUI strips the last
 * output text when a socket-mode chat ends (`.strip()`, docs/openwebui-protocol.md "Mode B"), so
 * when the received text has no leading/trailing whitespace but the ground truth does, the ground
 * truth is trimmed the same way (whitespace-only edge tokens become empty). Otherwise `expected`
 * is returned unchanged.
 */
export function expectedForFinal(expected: readonly string[], received: string): readonly string[] {
  const whole = expected.join('');
  if (received !== received.trim() || whole === whole.trim()) return expected;
  const out = expected.slice();
  for (let i = 0; i < out.length; i++) {
    const trimmed = out[i]!.trimStart();
    out[i] = trimmed;
    if (trimmed !== '') break;
  }
  for (let i = out.length - 1; i >= 0; i--) {
    const trimmed = out[i]!.trimEnd();
    out[i] = trimmed;
    if (trimmed !== '') break;
  }
  return out;
}
