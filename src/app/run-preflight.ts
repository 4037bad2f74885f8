// `run`'s checks before anything touches the target: the experiment fits the target, a person
// confirmed destructive faults on a non-lab target, the target answers, and the run's users sign
// in once (through the doctor's identity / websocket / shared-secret checks, src/app/doctor).

import { checkAgainstTarget, type Experiment, type LoadedExperiment } from '../core/config/experiment.js';
import type { Target } from '../core/config/target.js';
import { PreflightError, ValidationError } from '../core/errors.js';
import { createAgent } from '../engines/node/http.js';
import { authSourceFromTarget, provisionCredentials } from '../engines/node/provisioning.js';
import { preflightWithDoctor } from './doctor/preflight.js';

export type Credentials = Awaited<ReturnType<typeof provisionCredentials>>;

/** The experiment's findings against the target as one ValidationError (exit 3). */
export function assertFitsTarget(
  loaded: LoadedExperiment,
  target: Target,
  experimentRef: string,
  targetRef: string,
): void {
  const exp = loaded.experiment;
  const findings = checkAgainstTarget(exp, target);
  if (findings.length === 0) return;
  const issues = findings.map(
    (f) => f.issue ?? { path: f.path.join('.'), message: f.message, file: loaded.file },
  );
  throw new ValidationError(`Experiment \`${exp.title}\` cannot run on target \`${target.name}\``, issues, {
    code: 'EXPERIMENT_TARGET_MISMATCH',
    suggestions: [`owui-chaos experiment validate ${experimentRef} --target ${targetRef}`],
  });
}

export async function confirmDestructive(
  req: { yes?: boolean; experiment: string; confirm?: (question: string) => Promise<boolean> },
  experiment: Experiment,
  target: Target,
  isLab: boolean,
): Promise<void> {
  if (isLab || req.yes || experiment.timeline.length === 0) return;
  const question = `Run ${experiment.timeline.length} fault(s) of \`${experiment.title}\` against ${target.openwebui.url} (${target.name})?`;
  const ok = req.confirm ? await req.confirm(question) : false;
  if (!ok) {
    throw new PreflightError(
      `Not confirmed: \`${experiment.title}\` injects faults into the non-lab target \`${target.name}\``,
      {
        code: 'NOT_CONFIRMED',
        suggestions: [
          'Re-run with --yes to confirm',
          `owui-chaos run ${req.experiment} --dry-run   # see the plan first`,
        ],
      },
    );
  }
}

/** Users the experiment's load needs signed in. */
export function usersNeeded(load: Experiment['load']): number {
  return Math.max(load.sockets?.vus ?? 0, load.chat?.model === 'closed' ? load.chat.vus : 1, 1);
}

/** The doctor's checks around ONE sign-in of every user the run needs (exit 4 on a failed check). */
export async function preflightCredentials(target: Target, needUsers: number): Promise<Credentials> {
  const agent = createAgent(8);
  try {
    return await preflightWithDoctor(
      target,
      () =>
        provisionCredentials(
          agent,
          target.openwebui.url,
          authSourceFromTarget(target.auth, needUsers, target.openwebui.version),
        ),
      (c) => c.users[0]?.token,
    );
  } finally {
    await agent.close();
  }
}

export async function preflightReachable(target: Target): Promise<void> {
  const url = `${target.openwebui.url.replace(/\/$/, '')}/health`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(target.openwebui.timeout ?? 10_000) });
    const body = (await res.json().catch(() => undefined)) as { status?: unknown } | undefined;
    // /health answers 200 JSON {status:true}; an SPA fallback (200 text/html) means a wrong URL.
    if (res.status !== 200 || body?.status !== true) {
      throw new Error(
        `GET ${url} answered ${res.status} ${body === undefined ? '(not JSON: is this Open WebUI?)' : JSON.stringify(body)}`,
      );
    }
  } catch (err) {
    throw new PreflightError(`Target \`${target.name}\` is not reachable at ${target.openwebui.url}`, {
      code: 'TARGET_UNREACHABLE',
      cause: err,
      suggestions: [
        `curl -s ${url}`,
        ...(target.name === 'lab' ? ['owui-chaos lab status', 'owui-chaos lab up'] : []),
      ],
    });
  }
}
