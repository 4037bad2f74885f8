// Our schema of the k6-operator resources (src/engines/k6/operator-schema.ts): what `k6 export
// --operator` writes passes it, and each mistake Kubernetes would accept silently or the operator
// would run wrongly is caught — a misspelt or misplaced field, a parallelism that is not a
// positive integer, more runners than VUs (empty execution segments), flags the operator sets
// itself, a script reference that points nowhere.

import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { operatorManifests } from '../../../../src/engines/k6/operator.js';
import { validateOperatorManifests } from '../../../../src/engines/k6/operator-schema.js';
import { scenarioConfigFromPlan } from '../../../../src/engines/k6/plan.js';

const config = scenarioConfigFromPlan(
  {
    durationMs: 60_000,
    baseUrl: 'http://owui.chat.svc:8080',
    model: 'm1',
    chat: { vus: 8, tokens: 100 },
    sockets: { vus: 4, tokens: 100 },
  },
  { version: '0.12.4' },
);
const good = operatorManifests({
  name: 'load-1',
  namespace: 'chaos',
  scenario: 'mixed',
  bundleText: 'export default function () {}\n',
  config,
  parallelism: 4,
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the documents are edited field by field
type Doc = Record<string, any>;
const docs = (): Doc[] => parseAllDocuments(good).map((d) => d.toJS() as Doc);
const edited = (edit: (configMap: Doc, testRun: Doc) => void): string => {
  const [configMap, testRun] = docs() as [Doc, Doc];
  edit(configMap, testRun);
  return `${stringify(configMap)}---\n${stringify(testRun)}`;
};
const paths = (text: string): string[] =>
  validateOperatorManifests(text).map((i) => `${i.path}: ${i.message}`);

describe('validateOperatorManifests', () => {
  it('what k6 export --operator writes is valid (healthy control)', () => {
    expect(validateOperatorManifests(good)).toEqual([]);
  });

  it('a misspelt or misplaced field is caught (Kubernetes would prune it silently)', () => {
    const typo = edited((_, run) => {
      run.spec.paralellism = run.spec.parallelism;
      delete run.spec.parallelism;
    });
    expect(paths(typo)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^TestRun\.spec: `paralellism` is not a field of the TestRun CRD.*drop it silently/,
        ),
        expect.stringMatching(/^TestRun\.spec\.parallelism: /),
      ]),
    );
    const misplaced = edited((_, run) => {
      run.spec.image = 'grafana/k6:latest';
    });
    expect(paths(misplaced)).toEqual([expect.stringMatching(/^TestRun\.spec: `image` is not a field/)]);
    const envTypo = edited((_, run) => {
      run.spec.runner.env[0] = { name: 'OWUI_CONFIG', valeu: '{}' };
    });
    expect(paths(envTypo).join('\n')).toMatch(/TestRun\.spec\.runner\.env\.0/);
  });

  it('a parallelism that is not a positive integer is caught', () => {
    for (const p of [0, -1, 1.5, '4', 2 ** 31]) {
      const text = edited((_, run) => {
        run.spec.parallelism = p;
      });
      expect(paths(text).join('\n'), String(p)).toMatch(/^TestRun\.spec\.parallelism: /m);
    }
  });

  it('more runners than VUs of a client kind (empty execution segments) is caught, and refused at export', () => {
    const text = edited((_, run) => {
      run.spec.parallelism = 6;
    });
    expect(paths(text)).toEqual([
      expect.stringMatching(
        /^TestRun\.spec\.runner\.env\.OWUI_CONFIG\.sockets\.vus: browser clients 4 across 6 runners.*2 runner\(s\) would get none/,
      ),
    ]);
    expect(() =>
      operatorManifests({
        name: 'load-1',
        scenario: 'mixed',
        bundleText: 'export default function () {}\n',
        config,
        parallelism: 6,
      }),
    ).toThrow(expect.objectContaining({ code: 'K6_OPERATOR_INVALID', exitCode: 2 }));
  });

  it('execution-segment flags (the operator sets them per runner) are caught', () => {
    const text = edited((_, run) => {
      run.spec.arguments += ' --execution-segment=0:1/4 --execution-segment-sequence=0,1/4,1/2,3/4,1';
    });
    expect(paths(text)).toEqual([
      expect.stringMatching(/`--execution-segment` is set by k6-operator/),
      expect.stringMatching(/`--execution-segment-sequence` is set by k6-operator/),
    ]);
  });

  it('a script reference that points nowhere is caught', () => {
    const wrongName = edited((_, run) => {
      run.spec.script.configMap.name = 'load-2';
    });
    expect(paths(wrongName)).toEqual([
      expect.stringMatching(/names ConfigMap `load-2`, but the ConfigMap here is `load-1`/),
    ]);
    const wrongFile = edited((_, run) => {
      run.spec.script.configMap.file = 'chat-sse.js';
    });
    expect(paths(wrongFile)).toEqual([expect.stringMatching(/has no key `chat-sse.js` \(keys: mixed.js\)/)]);
    const otherNamespace = edited((map) => {
      map.metadata.namespace = 'default';
    });
    expect(paths(otherNamespace)).toEqual([expect.stringMatching(/^ConfigMap\.metadata\.namespace/)]);
  });

  it('a name the runner jobs cannot carry is caught', () => {
    const long = edited((map, run) => {
      map.metadata.name = run.metadata.name = 'x'.repeat(62);
      run.spec.script.configMap.name = 'x'.repeat(62);
    });
    expect(paths(long)).toEqual([expect.stringMatching(/runner jobs are named `<name>-<index>`/)]);
    const upper = edited((_, run) => {
      run.metadata.name = 'Load_1';
    });
    expect(paths(upper).join('\n')).toMatch(/TestRun\.metadata\.name/);
  });
});
