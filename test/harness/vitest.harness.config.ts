/**
 * Runs only the control plane harness tests: `npx vitest run -c test/harness/vitest.harness.config.ts`.
 * The repository's vitest.config.ts wires the same settings into its `integration` project.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    projects: [
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/harness/global-setup.ts"],
          // Real controllers at real speed: a CronJob fires on the next minute boundary.
          testTimeout: 150_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
