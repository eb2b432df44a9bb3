import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Bounds, not speed checks: generous, so that a loaded machine (two copies of the suite at
    // once) slows tests down without failing them. Tests wait on conditions, never on sleeps.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // 2 cores: a couple of forks keeps child-process-heavy tests from starving each other.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
