// Target resolution every use case shares (`run`, `load`, rollback): `lab` means the lab named
// `labName` under OWUI_CHAOS_HOME (its state.json says where its target file is), anything else
// is a target file. One function, so `load` and `run` cannot disagree on where the lab is.

import { LAB_TARGET, loadTarget, type Target } from '../core/config/target.js';
import { defaultLabStateDir, readLabState } from '../infra/lab-state.js';

export interface ResolvedTarget {
  target: Target;
  /** `lab` or the target file as given. */
  ref: string;
  isLab: boolean;
  /** The lab's state directory, for `lab`. */
  labStateDir?: string;
  /** The file the target was read from (the lab's target.yaml for `lab`). */
  targetFile?: string;
}

export interface TargetRefOptions {
  labName?: string;
  /** The lab's state directory, when the caller knows it already (default: from `labName`). */
  labStateDir?: string;
  env?: NodeJS.ProcessEnv;
}

export async function resolveTargetRef(ref: string, options: TargetRefOptions = {}): Promise<ResolvedTarget> {
  const env = options.env ?? process.env;
  if (ref !== LAB_TARGET) {
    const { target } = await loadTarget(ref, { env });
    return { target, ref, isLab: false, targetFile: ref };
  }
  const labStateDir = options.labStateDir ?? defaultLabStateDir(options.labName ?? 'default', env);
  const targetFile = readLabState(labStateDir)?.targetFile;
  const { target } = await loadTarget(LAB_TARGET, {
    env,
    ...(targetFile !== undefined ? { labTargetFile: targetFile } : {}),
  });
  return {
    target,
    ref,
    isLab: true,
    labStateDir,
    ...(targetFile !== undefined ? { targetFile } : {}),
  };
}
