// Stand-in for api-chat-xk6.ts in bundles built for plain k6 (no `k6/x/sse` import). Reaching it
// means the configuration asked for xk6-sse timing from a plain bundle.

import exec from 'k6/execution';
import type { ApiChatInput } from './api-chat.js';

export function runXk6ApiChat(_input: ApiChatInput): void {
  exec.test.abort(
    'this bundle was built without xk6-sse; rebuild with `owui-chaos k6 bundle --sse xk6` or set OWUI_SSE=plain',
  );
}
