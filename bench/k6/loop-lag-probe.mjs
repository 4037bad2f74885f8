// Timer-drift probe of the Node engine's worker threads (bench only: docs/k6.md "Side by side").
//
// Preloaded into the bench's Node-engine child with `node --require` (Node runs --require preloads
// in every worker thread too), so each worker's event loop, the one that runs its share of the
// browser clients, gets one timer chain: a timer set for `everyMs`; when it fires, lag = fire
// time − (previous fire time + everyMs), in ms (Date.now(), 1 ms resolution, as in k6), then the
// next timer is set. The same definition as the k6 scenario's probe (scenarios/lib/loop-lag.ts).
// Off unless OWUI_BENCH_LOOP_LAG=<file prefix>:<everyMs>; the main thread (no clients) is left
// alone, and so are other threads (see below). Samples ("<epoch ms> <lag ms>" lines) are appended once a second to
// `<prefix>-<pid>-<threadId>.txt`; the timer is unref'd so it never keeps a worker alive.
import { appendFileSync } from 'node:fs';
import { setTimeout } from 'node:timers';
import { isMainThread, threadId, workerData } from 'node:worker_threads';

const spec = process.env.OWUI_BENCH_LOOP_LAG;
const m = spec ? /^(.+):(\d+)$/.exec(spec) : null;
// Engine workers get their share's spec as workerData; module-loader threads (tsx's hooks) get null.
if (!isMainThread && workerData !== null && typeof workerData === 'object' && m) {
  const file = `${m[1]}-${process.pid}-${threadId}.txt`;
  const everyMs = Number(m[2]);
  let lines = '';
  let lastFlush = Date.now();
  let last = Date.now();
  const tick = () => {
    const now = Date.now();
    lines += `${now} ${Math.max(0, now - last - everyMs)}\n`;
    last = now;
    if (now - lastFlush >= 1000) {
      appendFileSync(file, lines);
      lines = '';
      lastFlush = now;
    }
    setTimeout(tick, everyMs).unref();
  };
  setTimeout(tick, everyMs).unref();
}
