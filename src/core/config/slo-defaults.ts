// Default SLOs (experiments/slos/default.yaml) and how experiments override them: an experiment's
// SLO replaces the default with the same `sloId` (metric, stat, client, tags); defaults nobody
// overrides still apply unless the experiment sets `settings.defaultSlos: false`.

import { z } from 'zod';
import { SloSpecSchema, sloId, type SloSpec } from '../slo/spec.js';
import { loadDocument, type Env } from './document.js';

/** Phases every run has; any other phase selector names a timeline entry. */
export const RESERVED_PHASES = ['baseline', 'fault', 'recovery', 'all'] as const;

export const SloDefaultsSchema = z.strictObject({
  description: z.string().optional(),
  slos: z.array(SloSpecSchema).min(1),
});

export async function loadSloDefaults(file: string, env: Env = {}): Promise<SloSpec[]> {
  const loaded = await loadDocument(file, {
    schema: SloDefaultsSchema,
    kind: 'slos',
    env,
    // Defaults apply to every experiment, so they may only name phases every experiment has.
    check: (value) =>
      (value as z.output<typeof SloDefaultsSchema>).slos.flatMap((slo, i) =>
        slo.phases.flatMap((phase, j) =>
          (RESERVED_PHASES as readonly string[]).includes(phase)
            ? []
            : [
                {
                  code: 'UNKNOWN_REFERENCE' as const,
                  path: ['slos', i, 'phases', j],
                  message: `\`slos.${i}.phases.${j}\` is "${phase}"; default SLOs apply to every experiment, so use one of ${RESERVED_PHASES.map((p) => `\`${p}\``).join(', ')}`,
                },
              ],
        ),
      ),
  });
  return (loaded.value as z.output<typeof SloDefaultsSchema>).slos;
}

/** The experiment's SLOs first (in its order), then every default it does not override. */
export function mergeSlos(defaults: readonly SloSpec[], declared: readonly SloSpec[]): SloSpec[] {
  const overridden = new Set(declared.map(sloId));
  return [...declared, ...defaults.filter((slo) => !overridden.has(sloId(slo)))];
}

/**
 * The defaults that apply to a load: a default scoped to a client kind (`client: api|browser`)
 * applies only when that kind is configured, so "every configured client kind produced samples"
 * can be a default without failing experiments that run only one kind.
 */
export function defaultsForClients(
  defaults: readonly SloSpec[],
  clients: { api: boolean; browser: boolean },
): SloSpec[] {
  return defaults.filter((slo) => slo.client === undefined || clients[slo.client]);
}
