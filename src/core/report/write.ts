// Writes the report files of a run directory and reads stored results back. Contract: the three
// files are written next to each other (`results.json`, `report.html`, `junit.xml`); reading
// accepts a run directory or a results.json path and refuses an unknown schema version.

import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../errors.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { RESULTS_SCHEMA_VERSION, applyOutcome, type RunResults } from './results.js';

export const REPORT_FILES = { resultsJson: 'results.json', html: 'report.html', junit: 'junit.xml' } as const;

export interface ReportPaths {
  resultsJson: string;
  html: string;
  junit: string;
}

export async function writeReports(results: RunResults, outDir: string): Promise<ReportPaths> {
  await mkdir(outDir, { recursive: true });
  const paths: ReportPaths = {
    resultsJson: join(outDir, REPORT_FILES.resultsJson),
    html: join(outDir, REPORT_FILES.html),
    junit: join(outDir, REPORT_FILES.junit),
  };
  await writeFile(paths.resultsJson, JSON.stringify(results, null, 1) + '\n');
  await writeFile(paths.html, renderHtml(results));
  await writeFile(paths.junit, renderJunit(results));
  return paths;
}

/** `run-dir` or `…/results.json` → the path of results.json. */
export async function resolveResultsPath(pathOrDir: string): Promise<string> {
  const info = await stat(pathOrDir).catch(() => undefined);
  if (!info) {
    throw new ValidationError(`no run directory or results file at ${pathOrDir}`, [], {
      code: 'RESULTS_NOT_FOUND',
      suggestions: ['ls runs/', 'owui-chaos report show --samples <file.ndjson>'],
    });
  }
  return info.isDirectory() ? join(pathOrDir, REPORT_FILES.resultsJson) : pathOrDir;
}

export async function readResults(pathOrDir: string): Promise<RunResults> {
  const file = await resolveResultsPath(pathOrDir);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(
      `could not read results from ${file}`,
      [{ path: '', message: String(error), file }],
      {
        code: 'RESULTS_UNREADABLE',
        cause: error,
      },
    );
  }
  const version = (doc as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== RESULTS_SCHEMA_VERSION) {
    throw new ValidationError(
      `${file} has results schemaVersion ${JSON.stringify(version)}; this owui-chaos reads version ${RESULTS_SCHEMA_VERSION}`,
      [{ path: 'schemaVersion', message: `expected ${RESULTS_SCHEMA_VERSION}`, file }],
      { code: 'RESULTS_VERSION' },
    );
  }
  const results = doc as RunResults;
  // Results written before the outcome fields existed: derive them from the SLOs (no stop known).
  if (results.headline === undefined || !Array.isArray(results.stops)) applyOutcome(results, []);
  return results;
}
