import { defineConfig } from 'vitest/config';

// Three kinds of tests, as the design lays out:
//  unit        pure code (schema, renderers, CRD generation, queue, drift); no processes
//  integration a real control plane (etcd, kube-apiserver, controllers, kwok) started once per run
//  analyzer    network policies proven with an independent analyzer (np-guard), no cluster
//  workload    real ejabberd and PostgreSQL from Debian, driven by real clients
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
          globalSetup: ['test/harness/global-setup.ts'],
          // Real controllers at real speed: a CronJob fires on the next minute boundary.
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // One control plane on two cores: files run one after another.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'analyzer',
          include: ['test/analyzer/**/*.test.ts'],
          environment: 'node',
          // Builds the np-guard NetworkPolicy analyzer from its Go module once (cached).
          globalSetup: ['test/analyzer/global-setup.ts'],
          hookTimeout: 1_200_000,
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'workload',
          include: ['test/workload/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
