import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chatTenantCrd } from '../api/crd.js';
import { defaultSettings, validateChatTenant, type ChatTenant, type SpecProblem } from '../api/index.js';
import { placeholderMaterial, renderTenant } from '../render/index.js';
import { readYamlDocuments } from './load.js';
import { toYaml, toYamlDocuments } from './output.js';

// The offline commands: no cluster needed. Each returns an exit code and writes through the given
// streams, so tests call them directly.

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

export const CRD_FILE = 'chattenants.chat.tenant-operator.dev.yaml';

export function crdYaml(): string {
  return '# Generated from src/api by `npm run crd`. Do not edit by hand.\n' + toYaml(chatTenantCrd());
}

export async function crdCommand(io: Io, outDir?: string): Promise<number> {
  const text = crdYaml();
  if (outDir) {
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, CRD_FILE), text);
    io.err(`wrote ${join(outDir, CRD_FILE)}\n`);
  } else io.out(text);
  return 0;
}

function formatProblems(source: string, index: number, count: number, problems: SpecProblem[]): string {
  const where = count > 1 ? `${source} (document ${index + 1})` : source;
  return problems.map((p) => `${where}: ${p.path || '(root)'}: ${p.message}\n`).join('');
}

async function loadTenants(file: string, io: Io): Promise<ChatTenant[] | undefined> {
  const docs = await readYamlDocuments(file);
  if (docs.length === 0) {
    io.err(`${file}: no YAML documents\n`);
    return undefined;
  }
  const tenants: ChatTenant[] = [];
  let failed = false;
  docs.forEach((doc, i) => {
    const result = validateChatTenant(doc);
    if (result.ok) tenants.push(result.tenant);
    else {
      failed = true;
      io.err(formatProblems(file, i, docs.length, result.problems));
    }
  });
  return failed ? undefined : tenants;
}

export async function validateCommand(io: Io, file: string): Promise<number> {
  const tenants = await loadTenants(file, io);
  if (!tenants) return 1;
  for (const t of tenants) io.out(`${t.metadata.name}: valid\n`);
  return 0;
}

/**
 * Prints every object the operator would apply for the tenant(s). Outside a cluster the tenant has
 * no uid and no secret material, so the owner uid and secret values are placeholders.
 */
export async function renderCommand(io: Io, file: string): Promise<number> {
  const tenants = await loadTenants(file, io);
  if (!tenants) return 1;
  const settings = defaultSettings();
  const objects = tenants.flatMap((t) => {
    const tenant = { ...t, metadata: { ...t.metadata, uid: t.metadata.uid ?? '00000000-0000-0000-0000-000000000000' } };
    return renderTenant({ tenant, material: placeholderMaterial(tenant), settings, capabilities: { cloudNativePG: true, certManager: true, prometheusOperator: false } });
  });
  io.out(toYamlDocuments(objects));
  return 0;
}
