import { defineConfig } from 'vitest/config';

// The doctor's proof table (docs/doctor.md): one lab per misconfiguration, ~1 min each, so it is
// not part of `npm test`; `npm run test:doctor-matrix` runs it.
export default defineConfig({
  test: {
    name: 'doctor-matrix',
    include: ['test/matrix/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 180_000,
  },
});
