import { readBackupHeader } from './catalog.js';
import type { BackupKey } from './crypto.js';
import { DATA_SUFFIX, ManifestError, isBackupIdOf, verifyManifest, type BackupManifest } from './manifest.js';
import type { BackupStore } from './targets/store.js';

// A store may hold more than one tenant's backups: an older deployment pointed two tenants at one
// S3 prefix, or someone copied backups across. Retention deletes, so it counts and deletes only what
// is provably this tenant's: a manifest that names this tenant and whose MAC verifies under this
// tenant's key (the MAC covers the tenant field, so a verified manifest cannot be relabelled).
// Everything else is neither counted nor deleted, and the runner says so in its log.

export interface BackupOwner {
  tenant: string;
  key: BackupKey;
}

export interface ForeignBackup {
  backupId: string;
  /** Why it is not this tenant's, for the log. */
  why: string;
}

/** Splits finished backups into this tenant's (order kept) and the rest. */
export function partitionByOwner(backups: readonly BackupManifest[], owner: BackupOwner): { own: BackupManifest[]; foreign: ForeignBackup[] } {
  const own: BackupManifest[] = [];
  const foreign: ForeignBackup[] = [];
  for (const manifest of backups) {
    if (manifest.tenant !== owner.tenant) {
      foreign.push({ backupId: manifest.backupId, why: `it belongs to tenant "${manifest.tenant}"` });
      continue;
    }
    try {
      verifyManifest(owner.key, manifest);
      own.push(manifest);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      foreign.push({ backupId: manifest.backupId, why: error.message });
    }
  }
  return { own, foreign };
}

/**
 * Why a data object without a manifest (an interrupted backup) is not this tenant's, or undefined
 * when it is: its name must be one of this tenant's backup ids and its header must name this key.
 */
export async function foreignOrphanReason(store: BackupStore, name: string, owner: BackupOwner): Promise<string | undefined> {
  const backupId = name.endsWith(DATA_SUFFIX) ? name.slice(0, -DATA_SUFFIX.length) : name;
  if (!isBackupIdOf(backupId, owner.tenant)) return `its name is not one of tenant "${owner.tenant}"'s backups`;
  let keyId: string;
  try {
    keyId = (await readBackupHeader(store, name)).keyId.toString('hex');
  } catch (error) {
    return `its header cannot be read (${(error as Error).message})`;
  }
  const ours = owner.key.id.toString('hex');
  return keyId === ours ? undefined : `it was encrypted with key ${keyId}, not this tenant's key ${ours}`;
}
