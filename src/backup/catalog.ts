import { Readable } from 'node:stream';
import { decodeHeader, type BackupHeader } from './format.js';
import { DATA_SUFFIX, MANIFEST_SUFFIX, ManifestError, dataObjectName, parseManifest, type BackupManifest } from './manifest.js';
import type { BackupStore, StoredObject } from './targets/store.js';

// What a store holds: finished backups (a manifest, written last, and its data object), and
// leftovers (a data object whose manifest never came).

export interface Catalog {
  /** Newest first. */
  backups: BackupManifest[];
  /** Data objects without a manifest: interrupted backups. */
  orphans: StoredObject[];
  /** Manifests that could not be read; reported, never deleted automatically. */
  unreadable: Array<{ name: string; problem: string }>;
}

export async function readText(store: BackupStore, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(name)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The header at the start of an encrypted data object, read without reading the rest. Not yet
 * authenticated (the first chunk's tag does that): good enough to tell whose key a file names.
 */
export async function readBackupHeader(store: BackupStore, name: string): Promise<BackupHeader> {
  const stream = await store.get(name);
  let bytes = Buffer.alloc(0);
  try {
    for await (const chunk of stream) {
      bytes = Buffer.concat([bytes, chunk as Buffer]);
      const decoded = decodeHeader(bytes);
      if (decoded) return decoded.header;
    }
  } finally {
    stream.destroy();
  }
  throw new Error(`${name} ends inside its header`);
}

export async function putText(store: BackupStore, name: string, text: string): Promise<void> {
  await store.put(name, Readable.from([Buffer.from(text, 'utf8')]));
}

export async function readCatalog(store: BackupStore): Promise<Catalog> {
  const objects = await store.list();
  const names = new Set(objects.map((o) => o.name));
  const backups: BackupManifest[] = [];
  const unreadable: Catalog['unreadable'] = [];
  for (const object of objects.filter((o) => o.name.endsWith(MANIFEST_SUFFIX))) {
    try {
      const manifest = parseManifest(await readText(store, object.name), object.name);
      if (!names.has(manifest.ciphertext.object)) unreadable.push({ name: object.name, problem: `its data object ${manifest.ciphertext.object} is missing` });
      else backups.push(manifest);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      unreadable.push({ name: object.name, problem: error.message });
    }
  }
  backups.sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || (a.backupId < b.backupId ? 1 : -1));
  const described = new Set(backups.map((b) => b.ciphertext.object));
  const manifestNames = new Set(objects.filter((o) => o.name.endsWith(MANIFEST_SUFFIX)).map((o) => o.name));
  const orphans = objects.filter(
    (o) => o.name.endsWith(DATA_SUFFIX) && !described.has(o.name) && !manifestNames.has(o.name.slice(0, -DATA_SUFFIX.length) + MANIFEST_SUFFIX),
  );
  return { backups, orphans, unreadable };
}

/** A backup by id, or the newest with "latest". */
export function findBackup(catalog: Catalog, selector: string): BackupManifest {
  if (catalog.backups.length === 0) throw new Error('there are no finished backups in this store');
  if (selector === 'latest') return catalog.backups[0]!;
  const found = catalog.backups.find((b) => b.backupId === selector || dataObjectName(b.backupId) === selector);
  if (!found) throw new Error(`no backup "${selector}"; available: ${catalog.backups.map((b) => b.backupId).join(', ')}`);
  return found;
}
