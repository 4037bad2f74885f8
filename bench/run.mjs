// `npm run bench`: runs every benchmark in bench/*-bench.ts one after another (each prints its own
// table) and fails if one fails. Benchmarks, never unit tests, check speed and memory targets.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
// Names first, then flags for the benches (`npm run bench -- console-cost --minutes 30`).
const firstFlag = process.argv.slice(2).findIndex((a) => a.startsWith('--'));
const only = firstFlag < 0 ? process.argv.slice(2) : process.argv.slice(2, firstFlag + 2);
const passed = firstFlag < 0 ? [] : process.argv.slice(firstFlag + 2);
// Long benches (not *-bench.ts) run only when named, e.g. console-cost (a 30-minute session).
const named = only.filter((o) => !o.endsWith('-bench') && existsSync(`${dir}${o}.ts`)).map((o) => `${o}.ts`);
const benches = [
  ...readdirSync(dir)
    .filter((f) => f.endsWith('-bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o))),
  ...named,
].sort();
console.log(
  `owui-chaos benchmarks on ${availableParallelism()} cores, Node ${process.version}: ${benches.join(', ')}`,
);
let failed = 0;
for (const bench of benches) {
  console.log(`\n=== ${bench} ===`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${bench}`, ...passed], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed++;
    console.error(`${bench} failed with exit code ${result.status}`);
  }
}
process.exit(failed ? 1 : 0);
