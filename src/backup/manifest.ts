import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { BackupKey } from './crypto.js';
import { ALGORITHM_NAME, FORMAT_VERSION } from './format.js';

// The manifest written next to each encrypted backup: what it is, checksums of the ciphertext and
// the plaintext, and the row count of every table at the dump's snapshot (what `verify` checks a
// restore against). It is written last, so a backup without a manifest is an unfinished one, and it
// carries an HMAC under a key derived from the tenant key, so it cannot be edited to match a
// tampered file.

export const MANIFEST_SUFFIX = '.manifest.json';
export const DATA_SUFFIX = '.dump.enc';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const TableRowCount = z.object({ schema: z.string(), table: z.string(), rows: z.number().int().min(0) }).strict();
export type TableRowCount = z.infer<typeof TableRowCount>;

export const BackupManifest = z
  .object({
    formatVersion: z.literal(FORMAT_VERSION),
    backupId: z.string().min(1),
    tenant: z.string().min(1),
    /** When the dump's snapshot was taken (RFC 3339). */
    createdAt: z.iso.datetime(),
    /** When the upload finished. */
    completedAt: z.iso.datetime(),
    database: z.string(),
    serverVersion: z.string(),
    pgDumpVersion: z.string(),
    dumpFormat: z.literal('custom'),
    encryption: z.object({ algorithm: z.literal(ALGORITHM_NAME), chunkSize: z.number().int().positive(), keyId: z.string().regex(/^[0-9a-f]{16}$/) }).strict(),
    ciphertext: z.object({ object: z.string(), sha256: Sha256, bytes: z.number().int().min(0) }).strict(),
    plaintext: z.object({ sha256: Sha256, bytes: z.number().int().min(0) }).strict(),
    tables: z.array(TableRowCount),
    /** HMAC-SHA-256 of every other field (canonical JSON), hex. */
    mac: Sha256,
  })
  .strict();
export type BackupManifest = z.infer<typeof BackupManifest>;
export type UnsignedManifest = Omit<BackupManifest, 'mac'>;

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

/** JSON with object keys sorted at every level, so the MAC does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function mac(key: BackupKey, manifest: UnsignedManifest): string {
  return createHmac('sha256', key.manifestKey()).update(canonicalJson(manifest)).digest('hex');
}

export function signManifest(key: BackupKey, manifest: UnsignedManifest): BackupManifest {
  return { ...manifest, mac: mac(key, manifest) };
}

export function serializeManifest(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Parses a manifest without checking its MAC (listing and retention need no key). */
export function parseManifest(text: string, source: string): BackupManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`${source}: not JSON (${(error as Error).message})`);
  }
  const result = BackupManifest.safeParse(json);
  if (!result.success) throw new ManifestError(`${source}: not a backup manifest: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return result.data;
}

/** Checks the manifest's MAC under `key`; a wrong key and an edited manifest are told apart by key id. */
export function verifyManifest(key: BackupKey, manifest: BackupManifest): void {
  const keyId = key.id.toString('hex');
  if (manifest.encryption.keyId !== keyId) {
    throw new ManifestError(`wrong key: backup ${manifest.backupId} was encrypted with key ${manifest.encryption.keyId}, the key given has id ${keyId}`);
  }
  const { mac: stored, ...unsigned } = manifest;
  const expected = Buffer.from(mac(key, unsigned), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(stored, 'hex'))) throw new ManifestError(`the manifest of backup ${manifest.backupId} was modified (its MAC does not verify)`);
}

export function manifestObjectName(backupId: string): string {
  return `${backupId}${MANIFEST_SUFFIX}`;
}

export function dataObjectName(backupId: string): string {
  return `${backupId}${DATA_SUFFIX}`;
}

/** `<tenant>-<UTC timestamp>`: sorts by time, and is a valid file name and object key. */
export function backupIdFor(tenant: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${tenant}-${stamp}`;
}

/**
 * Whether `backupId` has the form backupIdFor gives `tenant`'s backups. Tenant names are lower case
 * and the stamp's T and Z are not, so one tenant's ids never take the form of another's ("clinic"
 * and "clinic-a" included).
 */
export function isBackupIdOf(backupId: string, tenant: string): boolean {
  return backupId.startsWith(`${tenant}-`) && /^\d{8}T\d{6}Z$/.test(backupId.slice(tenant.length + 1));
}
