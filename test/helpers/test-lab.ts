// A lab (src/lab/lab.ts) as an `await using` resource for tests: `startLab` runs `labUp`, and
// disposing it runs `labDown` and then checks what an operator would check — `lab down` reported
// no error, no process the state recorded is alive, no port it recorded is still open — and removes
// the state directory. A stop that finds anything left fails the test (or the file, through
// `fileResource`), so a leak is never silent.
//
//   await using lab = await startLab({ name: `x-${process.pid}`, stateDir, replicas: 2 });

import { rmSync } from 'node:fs';
import { labDown, labPids, labPorts, labUp, type LabUpOptions } from '../../src/lab/lab.js';
import { readLabState, type LabState } from '../../src/infra/lab-state.js';
import { isAlive, tcpOpen } from '../../src/infra/process/daemon.js';
import { pollUntil } from './poll-until.js';
import { resource, type Resource } from './resources.js';

export interface StartedLab {
  stateDir: string;
  /** The state `labUp` returned. */
  state: LabState;
  /** state.json as it is now (pids change when faults restart parts). */
  current(): LabState;
}

export interface StartLabOptions extends LabUpOptions {
  stateDir: string;
  /** Removed after the stop as well (e.g. the OWUI_CHAOS_HOME holding the state dir). */
  removeDir?: string;
  /**
   * Also fail when a recorded port still answers after the stop. Off by default: on a shared
   * machine another process may take a freed port at once.
   */
  checkPorts?: boolean;
}

/** What is left after `labDown`: errors it reported, recorded pids alive, recorded ports open. */
export interface LabLeftovers {
  /** Errors of `lab down`, and of a second `lab down` that should find nothing to do. */
  errors: string[];
  alive: Array<{ part: string; pid: number }>;
  openPorts: number[];
}

export async function startLab(opts: StartLabOptions): Promise<Resource<StartedLab>> {
  const { removeDir, checkPorts, ...up } = opts;
  const cleanDirs = (): void => {
    rmSync(opts.stateDir, { recursive: true, force: true });
    if (removeDir) rmSync(removeDir, { recursive: true, force: true });
  };
  let state: LabState;
  try {
    state = await labUp(up);
  } catch (err) {
    // labUp stops what it started when it fails; anything recorded before that goes too.
    await labDown(opts.stateDir).catch(() => undefined);
    cleanDirs();
    throw err;
  }
  const lab: StartedLab = {
    stateDir: opts.stateDir,
    state,
    current() {
      const s = readLabState(opts.stateDir);
      if (!s) throw new Error(`no state.json in ${opts.stateDir}`);
      return s;
    },
  };
  return resource(lab, async () => {
    try {
      const left = await stopLab(opts.stateDir, { checkPorts: checkPorts ?? false });
      const problems = [
        ...left.errors.map((e) => `lab down: ${e}`),
        ...left.alive.map((p) => `${p.part} (pid ${p.pid}) still alive`),
        ...left.openPorts.map((p) => `port ${p} still open`),
      ];
      if (problems.length > 0)
        throw new Error(`the lab in ${opts.stateDir} did not stop cleanly: ${problems.join('; ')}`);
    } finally {
      cleanDirs();
    }
  });
}

/** `labDown`, then what is left of what state.json recorded just before it. */
export async function stopLab(stateDir: string, opts: { checkPorts?: boolean } = {}): Promise<LabLeftovers> {
  const state = readLabState(stateDir);
  const result = await labDown(stateDir);
  const pids = state ? labPids(state) : [];
  // A SIGKILLed part may take a moment to be reaped.
  await pollUntil('the lab processes gone', () => !pids.some((p) => isAlive(p.pid)), {
    budgetMs: 2000,
  }).catch(() => undefined);
  const errors = [...result.errors];
  if (errors.length === 0) {
    // Idempotent: a second down finds nothing and fails on nothing.
    const again = await labDown(stateDir);
    errors.push(...again.errors.map((e) => `second lab down: ${e}`));
    if (again.stopped.length > 0) errors.push(`second lab down stopped ${again.stopped.join(', ')} again`);
  }
  const openPorts: number[] = [];
  if (opts.checkPorts && state)
    for (const port of labPorts(state)) if (await tcpOpen(port)) openPorts.push(port);
  return { errors, alive: pids.filter((p) => isAlive(p.pid)), openPorts };
}
