// The bench servers' child process (started by startBenchServers() in ./servers.ts, never by hand):
// the real mock LLM, a minimal Socket.IO server and a control endpoint. Prints one JSON line with
// the URLs when ready; SIGTERM stops it.
import { serveBenchServers } from './servers.js';

void serveBenchServers();
