// Reading one NDJSON sample file (k6 `--out json` Point lines), shared by the SLO evaluation and
// `load`'s per-metric summary so both treat a damaged file alike. Contract: read line by line
// (memory bounded), k6 `Metric` declarations skipped, a malformed line counted and reported with
// its `file:line` (a truncated last line from a killed k6 must not lose the run), but a file with
// no valid line at all — or one that cannot be read — is a ValidationError naming the file.

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ValidationError } from '../errors.js';
import { parseSampleLine, type Sample } from '../samples.js';

export interface SampleVisitor {
  onSample(sample: Sample): void;
  /** `file:line` of a line that is not JSON. */
  onMalformed?(where: string): void;
}

export async function forEachSample(
  file: string,
  visitor: SampleVisitor,
): Promise<{ valid: number; malformed: number }> {
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
        visitor.onMalformed?.(`${file}:${lineNo}`);
        continue;
      }
      if (line.trim() !== '') valid += 1;
      if (sample) visitor.onSample(sample);
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
  return { valid, malformed };
}
