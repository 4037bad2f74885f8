// API clients and browser clients together, as an experiment's `load` section describes them
// (`chat` → API scenario, `sockets` → browser scenario). Configuration: see lib/config.ts.

import { buildOptions } from './lib/options.js';
import { apiChat, browserClient, config, sharedSetup } from './lib/setup.js';

export const options = buildOptions(config, { api: true, browser: true });
export const setup = sharedSetup;
export { apiChat, browserClient };
