// A k6-operator run with N runners, simulated on one machine (docs/k6.md "Several runners"): the
// same bundle in N k6 processes, each taking its execution segment the way k6-operator assigns
// them (runner i of N runs `--execution-segment (i-1)/N:i/N` with the sequence `0,1/N,…,1`), each
// writing its own `--out json` file tagged `instance_id=<i>`. The files are then merged into one
// set of histograms by `owui-chaos report show --samples f1 f2 …` (or evaluateRun with
// several sample files), exactly as files collected from runner pods are.
//
// Contract: `segmentArgs(i, n)` → the two flags for runner i (1-based) of n; `runSegments` starts
// all runners at once, waits for all (each bounded by `timeoutMs`, then SIGKILL), and returns each
// runner's exit code, samples file and log file. It never throws for a runner's exit code: the
// caller maps codes (`mapK6Exit`).

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.js';

function fraction(k: number, n: number): string {
  return k === 0 ? '0' : k === n ? '1' : `${k}/${n}`;
}

/** k6 flags for runner `index` (1-based) of `total` equal execution segments. */
export function segmentArgs(index: number, total: number): string[] {
  if (!Number.isInteger(total) || total < 1 || !Number.isInteger(index) || index < 1 || index > total)
    throw new UsageError(`runner ${index} of ${total}: need 1 ≤ runner ≤ runners, both integers`, {
      code: 'USAGE',
    });
  const sequence = Array.from({ length: total + 1 }, (_, k) => fraction(k, total)).join(',');
  return [
    `--execution-segment=${fraction(index - 1, total)}:${fraction(index, total)}`,
    `--execution-segment-sequence=${sequence}`,
  ];
}

export interface SegmentRun {
  index: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  samplesFile: string;
  logFile: string;
}

export interface RunSegmentsOptions {
  binary: string;
  script: string;
  runners: number;
  outDir: string;
  env: NodeJS.ProcessEnv;
  /** Per runner, from the start; then it is killed. */
  timeoutMs: number;
}

export async function runSegments(o: RunSegmentsOptions): Promise<SegmentRun[]> {
  await mkdir(o.outDir, { recursive: true });
  const runs = Array.from({ length: o.runners }, (_, k) => k + 1).map(
    (index) =>
      new Promise<SegmentRun>((resolve, reject) => {
        const samplesFile = join(o.outDir, `k6-samples-${index}.json`);
        const logFile = join(o.outDir, `k6-${index}.log`);
        const log = createWriteStream(logFile);
        const child = spawn(
          o.binary,
          [
            'run',
            '--no-color',
            '--quiet',
            '--address',
            '127.0.0.1:0',
            ...segmentArgs(index, o.runners),
            '--tag',
            `instance_id=${index}`,
            '--out',
            `json=${samplesFile}`,
            o.script,
          ],
          { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stdout.pipe(log, { end: false });
        child.stderr.pipe(log, { end: false });
        const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
        child.once('error', (error) => {
          clearTimeout(timer);
          log.end();
          reject(error);
        });
        child.once('close', (exitCode, signal) => {
          clearTimeout(timer);
          log.end(() => resolve({ index, exitCode, signal, samplesFile, logFile }));
        });
      }),
  );
  return Promise.all(runs);
}
