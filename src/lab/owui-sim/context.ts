// What every part of one simulator replica shares: config, store, Redis, logger.

import type { OwuiSimConfig } from './config.js';
import type { Log, SimRedis } from './redis.js';
import type { SimStore } from './store.js';
import type { VersionFeatures } from './version.js';

export interface SimContext {
  config: OwuiSimConfig;
  features: VersionFeatures;
  store: SimStore;
  /** Undefined when REDIS_URL is unset: in-memory tasks, no revocation, per-process limiter. */
  redis: SimRedis | undefined;
  log: Log;
  /** `{REDIS_KEY_PREFIX}:{suffix}`. */
  key(suffix: string): string;
}
