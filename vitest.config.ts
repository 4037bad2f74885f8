import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure and fast; `integration` starts real nginx, redis-server,
// redis-sentinel, lab processes and Docker containers, so it runs files one at a time
// (they bind ports and spawn processes) with generous timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
