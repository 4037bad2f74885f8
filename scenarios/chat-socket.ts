// Browser clients over k6 WebSockets with the shared Engine.IO/Socket.IO codec: auth, user-join,
// heartbeats, socket-mode chats timed on receipt, the web UI's reconnect policy (DESIGN §8).
// Configuration: see lib/config.ts (`OWUI_CONFIG`, `OWUI_USER_TOKENS` or `OWUI_SIGNIN`).

import { buildOptions } from './lib/options.js';
import { browserClient, config, sharedSetup } from './lib/setup.js';

export const options = buildOptions(config, { api: false, browser: true });
export const setup = sharedSetup;
export { browserClient };
