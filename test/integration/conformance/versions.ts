// The Open WebUI versions the conformance suite is held to (docs/openwebui-protocol.md).
/** Newest release: runs in `npm test` against real Open WebUI and the simulator. */
export const CONFORMANCE_VERSION = '0.12.4';
/** An older release whose payloads differ (task_id reply, output+content frames, no chat creation). */
export const CONFORMANCE_OLDER_VERSION = '0.8.12';
