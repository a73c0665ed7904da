/**
 * The chart tests, runnable on their own: `npx vitest run -c test/chart/vitest.config.ts`.
 *   chart          helm lint/template assertions, alert rules (promtool), metric names, e2e script checks
 *   chart-cluster  the rendered chart on the real local control plane (test/harness): server-side dry run,
 *                  a real `helm install`, RBAC checked by the API server's own authorizer
 * The repository's vitest.config.ts should carry the same two projects.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    projects: [
      {
        test: {
          name: 'chart',
          include: ['test/chart/**/*.test.ts'],
          exclude: ['test/chart/**/*.cluster.test.ts'],
          environment: 'node',
          globalSetup: ['test/chart/global-setup.ts'],
          // promtool runs 26-hour alert windows minute by minute.
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'chart-cluster',
          include: ['test/chart/**/*.cluster.test.ts'],
          environment: 'node',
          globalSetup: ['test/chart/global-setup.ts', 'test/harness/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
