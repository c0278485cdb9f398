import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/bounded-runs.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One test file per core. Vitest's default leaves a core to its main
    // thread (cores - 1), which on a 2-core CI machine runs the files one at
    // a time; the main thread only collects results, and the files are
    // CPU-bound simulations, so both cores run files.
    maxWorkers: availableParallelism(),
  },
});
