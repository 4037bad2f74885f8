// The lab a use case may start for itself: when the lab is the target and is not up (or not
// healthy), start it, and stop it again afterwards unless asked to keep it. `using` the returned
// handle guarantees the stop also when the run fails.

import { errorMessage } from '../core/errors.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';

export interface LabSession {
  startedLab: boolean;
  /** Stops the lab when this session started it and `keep` is false; a failure is a notice. */
  end(): Promise<void>;
}

export async function ensureLab(opts: {
  labName: string;
  stateDir: string;
  keep: boolean;
  notice: (text: string) => void;
}): Promise<LabSession> {
  const status = await labStatus(opts.stateDir, { nginxProbes: 0 }).catch(() => undefined);
  let startedLab = false;
  if (!status?.running || !status.healthy) {
    opts.notice(
      `the lab \`${opts.labName}\` is not up: starting it (owui-chaos lab up --name ${opts.labName}); this takes ~15 s`,
    );
    await labUp({
      name: opts.labName,
      stateDir: opts.stateDir,
      onProgress: (step: string) => opts.notice(`lab: ${step}`),
    });
    startedLab = true;
  }
  return {
    startedLab,
    async end() {
      if (!startedLab || opts.keep) return;
      opts.notice(`stopping the lab this run started (keep it with --keep-lab)`);
      await labDown(opts.stateDir).catch((err: unknown) =>
        opts.notice(`lab down failed: ${errorMessage(err)}`),
      );
    },
  };
}
