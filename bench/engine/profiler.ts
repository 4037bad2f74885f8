// A CPU profiler on the current thread (node:inspector), for the bench's "where the time goes".
import { Session } from 'node:inspector/promises';

export interface CpuProfile {
  nodes: {
    hitCount?: number | undefined;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
}

export interface RunningProfiler {
  stop(): Promise<CpuProfile>;
}

/** Starts sampling this thread every `intervalUs` µs; stop() returns the profile. */
export async function startCpuProfiler(intervalUs = 500): Promise<RunningProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return profile as CpuProfile;
    },
  };
}
