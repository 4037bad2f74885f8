// The servers for chatting browser clients in the k6-vs-Node bench (docs/k6.md "Side by side"):
// one Open WebUI simulator replica (src/lab/owui-sim: memory store, no Redis, 127.0.0.1) in front
// of the real mock LLM, both in ONE child process, so the engines' CPU is measured apart from
// theirs. The mock has no pacing of its own: each prompt's directive asks for it.
//
// startChatServers() starts the child (≤ 30 s) and provisions `users` accounts the way `load
// --client browser` does (src/engines/node/provisioning.ts: an admin, the first sign-up, adds
// them), so both engines get the same credentials. The child watches its stdin: when the bench
// dies, even by SIGKILL, the pipe closes and the child exits.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createAgent } from '../../src/engines/node/http.js';
import { provisionCredentials, type Credentials } from '../../src/engines/node/provisioning.js';
import { startMockLlm } from '../../src/lab/mock-llm/server.js';
import { configFromEnv } from '../../src/lab/owui-sim/config.js';
import { startOwuiSim } from '../../src/lab/owui-sim/server.js';

const SELF = fileURLToPath(import.meta.url);
const ADMIN = { email: 'bench-admin@bench.invalid', password: 'bench-admin-pw', name: 'bench admin' };

export interface ChatServers {
  /** The simulator's base URL (Open WebUI's paths). */
  url: string;
  pid: number;
  credentials: Credentials;
  close(): Promise<void>;
}

export async function startChatServers(users: number): Promise<ChatServers> {
  // tsx loads this file in the child whether or not the parent runs under tsx (vitest does not).
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await once(child, 'exit');
    clearTimeout(killer);
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the simulator did not start within 30 s')), 30_000);
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        resolve((JSON.parse(buf.slice(0, nl)) as { url: string }).url);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the simulator's child exited with ${code}`));
      });
    });
    const signup = await fetch(`${url}/api/v1/auths/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    if (!signup.ok) throw new Error(`admin sign-up on the simulator: HTTP ${signup.status}`);
    const agent = createAgent(8);
    const credentials = await provisionCredentials(agent, url, {
      admin: { email: ADMIN.email, password: ADMIN.password },
      provision: users,
      emailPrefix: 'bench-user',
      emailDomain: 'bench.invalid',
    });
    await agent.close();
    if (credentials.users.length !== users)
      throw new Error(`provisioned ${credentials.users.length} of ${users} users on the simulator`);
    return { url, pid: child.pid ?? 0, credentials, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The child: mock LLM + one simulator replica until SIGTERM or the end of stdin. */
async function serve(): Promise<void> {
  const mock = await startMockLlm({ port: 0 });
  const sim = await startOwuiSim(
    configFromEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      WEBUI_SECRET_KEY: 'bench-secret',
      OPENAI_API_BASE_URL: `${mock.url}/v1`,
      DEFAULT_USER_ROLE: 'user',
      BYPASS_MODEL_ACCESS_CONTROL: 'true',
    }),
    { log: () => undefined },
  );
  process.stdout.write(JSON.stringify({ url: sim.url }) + '\n');
  const stop = (): void => {
    void Promise.allSettled([sim.close(), mock.close()]).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

if (process.argv[2] === '--serve') await serve();
