// The fault catalogue as the config layer sees it: timeline entry schemas (a discriminated union
// on `action`, params normalised: durations → ms, defaults filled in), the facts about each
// action, descriptions and windows. It lives in src/core/faults/ (one module per fault kind and a
// registry); this module keeps the config layer's imports in one place.

export {
  FAULT_ACTIONS,
  FAULT_FACTS,
  TimelineEntrySchema,
  describeFault,
  faultWindow,
  replicasTaken,
  type FaultAction,
  type TimelineEntry,
  type TimelineEntryOf,
} from '../faults/registry.js';
export { formatMs, type FaultFacts } from '../faults/kind.js';
