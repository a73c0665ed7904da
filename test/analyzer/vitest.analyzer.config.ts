/**
 * Runs the network isolation proof: `npx vitest run -c test/analyzer/vitest.analyzer.config.ts`.
 * The repository's vitest.config.ts is meant to carry the same project as `analyzer`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    projects: [
      {
        test: {
          name: 'analyzer',
          include: ['test/analyzer/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/analyzer/global-setup.ts'],
          // The first run builds the analyzer from source (minutes on two cores); later runs find it cached.
          hookTimeout: 1_200_000,
          testTimeout: 60_000,
        },
      },
    ],
  },
});
