import type { BackupManifest } from '../backup/manifest.js';
import type { BackupRecord } from './evidence.js';

// Backup history for the report from the manifests the backup runner writes next to each backup.
// A manifest exists only for a finished upload, so each one is a backup that succeeded.

export function backupRecordFromManifest(manifest: BackupManifest, verified?: boolean): BackupRecord {
  return {
    id: manifest.backupId,
    createdAt: manifest.createdAt,
    completedAt: manifest.completedAt,
    succeeded: true,
    bytes: manifest.ciphertext.bytes,
    ciphertextSha256: manifest.ciphertext.sha256,
    tables: manifest.tables.length,
    rows: manifest.tables.reduce((n, t) => n + t.rows, 0),
    ...(verified !== undefined ? { verified } : {}),
  };
}
