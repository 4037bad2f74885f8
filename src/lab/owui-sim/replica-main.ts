// Runs one simulator replica in this process until SIGTERM/SIGINT, configured ONLY from the
// environment (so a process replica and a container replica start the same way).
// SIGTERM/SIGINT → graceful close (tasks cancelled with partial save, `chat:tasks:cancel` sent
// through Redis, task keys cleaned) then exit 0. SIGKILL needs no code: the process just dies.

import { configFromEnv } from './config.js';
import { startOwuiSim, type OwuiSimHandle } from './server.js';

export interface RunReplicaOptions {
  /** Called once the replica serves (e.g. to print its URL). */
  onReady?: (handle: OwuiSimHandle) => void;
}

/** Resolves after a signal-triggered graceful stop; rejects if the replica cannot start. */
export async function runReplica(env: NodeJS.ProcessEnv, options: RunReplicaOptions = {}): Promise<void> {
  const config = configFromEnv(env);
  // A stray rejection must not take a replica down mid-experiment; it is logged instead.
  process.on('unhandledRejection', (reason) => {
    process.stdout.write(
      `${new Date().toISOString()} ${config.replicaName} unhandled rejection: ${reason instanceof Error ? reason.message : String(reason)}\n`,
    );
  });
  const handle = await startOwuiSim(config);
  options.onReady?.(handle);
  await new Promise<void>((resolve) => {
    let signalled = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (signalled) return;
      signalled = true;
      process.stdout.write(`${new Date().toISOString()} ${config.replicaName} ${signal}: shutting down\n`);
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      handle.close().then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
