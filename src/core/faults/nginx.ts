// nginx faults through the NginxDriver port: `proxy_buffering on|off`, whose inverse restores the
// ORIGINAL BYTES of the config exactly (read before anything is written) and reloads. A config
// another run changed carries that run's marker line and is refused: saving it as "the original"
// would restore the other run's fault for good.

import { z } from 'zod';
import { FaultError } from '../errors.js';
import type { NginxDriver } from '../ports.js';
import { type ActionTable, type PreparedFault, entrySchema, forWindow } from './kind.js';
import { restoreConfigRecord } from './revert-record.js';

export const entries = [
  entrySchema(
    'nginx.buffering',
    z.strictObject({ enabled: z.boolean().describe('`true` (buffer responses: the fault) or `false`') }),
  ),
] as const;

export type NginxEntry = z.output<(typeof entries)[number]>;

export const actions: ActionTable<NginxEntry> = {
  'nginx.buffering': {
    facts: {
      inverse: 'restore the original nginx config and reload',
      replicas: false,
      destructive: true,
      needs: 'nginx',
      lasting: true,
    },
    describe: (e) => `nginx \`proxy_buffering ${e.params.enabled ? 'on' : 'off'}\``,
    window: forWindow,
    prepare: (e, ctx) => prepareBuffering(ctx.ports.nginx(), e.params.enabled, ctx.runId),
  },
};

/**
 * `proxy_buffering on|off` with its inverse: the original bytes, read now. With `owner`, the
 * changed config carries the owner's marker line, and a config marked by another run is refused.
 */
export async function prepareBuffering(
  nginx: NginxDriver,
  on: boolean,
  owner?: string,
): Promise<PreparedFault> {
  const change = `proxy_buffering ${on ? 'on' : 'off'}`;
  const { where, configFile, container } = nginx.location;
  const original = await nginx.readConfig();
  const foreign = nginxMarkerOwner(original);
  if (foreign !== undefined && foreign !== owner) {
    throw new FaultError(
      `nginx config ${where} is already changed by run ${foreign} (its \`# owui-chaos:\` marker is in the file): \`${change}\` was not applied and nothing was touched`,
      { code: 'FOREIGN_FAULT', suggestions: ['owui-chaos rollback   # restores the bytes that run saved'] },
    );
  }
  let result: { bytes: Buffer; was: string };
  try {
    result = nginx.withBuffering(original, on);
    if (owner !== undefined && !result.bytes.equals(original))
      result = { ...result, bytes: Buffer.concat([Buffer.from(nginxMarker(owner)), result.bytes]) };
  } catch (err) {
    throw new FaultError(`Cannot set \`${change}\` in nginx config ${where}: ${(err as Error).message}`, {
      code: 'NGINX_CONFIG_EDIT_FAILED',
      cause: err,
    });
  }
  const { bytes, was } = result;
  return {
    description: `nginx ${change} in ${where} (was ${was})`,
    record: restoreConfigRecord(configFile, original, container),
    apply: async () => {
      if (!bytes.equals(original)) await nginx.applyConfig(bytes);
    },
  };
}

const MARKER = /^# owui-chaos: changed by run ([^\s;]+)/m;

/** The first line of a config a run changed: says whose change it is and how to undo it. */
export function nginxMarker(runId: string): string {
  return `# owui-chaos: changed by run ${runId}; \`owui-chaos rollback\` restores the original bytes\n`;
}

/** The run id of the marker in `config`, if a run changed it. */
export function nginxMarkerOwner(config: Buffer): string | undefined {
  return MARKER.exec(config.toString('utf8'))?.[1];
}
