// `run`'s preflight through the doctor's checks (docs/doctor.md): before any load or fault,
// identity (load balancer and every listed replica answer as Open WebUI, same version) and the
// websocket upgrade through the proxy; after the run's own sign-in, the shared secret (the run's
// token accepted by every replica). A failed check stops the run with exit 4 and the check's fix.
// When the run's sign-in itself fails on a multi-replica target, the secret check runs on its own
// (one sign-in on the first replica) so a per-replica WEBUI_SECRET_KEY is named as the cause
// instead of "wrong credentials".

import type { CheckResult } from '../../core/doctor/report.js';
import type { Target } from '../../core/config/target.js';
import { PreflightError } from '../../core/errors.js';
import { runDoctor, type DoctorOptions } from './run-doctor.js';

export interface PreflightOptions {
  onCheck?: (c: CheckResult) => void;
}

export async function preflightWithDoctor<T>(
  target: Target,
  provision: () => Promise<T>,
  tokenOf: (credentials: T) => string | undefined,
  opts: PreflightOptions = {},
): Promise<T> {
  const base: DoctorOptions = opts.onCheck ? { onCheck: opts.onCheck } : {};
  failOn(target, await runDoctor(target, { ...base, only: ['identity', 'websocket'] }));
  let credentials: T;
  try {
    credentials = await provision();
  } catch (err) {
    if ((target.openwebui.replicas ?? []).length >= 2) {
      const diagnosis = await runDoctor(target, { ...base, only: ['secret'] }).catch(() => undefined);
      if (diagnosis) failOn(target, diagnosis, err);
    }
    throw err;
  }
  const token = tokenOf(credentials);
  if (token !== undefined && (target.openwebui.replicas ?? []).length >= 2) {
    failOn(
      target,
      await runDoctor(target, { ...base, only: ['secret'], user: { token, issuer: 'the load balancer' } }),
    );
  }
  return credentials;
}

function failOn(target: Target, report: { checks: CheckResult[] }, cause?: unknown): void {
  const failed = report.checks.filter((c) => c.status === 'fail');
  if (failed.length === 0) return;
  throw new PreflightError(
    `Preflight failed on \`${target.name}\`, nothing was started: ${failed.map((c) => `${c.id}: ${c.summary}`).join('; ')}`,
    {
      code: 'PREFLIGHT_CHECK_FAILED',
      ...(cause !== undefined ? { cause } : {}),
      suggestions: [
        ...failed.flatMap((c) => (c.fix ? [`${c.fix.action} (${c.fix.guide.url})`] : [])),
        'owui-chaos doctor   # with the same --target / --lab-name: every check, with the evidence',
      ],
    },
  );
}
