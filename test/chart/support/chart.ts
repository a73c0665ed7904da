// Rendering the chart with the real helm and reading the result as objects.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { run, runChecked } from '../../../scripts/chart-tools/cache.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHART_DIR = path.join(REPO_ROOT, 'charts', 'chat-tenant-operator');

export type Json = Record<string, any>;

export interface RenderOptions {
  release?: string;
  namespace?: string;
  includeCrds?: boolean;
}

/** Writes values to a temporary file and runs helm with `-f` on it (values as YAML, not --set strings). */
async function withValuesFile<T>(values: Json, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cto-chart-values-'));
  try {
    const file = path.join(dir, 'values.yaml');
    await writeFile(file, yaml.dump(values));
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function helmTemplateText(helm: string, values: Json = {}, options: RenderOptions = {}): Promise<string> {
  const { release = 'cto', namespace = 'chat-tenant-operator' } = options;
  return withValuesFile(values, (file) =>
    runChecked(helm, ['template', release, CHART_DIR, '--namespace', namespace, '-f', file, ...(options.includeCrds ? ['--include-crds'] : [])]),
  );
}

export async function helmTemplate(helm: string, values: Json = {}, options: RenderOptions = {}): Promise<Json[]> {
  const text = await helmTemplateText(helm, values, options);
  return yaml.loadAll(text).filter((d): d is Json => d !== null && typeof d === 'object');
}

/** `helm lint --strict` with the given values: exit code and output (for the failure message). */
export async function helmLint(helm: string, values: Json = {}): Promise<{ code: number | null; output: string }> {
  return withValuesFile(values, async (file) => {
    const r = await run(helm, ['lint', '--strict', CHART_DIR, '-f', file]);
    return { code: r.code, output: r.stdout + r.stderr };
  });
}

export function only(objects: Json[], kind: string): Json {
  const found = objects.filter((o) => o['kind'] === kind);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  return found[0]!;
}

/** Values a site with an air-gapped registry and Prometheus Operator would set: every non-default path. */
export const NON_DEFAULT_VALUES: Json = {
  global: { imageRegistry: 'registry.stmary.local:5000/mirror' },
  image: { tag: '0.1.1' },
  replicaCount: 3,
  resyncSeconds: 300,
  settings: {
    encryptedStorageClasses: ['encrypted-ssd', 'encrypted-hdd'],
    kubernetesApiCIDRs: ['10.0.0.10/32', '10.0.0.11/32'],
    kubernetesApiPorts: [6443],
    cloudNativePGNamespace: 'cnpg',
    clusterDomain: 'stmary.local',
    prometheusOperator: true,
  },
  serviceMonitor: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
  prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' }, runbookBaseURL: 'https://wiki.stmary.local/runbooks/' },
  networkPolicy: { enabled: false },
  imagePullSecrets: [{ name: 'mirror-pull' }],
};
