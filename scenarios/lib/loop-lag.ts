// Timer-drift probe of a browser-client VU's event loop (bench only: docs/k6.md "Side by side").
//
// Contract: when the config asks for it (`loopLagProbe`, env `OWUI_LOOP_LAG_PROBE=<everyMs>:<vus>`),
// the first `vus` browser-client VUs (by `exec.vu.idInTest`) each run one timer chain: a timer set
// for `everyMs`; when it fires, `owui_loop_lag` = fire time − (previous fire time + everyMs), in
// ms (Date.now(), so 1 ms resolution), then the next timer is set; the chain ends at `endAtMs`, so
// the VU's iteration still ends with its session. The Node engine's bench probe
// (bench/k6/loop-lag-probe.mjs) measures its worker threads' loops the same way. Not a catalogue
// metric: the k6 engine's ingest drops it; the bench reads it from k6's JSON output.

import { Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';

export const LOOP_LAG_METRIC = 'owui_loop_lag';

// Metrics must be created in k6's init context: this module is imported there.
const loopLag = new Trend(LOOP_LAG_METRIC, true);

export function startLoopLagProbe(everyMs: number, endAtMs: number): void {
  let last = Date.now();
  const tick = (): void => {
    const now = Date.now();
    loopLag.add(Math.max(0, now - last - everyMs));
    last = now;
    if (now + everyMs < endAtMs) setTimeout(tick, everyMs);
  };
  if (last + everyMs < endAtMs) setTimeout(tick, everyMs);
}
