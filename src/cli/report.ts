import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ChatTenantStatus, defaultSettings, validateChatTenant, type ChatTenant } from '../api/index.js';
import { BackupManifest } from '../backup/manifest.js';
import { placeholderMaterial, renderTenant } from '../render/index.js';
import { backupRecordFromManifest, renderEvidenceReport, type BackupRecord, type CertificateRecord } from '../report/index.js';
import type { Io } from './commands.js';
import { readYamlDocuments } from './load.js';

// `report`: the auditors' evidence report of a tenant, offline. The configuration comes from
// rendering the ChatTenant in the file (with placeholder secrets, which the report never shows);
// status (safeguards, certificate expiry, last backup) comes from the file when it carries one,
// e.g. `kubectl get chattenant NAME -o yaml`; backup history from the manifests in --backups.

export const REPORT_SUMMARY =
  'report -f FILE [--backups DIR|FILE] [--now TIME] [--out FILE]   Markdown evidence of the HIPAA safeguards of the ChatTenant(s) in FILE; status from the file when present';

const PLACEHOLDER_UID = '00000000-0000-0000-0000-000000000000';

/** Manifests from a directory (*.manifest.json) or a file (one manifest or a JSON list of them). */
async function readManifests(source: string): Promise<BackupManifest[]> {
  const files = (await stat(source)).isDirectory()
    ? (await readdir(source)).filter((f) => f.endsWith('.manifest.json')).sort().map((f) => path.join(source, f))
    : [source];
  const manifests: BackupManifest[] = [];
  for (const file of files) {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    for (const [i, item] of (Array.isArray(parsed) ? parsed : [parsed]).entries()) {
      const result = BackupManifest.safeParse(item);
      if (!result.success) throw new Error(`${file}${Array.isArray(parsed) ? ` (entry ${i + 1})` : ''}: not a backup manifest: ${result.error.issues[0]?.message ?? 'invalid'}`);
      manifests.push(result.data);
    }
  }
  return manifests;
}

function certificatesFromStatus(tenant: ChatTenant): CertificateRecord[] {
  const c = tenant.status?.certificates;
  if (!c) return [];
  return [
    ...(c.caNotAfter ? [{ name: 'ca', notAfter: c.caNotAfter }] : []),
    ...(c.messagingNotAfter ? [{ name: 'messaging', notAfter: c.messagingNotAfter }] : []),
    ...(c.databaseNotAfter ? [{ name: 'database', notAfter: c.databaseNotAfter }] : []),
  ];
}

/** Without manifests, the last backup the status knows of is the history the report can show. */
function backupsFromStatus(tenant: ChatTenant): BackupRecord[] {
  const b = tenant.status?.backup;
  const at = b?.lastScheduleTime ?? b?.lastSuccessfulTime;
  if (!b || !at || b.lastResult === undefined || b.lastResult === 'None' || b.lastResult === 'Running') return [];
  return [{ id: b.lastJobName ?? 'last backup job', createdAt: at, succeeded: b.lastResult === 'Succeeded' }];
}

export async function reportCommand(io: Io, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: 'string', short: 'f' }, backups: { type: 'string' }, now: { type: 'string' }, out: { type: 'string' } }, strict: true });
  if (!values.file) {
    io.err('report: -f FILE is required\n');
    return 2;
  }
  const generatedAt = values.now ?? new Date().toISOString();
  if (Number.isNaN(Date.parse(generatedAt))) {
    io.err(`report: --now "${generatedAt}" is not a time (RFC 3339, e.g. 2026-11-23T12:00:00Z)\n`);
    return 2;
  }
  const documents = await readYamlDocuments(values.file);
  if (documents.length === 0) {
    io.err(`${values.file}: no YAML documents\n`);
    return 1;
  }
  const manifests = values.backups ? await readManifests(values.backups) : undefined;
  const settings = defaultSettings();
  const reports: string[] = [];
  for (const [i, document] of documents.entries()) {
    const result = validateChatTenant(document);
    const where = documents.length > 1 ? `${values.file} (document ${i + 1})` : values.file;
    if (!result.ok) {
      for (const p of result.problems) io.err(`${where}: ${p.path || '(root)'}: ${p.message}\n`);
      return 1;
    }
    let tenant = result.tenant;
    let statusSource: string | undefined;
    if (tenant.status !== undefined) {
      const status = ChatTenantStatus.safeParse(tenant.status);
      if (status.success) statusSource = `the file ${values.file}`;
      else {
        io.err(`${where}: status is not a ChatTenant status (${status.error.issues[0]?.message ?? 'invalid'}); reporting configuration only\n`);
        const { status: _ignored, ...withoutStatus } = tenant;
        tenant = withoutStatus;
      }
    }
    const forRender = { ...tenant, metadata: { ...tenant.metadata, uid: tenant.metadata.uid ?? PLACEHOLDER_UID } };
    const objects = renderTenant({ tenant: forRender, material: placeholderMaterial(forRender), settings, capabilities: { cloudNativePG: true, certManager: true, prometheusOperator: false } });
    const backups = manifests ? manifests.filter((m) => m.tenant === tenant.metadata.name).map((m) => backupRecordFromManifest(m)) : backupsFromStatus(tenant);
    reports.push(renderEvidenceReport({ tenant, objects, backups, certificates: certificatesFromStatus(tenant), generatedAt, ...(statusSource ? { statusSource } : {}) }));
  }
  const markdown = reports.join('\n---\n\n');
  if (values.out) {
    await writeFile(values.out, markdown);
    io.err(`wrote ${values.out}\n`);
  } else io.out(markdown);
  return 0;
}
