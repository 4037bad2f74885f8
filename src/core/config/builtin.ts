// Built-in experiments: the YAML files shipped in the package's experiments/ folder. Contract:
// the caller passes that folder (src/cli/paths.ts knows where it is); listing reads only titles
// and descriptions, so a broken file still shows up (flagged) instead of hiding the others.

import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { experimentNotFound } from './experiment.js';

export interface BuiltinExperiment {
  name: string;
  file: string;
  title: string;
  /** First sentence of the description. */
  summary: string;
  /** Set when the file could not be read as YAML. */
  problem?: string;
}

export async function listBuiltinExperiments(dir: string): Promise<BuiltinExperiment[]> {
  const names = (await readdir(dir)).filter((f) => /\.ya?ml$/i.test(f)).sort();
  return Promise.all(
    names.map(async (fileName): Promise<BuiltinExperiment> => {
      const file = path.join(dir, fileName);
      const name = fileName.replace(/\.ya?ml$/i, '');
      try {
        const data = parse(await readFile(file, 'utf8')) as { title?: unknown; description?: unknown } | null;
        return {
          name,
          file,
          title: typeof data?.title === 'string' ? data.title : name,
          summary: typeof data?.description === 'string' ? firstSentence(data.description) : '',
        };
      } catch (error) {
        return {
          name,
          file,
          title: name,
          summary: '',
          problem: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
        };
      }
    }),
  );
}

/**
 * `failover` → `<dir>/failover.yaml`; anything with a path separator or a .yaml/.yml suffix is a
 * file path (relative to `cwd`). A bare name that is no built-in falls back to a file of that name.
 */
export async function resolveExperimentRef(
  ref: string,
  options: { builtinDir: string; cwd?: string },
): Promise<string> {
  const cwd = options.cwd ?? process.cwd();
  const looksLikePath = /[\\/]/.test(ref) || /\.ya?ml$/i.test(ref);
  if (!looksLikePath) {
    for (const ext of ['.yaml', '.yml']) {
      const candidate = path.join(options.builtinDir, `${ref}${ext}`);
      if (await isFile(candidate)) return candidate;
    }
    const local = path.resolve(cwd, ref);
    if (await isFile(local)) return local;
    const builtins = (await listBuiltinExperiments(options.builtinDir).catch(() => [])).map((b) => b.name);
    throw experimentNotFound(ref, builtins);
  }
  return path.resolve(cwd, ref);
}

function firstSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const end = flat.search(/[.!?](\s|$)/);
  const sentence = end === -1 ? flat : flat.slice(0, end + 1);
  return sentence.length > 140 ? `${sentence.slice(0, 139)}…` : sentence;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
