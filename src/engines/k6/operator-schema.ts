// Our own schema of the k6-operator resources `k6 export --operator` writes (docs/k6.md
// "k6-operator"), checked before anything is written.
//
// Why: Kubernetes prunes fields a CRD does not declare, silently. A misspelt field (`paralellism`)
// or one at the wrong level is accepted by `kubectl apply` and then simply not there: the test
// runs on one pod, or without its script. So the schema is closed: every field we emit is listed,
// with the type the TestRun CRD (k6.io/v1alpha1) of k6-operator `K6_OPERATOR_TARGET` gives it,
// and anything else is an issue. It covers only what we emit, not the whole CRD.
//
// Beyond types, what the operator does with the resources (read off its runner job builder):
// - runner jobs are named `<name>-<index>` (1-based), so the name with `-<parallelism>` must be
//   a DNS-1123 label (≤ 63 characters);
// - with parallelism > 1 it appends `--execution-segment=<i-1>/N:<i>/N` and the matching
//   `--execution-segment-sequence` itself, plus `--address`, `--paused` and `--quiet`: arguments
//   carrying any of the first three would collide with its own;
// - each runner takes an equal segment of every scenario: a scenario with fewer VUs than runners
//   leaves runners with 0 of its VUs (k6 splits VUs by segment), so `vus` must be ≥ parallelism;
// - the script is read from the ConfigMap named in `spec.script.configMap`, key `file`, in the
//   TestRun's namespace; a ConfigMap holds at most 1 MiB.
//
// Contract: `validateOperatorManifests(yamlText)` → the issues found (empty = valid), each with
// the path of the field and what is wrong.

import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/** The k6-operator release whose TestRun CRD this schema was written against. */
export const K6_OPERATOR_TARGET = 'v1.6.0';

export interface ManifestIssue {
  path: string;
  message: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Environment variable names Kubernetes accepts for a container. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** ConfigMap data keys. */
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;
const INT32_MAX = 2 ** 31 - 1;
const CONFIGMAP_BYTES = 1024 * 1024;

const Metadata = z.strictObject({
  name: z.string().max(253).regex(DNS_SUBDOMAIN, 'a lowercase DNS-1123 name (a-z, 0-9, -, .)'),
  namespace: z.string().max(63).regex(DNS_LABEL, 'a DNS-1123 label').optional(),
  labels: z.record(z.string(), z.string().max(63)).optional(),
});

const EnvVar = z.union([
  z.strictObject({ name: z.string().regex(ENV_NAME), value: z.string() }),
  z.strictObject({
    name: z.string().regex(ENV_NAME),
    valueFrom: z.strictObject({
      secretKeyRef: z.strictObject({
        name: z.string().regex(DNS_SUBDOMAIN),
        key: z.string().regex(CONFIGMAP_KEY),
        optional: z.boolean().optional(),
      }),
    }),
  }),
]);

const TestRun = z.strictObject({
  apiVersion: z.literal('k6.io/v1alpha1'),
  kind: z.literal('TestRun'),
  metadata: Metadata,
  spec: z.strictObject({
    parallelism: z.number().int().min(1, 'at least 1 runner').max(INT32_MAX),
    script: z.strictObject({
      configMap: z.strictObject({
        name: z.string().regex(DNS_SUBDOMAIN),
        file: z.string().regex(CONFIGMAP_KEY),
      }),
    }),
    arguments: z.string().optional(),
    runner: z
      .strictObject({
        image: z.string().min(1).optional(),
        env: z.array(EnvVar).optional(),
      })
      .optional(),
  }),
});

const ConfigMap = z.strictObject({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  metadata: Metadata,
  data: z.record(z.string().regex(CONFIGMAP_KEY, 'a ConfigMap key (letters, digits, -, _, .)'), z.string()),
});

/** Flags the operator adds to every runner's `k6 run` itself. */
const OPERATOR_FLAGS = ['--execution-segment', '--execution-segment-sequence', '--address', '--paused'];

type TestRunDoc = z.infer<typeof TestRun>;
type ConfigMapDoc = z.infer<typeof ConfigMap>;

function zodIssues(prefix: string, error: z.ZodError): ManifestIssue[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].join('.');
    if (i.code === 'unrecognized_keys')
      return {
        path,
        message: `${i.keys.map((k) => `\`${k}\``).join(', ')} is not a field of the ${prefix === 'TestRun' ? `TestRun CRD (k6-operator ${K6_OPERATOR_TARGET})` : 'ConfigMap'} as we emit it; Kubernetes would drop it silently`,
      };
    return { path, message: i.message };
  });
}

export function validateOperatorManifests(text: string): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const docs = parseAllDocuments(text);
  const values: unknown[] = [];
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (doc.errors.length > 0) {
      issues.push({ path: `document ${i + 1}`, message: `not YAML: ${doc.errors[0]?.message ?? ''}` });
      continue;
    }
    values.push(doc.toJS());
  }
  const kind = (v: unknown): unknown =>
    typeof v === 'object' && v !== null ? (v as { kind?: unknown }).kind : undefined;
  const testRuns = values.filter((v) => kind(v) === 'TestRun');
  const configMaps = values.filter((v) => kind(v) === 'ConfigMap');
  const others = values.filter((v) => kind(v) !== 'TestRun' && kind(v) !== 'ConfigMap');
  for (const other of others)
    issues.push({ path: 'document', message: `unexpected resource kind ${JSON.stringify(kind(other))}` });
  if (testRuns.length !== 1)
    issues.push({ path: 'TestRun', message: `expected 1 TestRun, found ${testRuns.length}` });
  if (configMaps.length !== 1)
    issues.push({ path: 'ConfigMap', message: `expected 1 ConfigMap, found ${configMaps.length}` });

  let run: TestRunDoc | undefined;
  let map: ConfigMapDoc | undefined;
  if (testRuns[0] !== undefined) {
    const parsed = TestRun.safeParse(testRuns[0]);
    if (parsed.success) run = parsed.data;
    else issues.push(...zodIssues('TestRun', parsed.error));
  }
  if (configMaps[0] !== undefined) {
    const parsed = ConfigMap.safeParse(configMaps[0]);
    if (parsed.success) map = parsed.data;
    else issues.push(...zodIssues('ConfigMap', parsed.error));
  }
  if (run) issues.push(...testRunSemantics(run));
  if (run && map) issues.push(...scriptReference(run, map));
  return issues;
}

function testRunSemantics(run: TestRunDoc): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const n = run.spec.parallelism;
  const jobName = `${run.metadata.name}-${n}`;
  if (jobName.length > 63 || !DNS_LABEL.test(jobName))
    issues.push({
      path: 'TestRun.metadata.name',
      message: `runner jobs are named \`<name>-<index>\`: \`${jobName}\` must be a DNS-1123 label of at most 63 characters`,
    });
  const argv = (run.spec.arguments ?? '').split(/\s+/).filter(Boolean);
  for (const flag of OPERATOR_FLAGS) {
    if (argv.some((a) => a === flag || a.startsWith(`${flag}=`)))
      issues.push({
        path: 'TestRun.spec.arguments',
        message: `\`${flag}\` is set by k6-operator on every runner (execution segments, REST API, start barrier); remove it`,
      });
  }
  const env = run.spec.runner?.env ?? [];
  const seen = new Set<string>();
  for (const [i, e] of env.entries()) {
    if (seen.has(e.name))
      issues.push({ path: `TestRun.spec.runner.env.${i}.name`, message: `\`${e.name}\` is set twice` });
    seen.add(e.name);
  }
  const configText = env.find((e) => e.name === 'OWUI_CONFIG');
  if (!configText || !('value' in configText)) {
    issues.push({
      path: 'TestRun.spec.runner.env',
      message: 'no OWUI_CONFIG: the scenario has nothing to run',
    });
    return issues;
  }
  let config: {
    chat?: { vus?: number; maxInFlight?: number; ratePerSecond?: number };
    sockets?: { vus?: number };
  };
  try {
    config = JSON.parse(configText.value) as typeof config;
  } catch {
    issues.push({ path: 'TestRun.spec.runner.env.OWUI_CONFIG', message: 'not JSON' });
    return issues;
  }
  // Each runner takes 1/N of every scenario's VUs (execution segments): fewer VUs than runners
  // leaves some runners with none of them.
  const segmentCheck = (what: string, vus: number | undefined, path: string): void => {
    if (vus !== undefined && vus < n)
      issues.push({
        path,
        message: `${what} ${vus} across ${n} runners: each runner runs its 1/${n} execution segment, so ${n - vus} runner(s) would get none; use --parallelism ≤ ${vus}`,
      });
  };
  segmentCheck('chat VUs', config.chat?.vus, 'TestRun.spec.runner.env.OWUI_CONFIG.chat.vus');
  if (config.chat?.ratePerSecond !== undefined)
    segmentCheck(
      'chat max in flight',
      config.chat.maxInFlight,
      'TestRun.spec.runner.env.OWUI_CONFIG.chat.maxInFlight',
    );
  segmentCheck('browser clients', config.sockets?.vus, 'TestRun.spec.runner.env.OWUI_CONFIG.sockets.vus');
  return issues;
}

function scriptReference(run: TestRunDoc, map: ConfigMapDoc): ManifestIssue[] {
  const issues: ManifestIssue[] = [];
  const ref = run.spec.script.configMap;
  if (ref.name !== map.metadata.name)
    issues.push({
      path: 'TestRun.spec.script.configMap.name',
      message: `names ConfigMap \`${ref.name}\`, but the ConfigMap here is \`${map.metadata.name}\``,
    });
  if ((run.metadata.namespace ?? '') !== (map.metadata.namespace ?? ''))
    issues.push({
      path: 'ConfigMap.metadata.namespace',
      message: 'the ConfigMap must be in the TestRun’s namespace (the runner pods mount it from there)',
    });
  if (!(ref.file in map.data))
    issues.push({
      path: 'TestRun.spec.script.configMap.file',
      message: `the ConfigMap has no key \`${ref.file}\` (keys: ${Object.keys(map.data).join(', ') || 'none'})`,
    });
  const bytes = Object.entries(map.data).reduce(
    (sum, [k, v]) => sum + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8'),
    0,
  );
  if (bytes > CONFIGMAP_BYTES)
    issues.push({ path: 'ConfigMap.data', message: `${bytes} bytes, over the 1 MiB a ConfigMap may hold` });
  return issues;
}
