// The target file (DESIGN §3): where the deployment under test is and how faults reach it. The
// zod schema is the single source of truth (the JSON Schema for editors is generated from it).
// Contract: `loadTarget` resolves `lab` or a path, reads YAML, resolves environment references,
// validates, and either returns the typed target with its secrets (for redaction) or throws one
// ValidationError listing every problem with file, line and column.

import path from 'node:path';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { loadDocument, parseDocumentText, type Env, type LoadedDocument } from './document.js';
import { PositiveDurationSchema } from './duration.js';

const url = z.url({ protocol: /^https?$/ }).describe('an http(s) URL such as `http://127.0.0.1:8080`');
const host = z.string().min(1).describe('a host name or IP address');
const port = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
  .pipe(z.number().int().min(1).max(65535))
  .describe('a TCP port (1–65535)');
const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d+$/, { message: 'is not `host:port`; use e.g. `127.0.0.1:0`' })
  .describe('`host:port`, e.g. `127.0.0.1:8474`');
const secret = z.string().describe('a string, usually `{ env: NAME }` so the secret stays out of the file');

const Credentials = z.strictObject({ email: z.string().min(1), password: secret });

const Users = z
  .strictObject({
    /** Users the admin creates with `POST /api/v1/auths/add` before the run. */
    provision: z
      .strictObject({
        count: z.number().int().min(1),
        emailPrefix: z.string().min(1).default('owui-chaos-load'),
        password: secret,
      })
      .optional(),
    /** Users that already exist. */
    existing: z.array(Credentials).min(1).optional(),
  })
  .refine((u) => (u.provision === undefined) !== (u.existing === undefined), {
    message: 'give exactly one of `provision: { count, password }` or `existing: [{ email, password }]`',
  });

/** How long a restarted replica may take to answer /health (real Open WebUI: about a minute). */
const startupBudget = PositiveDurationSchema.optional().describe(
  'how long a (re)started replica may take to become healthy, e.g. `240s`; default 30s',
);
const DockerReplicas = z.strictObject({
  type: z.literal('docker'),
  startupBudget,
  docker: z
    .strictObject({
      socketPath: z.string().min(1).optional(),
      /** `tcp://host:port` of a remote engine instead of a socket. */
      host: z.string().min(1).optional(),
      names: z.array(z.string().min(1)).min(1).optional(),
      /** `key=value` compose label, e.g. `com.docker.compose.service=open-webui`. */
      label: z
        .string()
        .regex(/^[^=\s]+=.*$/, {
          message: 'is not `key=value`; use e.g. `com.docker.compose.service=open-webui`',
        })
        .optional(),
    })
    .refine((d) => d.names !== undefined || d.label !== undefined, {
      message: 'say how to find the replica containers: `names: [owui-1, …]` or `label: key=value`',
    }),
});
const LabProcessReplicas = z.strictObject({
  type: z.literal('lab-process'),
  startupBudget,
  'lab-process': z.strictObject({ stateDir: z.string().min(1) }),
});
const NoReplicas = z.strictObject({ type: z.literal('none') });

const LocalNginx = z.strictObject({
  type: z.literal('local'),
  config: z.string().min(1),
  binary: z.string().min(1).default('nginx'),
  prefix: z.string().min(1).optional(),
});
const ContainerNginx = z.strictObject({
  type: z.literal('container'),
  container: z.strictObject({ name: z.string().min(1) }),
  config: z.string().min(1).default('/etc/nginx/nginx.conf'),
  binary: z.string().min(1).default('nginx'),
});
const NoNginx = z.strictObject({ type: z.literal('none') });

export const TargetSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  openwebui: z.strictObject({
    /** Through the load balancer. */
    url,
    /** Direct replica URLs, for checks that must reach each replica. */
    replicas: z.array(z.strictObject({ name: z.string().min(1), url })).optional(),
    version: z
      .union([
        z.literal('auto'),
        z
          .string()
          .regex(/^v?\d+\.\d+\.\d+([-+].*)?$/, { message: 'is not a version; use `auto` or e.g. `0.6.5`' }),
      ])
      .default('auto')
      .describe('`auto` or a version such as `0.6.5`'),
    /** Origin header for socket connections (Open WebUI checks CORS origins). */
    origin: url.optional(),
    /** Per-request budget for probes and preflight. */
    timeout: PositiveDurationSchema.optional(),
  }),
  auth: z
    .strictObject({
      admin: Credentials.optional(),
      users: Users.optional(),
      apiKeys: z.array(secret).min(1).optional(),
    })
    .refine((a) => a.users !== undefined || a.apiKeys !== undefined, {
      message: 'give test users (`users: { provision | existing }`) or `apiKeys: [...]`',
    })
    .refine((a) => a.users?.provision === undefined || a.admin !== undefined, {
      message: '`users.provision` needs `admin: { email, password }` to create the users',
    }),
  model: z.string().min(1).describe('the model id to chat with, e.g. `owui-chaos-mock`'),
  replicas: z.discriminatedUnion('type', [DockerReplicas, LabProcessReplicas, NoReplicas]).optional(),
  redis: z
    .strictObject({
      sentinels: z.array(z.strictObject({ host, port })).min(1),
      masterName: z.string().min(1).default('mymaster'),
      password: secret.optional(),
      sentinelPassword: secret.optional(),
    })
    .optional(),
  toxiproxy: z
    .strictObject({
      url,
      proxies: z
        .array(z.strictObject({ name: z.string().min(1), listen: hostPort, upstream: hostPort }))
        .optional(),
    })
    .optional(),
  nginx: z.discriminatedUnion('type', [LocalNginx, ContainerNginx, NoNginx]).optional(),
  safety: z
    .strictObject({
      allowDestructive: z.boolean().default(false),
      maxUnavailable: z.number().int().min(0).default(1),
    })
    .default({ allowDestructive: false, maxUnavailable: 1 }),
});

/** The validated target (input shape: what the lab writes and people author). */
export type TargetInput = z.input<typeof TargetSchema>;
/** The parsed target: defaults filled in, durations in ms. */
export type Target = z.output<typeof TargetSchema> & { name: string };

export interface LoadedTarget extends LoadedDocument {
  target: Target;
}

export interface LoadTargetOptions {
  env?: Env;
  /** Where `lab` points: the target file `owui-chaos lab up` writes. */
  labTargetFile?: string;
  /** Relative target paths resolve against this directory (default: cwd). */
  baseDir?: string;
}

export const LAB_TARGET = 'lab';

/** Resolves `lab` or a path and loads it. Throws ValidationError (exit 3). */
export async function loadTarget(ref: string, options: LoadTargetOptions = {}): Promise<LoadedTarget> {
  let file: string;
  if (ref === LAB_TARGET) {
    if (options.labTargetFile === undefined) {
      throw new ValidationError('The `lab` target is not available: no lab target file is known', [], {
        code: 'TARGET_NOT_FOUND',
        suggestions: ['owui-chaos lab up'],
      });
    }
    file = options.labTargetFile;
  } else {
    file = path.resolve(options.baseDir ?? process.cwd(), ref);
  }
  const loaded = await loadDocument(file, {
    schema: TargetSchema,
    kind: 'target',
    env: options.env ?? process.env,
    ...(ref === LAB_TARGET ? { notFoundSuggestions: ['owui-chaos lab up'] } : {}),
  });
  return withName(loaded, file, ref);
}

/** Parses target YAML text (for tests and for the lab, which writes this shape). */
export async function parseTarget(text: string, file: string, env: Env = {}): Promise<LoadedTarget> {
  const loaded = await parseDocumentText(text, file, { schema: TargetSchema, kind: 'target', env });
  return withName(loaded, file, undefined);
}

function withName(loaded: LoadedDocument, file: string, ref: string | undefined): LoadedTarget {
  const data = loaded.value as z.output<typeof TargetSchema>;
  const fallback = ref === LAB_TARGET ? LAB_TARGET : path.basename(file).replace(/\.ya?ml$/i, '');
  return { ...loaded, target: { ...data, name: data.name ?? fallback } };
}
