// API clients (mode A, SSE) against Open WebUI's `/api/chat/completions` (DESIGN §8).
// Plain k6 reads bodies whole: ttfb, e2e, outcome and integrity; the xk6-sse build times events.
// Configuration: see lib/config.ts (`OWUI_CONFIG`, `OWUI_API_TOKENS`, …).

import { buildOptions } from './lib/options.js';
import { apiChat, config, sharedSetup } from './lib/setup.js';

export const options = buildOptions(config, { api: true, browser: false });
export const setup = sharedSetup;
export { apiChat };
