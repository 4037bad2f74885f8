// One engine run in a child process of its own (the k6-vs-Node bench, docs/k6.md "Side by side"),
// so its CPU and memory are read from /proc for that process tree alone: for the Node engine the
// whole tree (main thread and workers); for k6 the k6 process alone, and beside it the tree with
// the owui-chaos process that reads k6's JSON output ("+ ingest").
//
// runChild(args) spawns engine-child.mjs (the built engine in plain Node) with the args as JSON and
// samples the tree every 250 ms (CPU marks, peak VmHWM) until the child exits; a child that exits
// non-zero fails the step.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sampleProcessTree } from '../engine/proc.js';

const ENTRY = fileURLToPath(new URL('./engine-child.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/engines/node/engine.js', import.meta.url));
/** Content tokens per chat, SSE and browser alike. */
export const TOKENS = 40;
/** A chatting browser client starts one chat every this long (docs/k6.md "Side by side"). */
export const CHAT_INTERVAL_MS = 5000;

export interface ChildArgs {
  engine: 'node' | 'k6';
  /**
   * `sse`: API chats straight to the mock LLM; `idle-sockets`: idle browser clients on the bench's
   * Socket.IO server; `browser-chat`: browser clients chatting through the Open WebUI simulator.
   */
  workload: 'sse' | 'idle-sockets' | 'browser-chat';
  binary?: string;
  baseUrl: string;
  clients: number;
  durationMs: number;
  file: string;
  workDir: string;
  /** browser-chat: the provisioned users (a JSON Credentials file). */
  credentialsFile?: string;
  /** Extra k6 environment (e.g. the loop-lag probe's `OWUI_LOOP_LAG_PROBE`). */
  k6Env?: Record<string, string>;
  tokens: number;
  tokensPerSecond: number;
  /** browser-chat: one chat start per client every this long. */
  chatIntervalMs: number;
}

/** The k6 process under the engine child (its comm starts with `k6`), if it runs now. */
function k6Pid(pids: readonly number[]): number | undefined {
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('k6')) return pid;
    } catch {
      // gone
    }
  }
  return undefined;
}

export interface Mark {
  at: number;
  treeMs: number;
  k6Ms: number;
}

/** The mark nearest to `at` on the side given (the window's CPU is taken between real samples). */
export function markAt(marks: readonly Mark[], at: number, side: 'after' | 'before'): Mark | undefined {
  return side === 'after' ? marks.find((m) => m.at >= at) : [...marks].reverse().find((m) => m.at <= at);
}

/** The engine's CPU between two marks: the k6 process alone for k6, the whole tree for Node. */
export function engineCpuMs(engine: 'node' | 'k6', a: Mark, b: Mark): number {
  return engine === 'k6' ? b.k6Ms - a.k6Ms : b.treeMs - a.treeMs;
}

export interface ChildRun {
  t0: number;
  marks: Mark[];
  peakRssBytes: number;
  file: string;
}

export interface ChildLaunch {
  /** Node options before the child's entry (e.g. `--require` a probe). */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** Called after every 250 ms sample. */
  during?: () => void;
}

/** Runs one engine child to its end, sampling its process tree (and k6 alone) every 250 ms. */
export async function runChild(args: ChildArgs, label: string, launch: ChildLaunch = {}): Promise<ChildRun> {
  if (!existsSync(BUILT))
    throw new Error(
      `the engines are not built (${BUILT} is missing): run \`npm run build\` (\`npm run bench\` does)`,
    );
  const child = spawn(process.execPath, [...(launch.nodeArgs ?? []), ENTRY, JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...launch.env },
  });
  const pid = child.pid ?? 0;
  const t0 = Date.now();
  const marks: Mark[] = [];
  let peak = 0;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const hardStop = setTimeout(() => child.kill('SIGKILL'), args.durationMs + 90_000);
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const tree = sampleProcessTree(pid);
    const k6 = tree && args.engine === 'k6' ? k6Pid(tree.pids) : undefined;
    const k6Tree = k6 === undefined ? undefined : sampleProcessTree(k6);
    if (tree) {
      marks.push({ at: tree.at, treeMs: tree.cpuMs, k6Ms: k6Tree?.cpuMs ?? 0 });
      peak = Math.max(peak, args.engine === 'k6' ? (k6Tree?.peakRssBytes ?? 0) : tree.peakRssBytes);
    }
    launch.during?.();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 250))]);
  }
  clearTimeout(hardStop);
  const code = await exited;
  if (code !== 0) throw new Error(`${label} with ${args.clients} clients: the engine exited ${code}`);
  return { t0, marks, peakRssBytes: peak, file: args.file };
}
