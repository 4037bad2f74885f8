// Public surface of the Open WebUI simulator (one replica per call / per process).
export { configFromEnv, type OwuiSimConfig } from './config.js';
export { startOwuiSim, type OwuiSimHandle, type OwuiSimOptions } from './server.js';
export { runReplica } from './replica-main.js';
