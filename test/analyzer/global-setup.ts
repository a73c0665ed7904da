/**
 * Vitest global setup for the `analyzer` project: builds (first run, a few minutes) or finds the
 * independent NetworkPolicy analyzer and hands its path to the test files. No cluster is involved.
 */
import type { TestProject } from 'vitest/node';
import { ensureNetpolAnalyzer } from '../../scripts/netpol-analyzer.js';
import './provided-context.js';

export default async function setup(project: TestProject): Promise<void> {
  const binary = await ensureNetpolAnalyzer({ env: process.env, log: (line) => console.log(`[netpol-analyzer] ${line}`) });
  project.provide('netpolAnalyzer', binary);
}
