// The API the runner (and `report show --samples`) calls: stream NDJSON sample files into one
// aggregation, evaluate the SLOs and return the results document. Contract: files are read line
// by line (memory bounded whatever their size), several files merge into one set of histograms,
// k6 `Metric` declarations and catalogue-foreign metrics are skipped, a malformed line is counted
// and reported (a truncated last line from a killed k6 must not lose the run) — but a file with no
// valid line at all is an error.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ValidationError } from '../errors.js';
import type { Journal } from '../journal.js';
import { parseSampleLine, type Sample } from '../samples.js';
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
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNo = 0;
  let valid = 0;
  let malformed = 0;
  try {
    for await (const line of lines) {
      lineNo += 1;
      let sample: Sample | undefined;
      try {
        sample = parseSampleLine(line);
      } catch {
        malformed += 1;
        aggregator.noteMalformed(`${file}:${lineNo}`);
        continue;
      }
      if (line.trim() !== '') valid += 1;
      if (sample) aggregator.add(sample);
    }
  } catch (error) {
    throw new ValidationError(
      `could not read sample file ${file}`,
      [{ path: '', message: String(error), file }],
      {
        code: 'SAMPLES_UNREADABLE',
        cause: error,
        suggestions: [`ls -l ${file}`],
      },
    );
  }
  if (valid === 0 && malformed > 0) {
    throw new ValidationError(
      `sample file ${file} holds no valid NDJSON line (${malformed} malformed)`,
      [
        {
          path: '',
          message:
            'expected k6 `--out json` lines: {"type":"Point","metric":…,"data":{"time":…,"value":…,"tags":{…}}}',
          file,
          line: 1,
        },
      ],
      { code: 'SAMPLES_INVALID' },
    );
  }
}
