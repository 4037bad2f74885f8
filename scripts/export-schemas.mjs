// Writes experiments/experiment.schema.json and experiments/target.schema.json from the zod
// schemas (the single source of truth), so editors validate YAML as you type.
import { existsSync } from 'node:fs';
const entry = new URL('../dist/core/config/json-schema.js', import.meta.url);
if (existsSync(entry)) {
  const { writeJsonSchemas } = await import(entry.href);
  await writeJsonSchemas(new URL('../experiments/', import.meta.url));
}
