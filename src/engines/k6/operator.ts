// k6-operator resources for a distributed run (DESIGN §8): a ConfigMap holding the bundle and a
// `TestRun` (k6.io/v1alpha1) that runs it on `parallelism` runner pods, each taking its execution
// segment of the VUs/arrival rate.
//
// Contract: the YAML carries no secret. Tokens and sign-in users come from a Secret the user
// creates (`secretName`, keys `api-tokens`, `user-tokens`, `signin`; all optional) through
// `secretKeyRef`. Runners write their samples as JSON lines to stdout (`--out json=/dev/stdout`,
// logs as JSON too, so every line parses); collect them with
// `kubectl logs -l k6_cr=<name> --tail=-1 > samples-<i>.json` and merge with the reports'
// `--samples`. A bundle over the ConfigMap limit (1 MiB) is refused, and so is output that does
// not pass our schema of the operator's TestRun CRD (operator-schema.ts), e.g. more runners than
// VUs of a client kind.

import { stringify } from 'yaml';
import { UsageError } from '../../core/errors.js';
import type { ScenarioName } from './bundle.js';
import { K6_OPERATOR_TARGET, validateOperatorManifests } from './operator-schema.js';
import type { ScenarioConfig } from './scenario-config.js';

/** Kubernetes rejects ConfigMaps above 1 MiB (etcd object limit); keep room for metadata. */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024 - 16 * 1024;

export interface OperatorExportOptions {
  name: string;
  namespace?: string;
  scenario: ScenarioName;
  bundleText: string;
  config: ScenarioConfig;
  parallelism: number;
  /** Runner image; an xk6 build with xk6-sse when `config.sse` is `xk6`. */
  image?: string;
  secretName?: string;
}

export function operatorManifests(o: OperatorExportOptions): string {
  if (!Number.isInteger(o.parallelism) || o.parallelism < 1) {
    throw new UsageError(`--parallelism must be an integer ≥ 1, got ${o.parallelism}`, { code: 'USAGE' });
  }
  const bytes = Buffer.byteLength(o.bundleText, 'utf8');
  if (bytes > CONFIGMAP_LIMIT_BYTES) {
    throw new UsageError(
      `The ${o.scenario} bundle is ${bytes} bytes, over the ConfigMap limit of ${CONFIGMAP_LIMIT_BYTES}`,
      {
        code: 'K6_BUNDLE_TOO_LARGE',
        suggestions: ['Ship the bundle in a custom runner image or a volume instead of a ConfigMap'],
      },
    );
  }
  const file = `${o.scenario}.js`;
  const secret = o.secretName ?? `${o.name}-credentials`;
  const metadata = (name: string): Record<string, unknown> => ({
    name,
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    labels: { 'app.kubernetes.io/managed-by': 'owui-chaos', 'app.kubernetes.io/name': o.name },
  });
  const fromSecret = (env: string, key: string): Record<string, unknown> => ({
    name: env,
    valueFrom: { secretKeyRef: { name: secret, key, optional: true } },
  });
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(o.name),
    data: { [file]: o.bundleText },
  };
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: metadata(o.name),
    spec: {
      parallelism: o.parallelism,
      script: { configMap: { name: o.name, file } },
      arguments: '--no-color --quiet --no-summary --log-format json --out json=/dev/stdout',
      runner: {
        image: o.image ?? 'grafana/k6:latest',
        env: [
          { name: 'OWUI_CONFIG', value: JSON.stringify(o.config) },
          { name: 'K6_NO_USAGE_REPORT', value: 'true' },
          fromSecret('OWUI_API_TOKENS', 'api-tokens'),
          fromSecret('OWUI_USER_TOKENS', 'user-tokens'),
          fromSecret('OWUI_SIGNIN', 'signin'),
        ],
      },
    },
  };
  const header = [
    `# owui-chaos k6-operator export: ${o.scenario} on ${o.parallelism} runner(s) against ${o.config.baseUrl}.`,
    `# Credentials (none are in this file): kubectl create secret generic ${secret} \\`,
    `#   --from-literal=api-tokens='sk-…,sk-…' --from-literal=signin='[{"email":"…","password":"…"}]'`,
    `# Samples: kubectl logs -l k6_cr=${o.name} --tail=-1 --prefix=false > samples.json`,
  ].join('\n');
  const text = `${header}\n${stringify(configMap, { lineWidth: 0 })}---\n${stringify(testRun, { lineWidth: 0 })}`;
  // Checked against our schema of the operator's CRD before anyone applies it (operator-schema.ts).
  const issues = validateOperatorManifests(text);
  if (issues.length > 0) {
    throw new UsageError(
      `The k6-operator resources would not run as intended (k6-operator ${K6_OPERATOR_TARGET}): ${issues
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
      {
        code: 'K6_OPERATOR_INVALID',
        suggestions: ['owui-chaos k6 export --operator --parallelism <N ≤ the VUs of each client kind>'],
      },
    );
  }
  return text;
}
