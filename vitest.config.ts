import { defineConfig } from 'vitest/config';

// Three kinds of tests, as the design lays out:
//  unit        pure code (schema, renderers, CRD generation); no processes
//  integration a real control plane (etcd, kube-apiserver, controllers, kwok) started once per run
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
    ],
  },
});
