// The ServiceMonitor and PrometheusRule CRDs, exactly as the Prometheus Operator release ships them, read
// from its Go module (fetched through the Go module proxy and verified against the checksum database).
// The chart's cluster test installs them so the API server validates our objects against the real schemas.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runChecked } from './cache.js';
import { findGo } from './helm.js';

export const PROMETHEUS_OPERATOR_MODULE = 'github.com/prometheus-operator/prometheus-operator';
export const PROMETHEUS_OPERATOR_VERSION = 'v0.85.0';
const CRD_DIR = 'example/prometheus-operator-crd';
export const PROMETHEUS_OPERATOR_CRD_FILES = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'] as const;

/** YAML text of each CRD file, by file name. Uses the Go module cache; downloads once. */
export async function prometheusOperatorCrds(env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const go = await findGo(env);
  const json = await runChecked(go, ['mod', 'download', '-json', `${PROMETHEUS_OPERATOR_MODULE}@${PROMETHEUS_OPERATOR_VERSION}`], { env, cwd: '/' });
  const dir = (JSON.parse(json) as { Dir?: string; Error?: string }).Dir;
  if (!dir) throw new Error(`go mod download gave no directory for ${PROMETHEUS_OPERATOR_MODULE}@${PROMETHEUS_OPERATOR_VERSION}: ${json}`);
  const out: Record<string, string> = {};
  for (const file of PROMETHEUS_OPERATOR_CRD_FILES) out[file] = await readFile(path.join(dir, CRD_DIR, file), 'utf8');
  return out;
}
