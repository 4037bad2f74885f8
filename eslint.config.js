import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
      // core and protocol must stay free of SDKs and printing (DESIGN §2 import direction).
      'no-console': 'off',
    },
  },
  {
    files: ['src/core/**/*.ts', 'src/protocol/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'dockerode',
                'ioredis',
                'toxiproxy-node-client',
                'undici',
                'ws',
                'socket.io*',
                '@oclif/*',
                'k6*',
              ],
              message: 'core/protocol never import SDKs (DESIGN §2).',
            },
            {
              group: ['**/engines/**', '**/drivers/**', '**/lab/**', '**/commands/**', '**/cli/**'],
              message: 'core/protocol sit at the bottom of the import graph.',
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
              group: ['node:*', 'k6*', 'undici', 'ws'],
              message: 'engines/measure is bundled into k6 scenarios: no Node or k6 APIs.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', '**/core/**', '**/engines/**', '**/drivers/**', '**/lab/**'],
              message: 'protocol is portable: no Node APIs, imports nothing of ours (DESIGN §2).',
            },
          ],
        },
      ],
    },
  },
);
