// Default SLOs (experiments/slos/default.yaml) merged with an experiment's own: an experiment SLO
// replaces the default with the same `sloId` (metric, stat, client, tags) wholesale, phases
// included; new ones are appended. Order: defaults first, so reports read the same run to run.

import { sloId, type SloSpec } from './spec.js';

export function mergeSlos(defaults: readonly SloSpec[], overrides: readonly SloSpec[]): SloSpec[] {
  const byId = new Map<string, SloSpec>();
  for (const slo of defaults) byId.set(sloId(slo), slo);
  for (const slo of overrides) byId.set(sloId(slo), slo);
  return [...byId.values()];
}
