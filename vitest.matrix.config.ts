import { defineConfig } from 'vitest/config';

// `npm run test:matrix`: the full sensitivity matrix (test/matrix), one real lab per row, one row
// at a time. Not part of `npm test` (too slow); its fast subset is test/integration/app/sensitivity-fast.test.ts.
export default defineConfig({
  test: {
    include: ['test/matrix/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 400_000,
    hookTimeout: 120_000,
  },
});
