import { defineConfig } from 'vitest/config';

// SAMEBATCH_TEST_REPORT=FILE adds a JSON report (used by .ci/run for its closing count line).
const report = process.env.SAMEBATCH_TEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    ...(report ? { reporters: ['default', 'json'], outputFile: { json: report } } : {}),
  },
});
