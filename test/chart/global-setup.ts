/**
 * Vitest global setup of the chart tests: builds helm and fetches promtool into the cache once (later runs
 * find them there) and hands their paths to the test files. Only here and in scripts/ is the environment read.
 *
 * Environment: HELM_BINARY / PROMTOOL_BINARY use those binaries; GO_BINARY picks `go`;
 * CHAT_TENANT_OPERATOR_CACHE_DIR or XDG_CACHE_HOME pick the cache.
 */
import type { TestProject } from 'vitest/node';
import { ensureHelm } from '../../scripts/chart-tools/helm.js';
import { ensurePromtool } from '../../scripts/chart-tools/promtool.js';
import './provided-context.js';

export default async function setup(project: TestProject): Promise<void> {
  const log = (line: string): void => console.log(`[chart tools] ${line}`);
  const [helm, promtool] = await Promise.all([ensureHelm(process.env, log), ensurePromtool(process.env, log)]);
  project.provide('helmBinary', helm);
  project.provide('promtoolBinary', promtool);
}
