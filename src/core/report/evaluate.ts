// The API the runner (and `report show --samples`) calls: stream NDJSON sample files into one
// aggregation, evaluate the SLOs and return the results document. Contract: files are read line
// by line (memory bounded whatever their size), several files merge into one set of histograms,
// k6 `Metric` declarations and catalogue-foreign metrics are skipped, a malformed line is counted
// and reported (a truncated last line from a killed k6 must not lose the run) — but a file with no
// valid line at all is an error.

import type { Journal } from '../journal.js';
import type { Sample } from '../samples.js';
import { forEachSample } from './sample-file.js';
import { mergeSlos } from '../config/slo-defaults.js';
import type { SloSpec } from '../slo/spec.js';
import { RunAggregator } from './aggregator.js';
import type { RunResults } from './results.js';

export interface EvaluateRunOptions {
  sampleFiles: string[];
  journal?: Journal | null;
  /** The experiment's SLOs; they replace defaults with the same `sloId`. */
  slos: SloSpec[];
  defaultSlos?: SloSpec[];
  recoveryWindowMs?: number;
  /** Injectable clock for `generatedAt` (golden files). */
  now?: () => number;
}

function aggregatorFor(
  options: Omit<EvaluateRunOptions, 'sampleFiles'> & { sampleFiles?: string[] },
): RunAggregator {
  return new RunAggregator({
    journal: options.journal ?? null,
    slos: mergeSlos(options.defaultSlos ?? [], options.slos),
    ...(options.recoveryWindowMs !== undefined ? { recoveryWindowMs: options.recoveryWindowMs } : {}),
    ...(options.sampleFiles ? { sampleFiles: options.sampleFiles } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
}

export async function evaluateRun(options: EvaluateRunOptions): Promise<RunResults> {
  const aggregator = aggregatorFor(options);
  for (const file of options.sampleFiles) await feedFile(aggregator, file);
  return aggregator.finish();
}

/** Same evaluation on in-memory samples (tests, the Node engine's own summaries). */
export function evaluateSamples(
  samples: Iterable<Sample>,
  options: Omit<EvaluateRunOptions, 'sampleFiles'>,
): RunResults {
  const aggregator = aggregatorFor(options);
  for (const sample of samples) aggregator.add(sample);
  return aggregator.finish();
}

async function feedFile(aggregator: RunAggregator, file: string): Promise<void> {
  await forEachSample(file, {
    onSample: (sample) => aggregator.add(sample),
    onMalformed: (where) => aggregator.noteMalformed(where),
  });
}
