// The lab's well-known names and paths: the marker env var of its processes, the Sentinel master
// name, the Toxiproxy proxy names, and where the CLI it spawns lives. Exported by src/lab/lab.ts.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Env var set on every lab process: lets `lab down` find orphans of a crashed `lab up`. */
export const LAB_DIR_ENV = 'OWUI_CHAOS_LAB_DIR';
export const MASTER_NAME = 'mymaster';
export const PROXY_LLM = 'llm';
export const PROXY_REDIS_MASTER = 'redis-master';
export const PROXY_REDIS_REPLICA = 'redis-replica';
export const PROXY_POSTGRES = 'postgres';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Project root: this file is src/lab/parts/names.ts or dist/lab/parts/names.js. */
export const PROJECT_DIR = resolve(HERE, '..', '..', '..');
export const RUN_JS = join(PROJECT_DIR, 'bin', 'run.js');
