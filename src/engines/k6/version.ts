// Which k6 is installed, and what the bundles must look like for it (DESIGN §8).
//
// Contract: `parseK6Version` reads `k6 version` output ("k6 v1.1.0 (commit/…, go1.24.4,
// linux/amd64)", older "k6 v0.49.0 (2024-01-29T…, go1.21.6, linux/amd64)", plus an "Extensions:"
// list on xk6 builds). `targetFor` maps a version to the esbuild target and the module paths that
// moved between releases:
// - WebSockets: `k6/experimental/websockets` until v1.5, `k6/websockets` from v1.6 (read off the
//   module table of k6's own source per tag, and seen on a real v1.3.0: "unknown module: k6/websockets");
// - timers: `k6/experimental/timers` until v0.49, `k6/timers` from v0.50;
// - syntax: k6 ≥ 0.52 runs ES2020+ and ES modules natively (its Babel step was removed); older
//   releases get ES2017 as CommonJS, which their goja runs without transpiling. An ES-module
//   bundle makes those releases run it through Babel first: 10.8 s for the mixed bundle on k6
//   v0.49.0 on a loaded 2-core machine (longer than a 5 s steady state: no sample at all), against
//   28–61 ms for the same bundle as CommonJS (`k6 inspect`, docs/k6.md).
// k6 older than 0.43 lacks `http.asyncRequest`, timers and the event-loop WebSockets the browser
// scenario needs: `MIN_K6` rejects it in preflight.

export interface K6Version {
  major: number;
  minor: number;
  patch: number;
  raw: string;
  /** Extension module paths listed by an xk6 build, e.g. `k6/x/sse`. */
  extensions: string[];
}

export interface K6Target {
  esTarget: 'es2017' | 'es2020';
  /** Module format of the bundle: ES modules natively from k6 0.52, CommonJS before. */
  moduleFormat: 'esm' | 'cjs';
  websocketsModule: 'k6/websockets' | 'k6/experimental/websockets';
  timersModule: 'k6/timers' | 'k6/experimental/timers';
}

export const MIN_K6 = { major: 0, minor: 43 } as const;
/** What bundles target when no k6 is installed (e.g. `k6 bundle` for a k6-operator image). */
export const CURRENT_TARGET: K6Target = {
  esTarget: 'es2020',
  moduleFormat: 'esm',
  websocketsModule: 'k6/websockets',
  timersModule: 'k6/timers',
};

export function parseK6Version(output: string): K6Version | undefined {
  // `k6 version` starts with the binary's own name (argv[0]): "k6-v2.2.0 v2.2.0 (commit/…)" for a
  // binary called k6-v2.2.0. So the version is the first `vX.Y.Z` word that stands alone (after
  // the start or a space), whatever precedes it — not only after "k6 ".
  const match = /(?:^|\s)v(\d+)\.(\d+)\.(\d+)\S*/m.exec(output);
  if (!match) return undefined;
  const extensions = [...output.matchAll(/\bk6\/x\/[\w./-]+/g)].map((m) => m[0]);
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: Number(match[3]),
    raw: `k6 ${match[0].trim()}`,
    extensions,
  };
}

function atLeast(v: Pick<K6Version, 'major' | 'minor'>, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export function isSupported(v: K6Version): boolean {
  return atLeast(v, MIN_K6.major, MIN_K6.minor);
}

export function targetFor(v: K6Version | undefined): K6Target {
  if (!v) return CURRENT_TARGET;
  return {
    esTarget: atLeast(v, 0, 52) ? 'es2020' : 'es2017',
    moduleFormat: atLeast(v, 0, 52) ? 'esm' : 'cjs',
    websocketsModule: atLeast(v, 1, 6) ? 'k6/websockets' : 'k6/experimental/websockets',
    timersModule: atLeast(v, 0, 50) ? 'k6/timers' : 'k6/experimental/timers',
  };
}

/** True when the k6 build carries the xk6-sse extension. */
export function hasXk6Sse(v: K6Version | undefined): boolean {
  return v?.extensions.some((e) => e === 'k6/x/sse') ?? false;
}
