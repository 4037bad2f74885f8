import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  experimentJsonSchema,
  targetJsonSchema,
  writeJsonSchemas,
} from '../../../../src/core/config/json-schema.js';
import { FAULT_ACTIONS } from '../../../../src/core/config/faults.js';
import { EXPERIMENTS, FIXTURES } from './helpers.js';

// The generated schemas are walked by hand below; typing every level would hide the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

describe('JSON Schema export', () => {
  it('writes experiment.schema.json and target.schema.json into the given folder', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'owui-chaos-schema-'));
    try {
      await writeJsonSchemas(pathToFileURL(dir + path.sep));
      const experiment = JSON.parse(await readFile(path.join(dir, 'experiment.schema.json'), 'utf8')) as Json;
      const target = JSON.parse(await readFile(path.join(dir, 'target.schema.json'), 'utf8')) as Json;
      expect(experiment.title).toBe('owui-chaos experiment');
      expect(target.title).toBe('owui-chaos target');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('describes the file as written: strict objects, durations as strings or numbers, one timeline shape per action', () => {
    const schema = experimentJsonSchema() as Json;
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual([
      'title',
      'description',
      'target',
      'load',
      'slos',
      'timeline',
      'rollbacks',
      'settings',
    ]);
    const actions = (schema.properties.timeline.items.oneOf as Json[]).map((o) => o.properties.action.const);
    expect(actions).toEqual(FAULT_ACTIONS);
    // Duration fields accept `30s` or milliseconds, or an env reference.
    expect(schema.properties.load.properties.duration).toEqual({
      description: 'a duration such as `500ms`, `30s`, `2m` or a number of milliseconds',
      anyOf: [{ type: ['string', 'number'] }, { $ref: '#/$defs/envRef' }],
    });
  });

  it('lets every scalar be an `{ env: NAME }` reference, except discriminators', () => {
    const schema = targetJsonSchema() as Json;
    const password = schema.properties.auth.properties.admin.properties.password as Json;
    expect(password.anyOf).toEqual([expect.objectContaining({ type: 'string' }), { $ref: '#/$defs/envRef' }]);
    expect(schema.$defs.envRef.required).toEqual(['env']);
    const nginxTypes = (schema.properties.nginx.oneOf as Json[]).map((o) => o.properties.type);
    expect(nginxTypes.every((t) => t.const !== undefined && t.anyOf === undefined)).toBe(true);
  });

  it('every key used by the built-in experiments and fixtures is declared in the schema', async () => {
    const schema = experimentJsonSchema() as Json;
    const files = ['failover', 'gameday', 'replica-kill']
      .map((n) => path.join(EXPERIMENTS, `${n}.yaml`))
      .concat(path.join(FIXTURES, 'experiments/valid/full.yaml'));
    for (const file of files) {
      const doc = parse(await readFile(file, 'utf8')) as Json;
      for (const key of Object.keys(doc)) expect(schema.properties).toHaveProperty(key);
      for (const key of Object.keys(doc.load)) expect(schema.properties.load.properties).toHaveProperty(key);
    }
  });

  it('the schemas committed next to the built-in experiments are up to date', async () => {
    const committed = JSON.parse(
      await readFile(path.join(EXPERIMENTS, 'experiment.schema.json'), 'utf8'),
    ) as Json;
    const target = JSON.parse(await readFile(path.join(EXPERIMENTS, 'target.schema.json'), 'utf8')) as Json;
    // When this fails, the zod schemas changed: `npm run build` regenerates both files.
    expect(committed).toEqual(experimentJsonSchema());
    expect(target).toEqual(targetJsonSchema());
  });
});
