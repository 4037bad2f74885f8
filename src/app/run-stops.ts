// Why a run stopped early, as data (RunStop) every report renders. Pure: from the runner's outcome
// to the list of stops, most important first; the exit code follows from it by the precedence in
// src/core/report/outcome.ts (rollback failed > interrupted > steady state > fault > load > SLOs).

import {
  ExitCode,
  FaultError,
  InterruptedError,
  LoadGeneratorError,
  OwuiChaosError,
  PreflightError,
  errorMessage,
} from '../core/errors.js';
import type { RunStop } from '../core/report/outcome.js';
import type { UntouchedFault } from '../core/faults/traffic-watch.js';
import type { RunOutcome, SteadyStateVerdict } from '../core/runner/runner.js';

export function stopsOf(
  outcome: Pick<
    RunOutcome,
    | 'journal'
    | 'rollbackFailed'
    | 'interrupted'
    | 'steadyStateFailed'
    | 'faultFailed'
    | 'untouched'
    | 'loadError'
  >,
  stillInjected: Array<{ description: string }>,
  runDir: string,
): RunStop[] {
  const stops: RunStop[] = [];
  const stop = (reason: RunStop['reason'], error: OwuiChaosError): void => {
    stops.push({ reason, code: error.code, message: error.message, suggestions: error.suggestions });
  };
  if (outcome.rollbackFailed) {
    stop(
      'rollback-failed',
      new OwuiChaosError(
        `${stillInjected.length} fault(s) are still injected: ${stillInjected.map((e) => e.description).join('; ')}`,
        {
          code: 'ROLLBACK_FAILED',
          exitCode: ExitCode.rollbackFailed,
          suggestions: [`owui-chaos rollback --run ${runDir}`],
        },
      ),
    );
  }
  if (outcome.interrupted) {
    stop(
      'interrupted',
      new InterruptedError(
        outcome.rollbackFailed
          ? 'The run was interrupted; not every injected fault could be reverted'
          : 'The run was interrupted; every injected fault was reverted',
      ),
    );
  }
  if (outcome.steadyStateFailed) {
    const verdict = outcome.journal.activities.find((a) => a.name === 'steady-state')?.output as
      SteadyStateVerdict | undefined;
    stop(
      'steady-state-failed',
      new PreflightError(
        `The steady state did not hold before the first fault, so nothing was injected: ${(verdict?.breaches ?? []).join('; ')}`,
        {
          code: 'STEADY_STATE_BROKEN',
          suggestions: [
            'owui-chaos lab status',
            'owui-chaos load --duration 30s --chat-vus 5   # see what the baseline looks like',
          ],
        },
      ),
    );
  }
  if (outcome.faultFailed) {
    const failed = outcome.journal.activities.find((a) => a.kind === 'inject' && a.status === 'failed');
    stop(
      'fault-failed',
      new FaultError(
        `Fault \`${failed?.name}\` (${failed?.action}) could not be injected: ${failed?.error}`,
        {
          code: 'FAULT_FAILED',
        },
      ),
    );
  }
  for (const u of outcome.untouched) stops.push(untouchedStop(u));
  if (outcome.loadError !== undefined) {
    const err = outcome.loadError;
    stop(
      'load-failed',
      err instanceof OwuiChaosError
        ? err
        : new LoadGeneratorError(`The load generator failed: ${errorMessage(err)}`, {
            code: 'LOAD_FAILED',
            cause: err,
          }),
    );
  }
  return stops;
}

/** The stop of a fault no traffic reached while it was injected (run and game day alike). */
function untouchedStop(u: UntouchedFault): RunStop {
  const error = new FaultError(
    `Fault \`${u.name}\` (${u.description}) touched no traffic: nothing passed through it in the ${Math.round(u.injectedMs / 1000)} s it was injected, so it was not tested. The deployment's traffic does not go through that proxy (for Redis behind Sentinel: Sentinel hands out the nodes' own addresses, docs/faults.md)`,
    {
      code: 'FAULT_TOUCHED_NO_TRAFFIC',
      suggestions: [
        'owui-chaos lab status   # which proxies the lab put on which path',
        'point the deployment at the proxy (or the fault at a proxy it uses), then run again',
      ],
    },
  );
  return { reason: 'fault-failed', code: error.code, message: error.message, suggestions: error.suggestions };
}
