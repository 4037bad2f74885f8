// Worker-thread entry of the Node engine: runs one ShareSpec (workerData) when the engine says
// `start`, posts NDJSON sample batches and stats, and `done` at the end. `stop` ends it early.
// Messages: in  {type:'start', atMs} | {type:'stop'} | {type:'load', load: ShareLoad} (a live change)
//           out {type:'ready'} | {type:'samples', bytes (transferred)} | {type:'stats', stats} | {type:'done'} | {type:'error', message, stack}

import { setMaxListeners } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { runShare, type ShareLoad, type ShareSpec } from './share.js';
import { LiveValue } from './workload.js';

const port = parentPort;
if (port) {
  const spec = workerData as ShareSpec;
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  let started = false;
  const control = new LiveValue<ShareLoad | undefined>(undefined);
  port.on('message', (m: { type: string; atMs?: number; load?: ShareLoad }) => {
    if (m.type === 'stop') stop.abort();
    if (m.type === 'load' && m.load) control.set(m.load);
    if (m.type === 'start' && !started) {
      started = true;
      const wait = Math.max(0, (m.atMs ?? Date.now()) - Date.now());
      setTimeout(() => {
        runShare(
          spec,
          {
            samples: (bytes) => port.postMessage({ type: 'samples', bytes }, [bytes.buffer as ArrayBuffer]),
            stats: (stats) => port.postMessage({ type: 'stats', stats }),
          },
          stop.signal,
          control,
        )
          .then(() => port.postMessage({ type: 'done' }))
          .catch((err: unknown) => {
            const e = err instanceof Error ? err : new Error(String(err));
            port.postMessage({ type: 'error', message: e.message, stack: e.stack });
          })
          .finally(() => port.close());
      }, wait);
    }
  });
  port.postMessage({ type: 'ready' });
}
