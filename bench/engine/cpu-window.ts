// CPU over a measured window: this process (the client under test), the bench servers' child, and
// every other process on the machine (the load a shared box adds), from marks taken at the
// window's edges.
import type { BenchServers, LoopDelay } from './servers.js';
import { type MachineCpu, type ProcessCpu, cpuBetween, machineCpuMs, selfCpu } from './proc.js';

export interface CpuMark {
  at: number;
  client: ProcessCpu;
  server: Promise<ProcessCpu>;
  machine: MachineCpu | undefined;
  /** The mock's event-loop delay since the previous mark (each mark resets it). */
  serverLoop: Promise<LoopDelay>;
}

export interface CpuWindow {
  wallMs: number;
  client: ProcessCpu;
  server: ProcessCpu;
  /** CPU of all other processes (cores) over the window; undefined off Linux. */
  otherCores: number | undefined;
  /** Steal time over the window (cores): the host ran other guests; undefined off Linux. */
  stealCores: number | undefined;
  /** The servers' main-thread event-loop delay over the window, ms. */
  serverLoop: LoopDelay;
}

/** A mark now; cheap enough to take from a progress callback. */
export function cpuMark(servers: BenchServers, client: () => ProcessCpu = selfCpu): CpuMark {
  return {
    at: Date.now(),
    client: client(),
    server: servers.cpu(),
    machine: machineCpuMs(),
    serverLoop: servers.loopDelay(),
  };
}

export async function cpuWindow(a: CpuMark, b: CpuMark): Promise<CpuWindow> {
  const wallMs = Math.max(1, b.at - a.at);
  const client = cpuBetween(a.client, b.client);
  const server = cpuBetween(await a.server, await b.server);
  const otherCores =
    a.machine && b.machine
      ? Math.max(0, (b.machine.busy - a.machine.busy - client.cpuMs - server.cpuMs) / wallMs)
      : undefined;
  await a.serverLoop;
  const stealCores = a.machine && b.machine ? (b.machine.steal - a.machine.steal) / wallMs : undefined;
  return { wallMs, client, server, otherCores, stealCores, serverLoop: await b.serverLoop };
}
