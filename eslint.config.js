import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** SDKs that only adapters (engines, drivers, lab, commands) may import. */
const SDKS = {
  group: [
    'dockerode',
    'ioredis',
    'toxiproxy-node-client',
    'undici',
    'ws',
    'socket.io*',
    '@oclif/*',
    'k6*',
    'prom-client',
  ],
  message: 'core and protocol never import SDKs (DESIGN §2).',
};
const UPPER_LAYERS = [
  '**/app/**',
  '**/engines/**',
  '**/drivers/**',
  '**/lab/**',
  '**/commands/**',
  '**/cli/**',
  '**/infra/**',
];
const layersAbove = (folder) => ({
  group: UPPER_LAYERS,
  message: `${folder} sits at the bottom of the import graph (DESIGN §2).`,
});
/** Adapters beside each other: none may reach into another's internals (DESIGN §2). */
const ADAPTERS = {
  drivers: ['**/lab/**', '**/app/**', '**/engines/**', '**/commands/**', '**/cli/**'],
  lab: ['**/drivers/**', '**/app/**', '**/engines/**', '**/commands/**', '**/cli/**'],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.owui-chaos/**', 'runs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.mjs', 'bin/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Import boundaries (DESIGN §2). Flat config does not merge rule options: a later block's
  // `no-restricted-imports` replaces an earlier one's for the same files, so each folder gets ONE
  // block with the complete list of its bans (test/unit/lint/import-boundaries.test.ts proves it).
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': ['error', { patterns: [SDKS, layersAbove('core')] }],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            SDKS,
            { group: ['node:*'], message: 'protocol is portable: no Node APIs (DESIGN §2).' },
            {
              group: ['**/core/**', ...UPPER_LAYERS],
              message: 'protocol imports nothing of ours: it is shared by both engines (DESIGN §2).',
            },
          ],
        },
      ],
    },
  },
  {
    // What drivers and the lab share (process helpers, the lab state file, the nginx buffering
    // block) sits below both, so it imports neither.
    files: ['src/infra/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: UPPER_LAYERS.filter((g) => g !== '**/infra/**'),
              message: 'infra is shared by drivers and the lab: it imports neither (DESIGN §2).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/drivers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ADAPTERS.drivers,
              message:
                'drivers import core, protocol and infra only: what they share with the lab lives in src/infra (DESIGN §2).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/lab/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ADAPTERS.lab,
              message: 'the lab imports core, protocol and infra only (DESIGN §2).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/engines/measure/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'k6*', 'undici', 'ws', 'dockerode', 'ioredis', 'toxiproxy-node-client'],
              message: 'engines/measure is bundled into k6 scenarios: no Node, k6 or SDK APIs.',
            },
          ],
        },
      ],
    },
  },
);
