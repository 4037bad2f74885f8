// A YAML config file parsed with positions. Contract: `parseSource` never throws on bad YAML; it
// returns the syntax problems as issues (file, line, column) together with whatever data could be
// read, and `locate` maps a document path (as zod reports it) to the line and column of the
// deepest node that exists on that path, so every later issue can point into the file.

import {
  LineCounter,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Document,
} from 'yaml';
import type { ConfigIssue } from './issues.js';

export type DocPath = ReadonlyArray<string | number>;

export interface Position {
  line: number;
  column: number;
}

export interface SourceFile {
  /** Path as given by the caller (shown in messages). */
  file: string;
  /** The plain data (YAML → JS), before environment resolution. */
  data: unknown;
  /** YAML syntax problems; when non-empty, `data` is not trustworthy. */
  syntaxIssues: ConfigIssue[];
  /** Position of the node at `path`, or of its deepest existing ancestor. */
  locate(path: DocPath): Position | undefined;
  /** Position of the key `key` in the mapping at `path` (for unknown-key issues). */
  locateKey(path: DocPath, key: string): Position | undefined;
}

export interface ParseLimits {
  /** Mapping pairs + sequence items in the whole document (src/core/config/limits.ts). */
  maxEntries?: number;
}

export function parseSource(text: string, file: string, limits: ParseLimits = {}): SourceFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntaxIssues: ConfigIssue[] = doc.errors.map((error) => {
    const pos = lineCounter.linePos(error.pos[0]);
    return {
      code: 'YAML_SYNTAX',
      path: '',
      file,
      line: pos.line,
      column: pos.col,
      message: `YAML syntax error (${error.code}): ${firstLine(error.message)}`,
    };
  });
  if (syntaxIssues.length === 0 && limits.maxEntries !== undefined) {
    const max = limits.maxEntries;
    let entries = 0;
    visit(doc, (_key, node) => {
      if (isMap(node) || isSeq(node)) entries += node.items.length;
      return entries > max ? visit.BREAK : undefined;
    });
    if (entries > max) {
      syntaxIssues.push({
        code: 'YAML_SYNTAX',
        path: '',
        file,
        message: `the file has more than ${max} entries (mapping keys + list items); config files are far smaller — raise the limit with OWUI_CHAOS_MAX_FILE_ENTRIES if it really needs more`,
      });
    }
  }
  let data: unknown = undefined;
  if (syntaxIssues.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: 100 });
      const shape = shapeProblem(data);
      if (shape) {
        data = undefined;
        syntaxIssues.push({ code: 'YAML_SYNTAX', path: '', file, message: shape });
      }
    } catch (error) {
      syntaxIssues.push({
        code: 'YAML_SYNTAX',
        path: '',
        file,
        message: `YAML could not be read: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
  const at = (offset: number): Position => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  return {
    file,
    data,
    syntaxIssues,
    locate(path) {
      const node = deepestNode(doc, path);
      return node?.range ? at(node.range[0]) : undefined;
    },
    locateKey(path, key) {
      const node = deepestNode(doc, path);
      if (isMap(node)) {
        for (const pair of node.items) {
          if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) {
            return at(pair.key.range[0]);
          }
        }
      }
      return node?.range ? at(node.range[0]) : undefined;
    },
  };
}

function deepestNode(
  doc: Document,
  path: DocPath,
): { range?: [number, number, number] | null | undefined } | undefined {
  for (let length = path.length; length >= 0; length--) {
    const node: unknown = length === 0 ? doc.contents : doc.getIn(path.slice(0, length), true);
    if (isNode(node)) return node;
  }
  return undefined;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

/** Deepest nesting a config file may have; real files stay under 10. */
export const MAX_DEPTH = 64;

/**
 * A document every later step can walk: no value that contains itself (`&a [*a]`, which YAML
 * allows and which would make every recursive walk overflow the stack), no nesting deeper than
 * MAX_DEPTH. Returns the problem, or undefined.
 */
function shapeProblem(data: unknown): string | undefined {
  const open = new Set<object>();
  const walk = (value: unknown, depth: number): string | undefined => {
    if (value === null || typeof value !== 'object') return undefined;
    if (open.has(value)) return 'the YAML refers to itself (an alias used inside its own anchor); expand it';
    if (depth > MAX_DEPTH)
      return `the YAML is nested deeper than ${MAX_DEPTH} levels; config files are far flatter`;
    open.add(value);
    try {
      const children = Array.isArray(value)
        ? value
        : value instanceof Map
          ? [...value.values()]
          : Object.values(value);
      for (const child of children) {
        const problem = walk(child, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    } finally {
      open.delete(value);
    }
  };
  return walk(data, 0);
}
