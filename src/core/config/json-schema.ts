// JSON Schemas for editors (yaml-language-server, VS Code), generated from the zod schemas so they
// cannot drift. Contract: `writeJsonSchemas(dir)` writes experiment.schema.json and
// target.schema.json into `dir` (called by scripts/export-schemas.mjs after the build). The schemas
// describe the file as written (zod's input side) and accept `{ env: NAME, default? }` wherever a
// scalar goes, as the loader does.

import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { ExperimentSchema } from './experiment.js';
import { TargetSchema } from './target.js';

type Json = Record<string, unknown>;

const ENV_REF: Json = {
  type: 'object',
  description: 'Read the value from an environment variable (secrets belong here, not in the file)',
  properties: {
    env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    default: { type: ['string', 'number', 'boolean'] },
  },
  required: ['env'],
  additionalProperties: false,
};

export function experimentJsonSchema(): Json {
  return finish(
    z.toJSONSchema(ExperimentSchema, { io: 'input', unrepresentable: 'any' }) as Json,
    'experiment',
    'owui-chaos experiment',
  );
}

export function targetJsonSchema(): Json {
  return finish(
    z.toJSONSchema(TargetSchema, { io: 'input', unrepresentable: 'any' }) as Json,
    'target',
    'owui-chaos target',
  );
}

export async function writeJsonSchemas(dirUrl: URL): Promise<void> {
  await writeFile(
    new URL('experiment.schema.json', dirUrl),
    JSON.stringify(experimentJsonSchema(), null, 2) + '\n',
  );
  await writeFile(new URL('target.schema.json', dirUrl), JSON.stringify(targetJsonSchema(), null, 2) + '\n');
}

function finish(schema: Json, id: string, title: string): Json {
  const withEnv = allowEnvRefs(schema) as Json;
  const defs = (withEnv['$defs'] as Json | undefined) ?? {};
  return {
    ...withEnv,
    $id: `https://owui-chaos.dev/schemas/${id}.schema.json`,
    title,
    $defs: { ...defs, envRef: ENV_REF },
  };
}

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

/** Scalars (not discriminator constants) also accept `{ env: NAME }`. */
function allowEnvRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowEnvRefs);
  if (node === null || typeof node !== 'object') return node;
  const json = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(json)) {
    out[key] =
      key === 'properties' || key === '$defs' ? mapValues(value as Json, allowEnvRefs) : allowEnvRefs(value);
  }
  const type = json['type'];
  const scalar =
    typeof type === 'string'
      ? SCALAR_TYPES.has(type)
      : Array.isArray(type) && type.every((t) => SCALAR_TYPES.has(String(t)));
  if (scalar && !('const' in json)) {
    // Editors show the outer description, so it moves up to the wrapper.
    const { description, default: fallback, ...inner } = out;
    return {
      ...(description !== undefined ? { description } : {}),
      ...(fallback !== undefined ? { default: fallback } : {}),
      anyOf: [inner, { $ref: '#/$defs/envRef' }],
    };
  }
  return out;
}

function mapValues(record: Json, fn: (value: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}
