import type { Readable } from 'node:stream';

// Where encrypted backups and their manifests live. Both targets (a directory on a PVC, an
// S3-compatible bucket) offer the same four operations; an object appears only once it is complete,
// so a crash mid-upload never leaves something that looks like a finished backup.

export interface StoredObject {
  name: string;
  bytes: number;
  modifiedAt: Date;
}

export interface BackupStore {
  /** Human description for logs, e.g. "s3://bucket/prefix" or "/backups". */
  readonly description: string;
  put(name: string, body: Readable): Promise<void>;
  get(name: string): Promise<Readable>;
  /** Finished objects only. */
  list(): Promise<StoredObject[]>;
  remove(name: string): Promise<void>;
  /** Leftovers of interrupted writes older than `olderThan`; removed by prune. */
  removeStalePartials?(olderThan: Date): Promise<string[]>;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly objectName: string, where: string) {
    super(`${objectName} not found in ${where}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** Object names are flat file names: no separators, no parent references, no hidden files. */
export function assertSafeObjectName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) || name.includes('..')) throw new Error(`unsafe backup object name "${name}"`);
}
