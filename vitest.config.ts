import { defineConfig } from 'vitest/config';

// The kinds of tests, as the design lays out. Each project's global setup builds or installs what it
// needs (Go-built binaries cached outside the repo, Debian packages), so `npm test` works on a fresh
// machine and starts in seconds on a warm one.
//  unit         pure code (schema, renderers, CRD, queue, drift, backup format, safeguards); no processes
//  analyzer     network policies proven with an independent analyzer (np-guard, built from Go)
//  chart        helm lint/template, alert rules with promtool
//  integration  a real control plane (etcd, kube-apiserver, controllers, kwok) started once per run:
//               the operator, admission, the chart applied to it
//  workload     real ejabberd and PostgreSQL from Debian (and an S3 server built from Go), real clients
//  node         a control plane with ONE real node (containerd, kubelet, CNI, kube-proxy, CoreDNS,
//               kube-router, local-path): Pods really run; teardown proves the host is left as it was
export default defineConfig({
  test: {
    // Two cores and real servers: one test file at a time keeps timings honest and runs stable.
    maxWorkers: 1,
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
          name: 'analyzer',
          include: ['test/analyzer/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/analyzer/global-setup.ts'],
          hookTimeout: 1_200_000,
          testTimeout: 60_000,
        },
      },
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
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/chart/**/*.cluster.test.ts'],
          environment: 'node',
          globalSetup: ['test/chart/global-setup.ts', 'test/harness/global-setup.ts'],
          // Real controllers at real speed: a CronJob fires on the next minute boundary.
          testTimeout: 240_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'workload',
          include: ['test/workload/**/*.test.ts'],
          environment: 'node',
          // Installs PostgreSQL and ejabberd (a few minutes on a fresh machine, once).
          globalSetup: ['test/workload/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/node/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
