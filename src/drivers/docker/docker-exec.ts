// Runs a command inside a container through the Docker exec API and returns its exit code and the
// exact stdout/stderr bytes (demultiplexed). Used by the nginx driver for containerised nginx.
// Only a type is imported from dockerode here: the SDK itself is loaded by the replica driver.

import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs `cmd` (argv, no shell) in `container` (id or name). */
export type ContainerExec = (
  container: string,
  cmd: string[],
  opts?: { timeoutMs?: number },
) => Promise<ExecResult>;

export async function dockerodeExec(
  docker: Docker,
  container: string,
  cmd: string[],
  timeoutMs = 30_000,
): Promise<ExecResult> {
  const exec = await docker
    .getContainer(container)
    .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.destroy();
      reject(
        new Error(
          `\`${cmd.join(' ')}\` in container ${container} did not finish within ${Math.round(timeoutMs / 1000)} s`,
        ),
      );
    }, timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('end', finish);
    stream.once('close', finish);
    stream.once('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  // The exit code is set a moment after the stream ends.
  let exitCode: number | null = null;
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) {
      exitCode = info.ExitCode;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  if (exitCode === null)
    throw new Error(`\`${cmd.join(' ')}\` in container ${container}: no exit code reported`);
  return { exitCode, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}
