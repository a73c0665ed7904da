import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ObjectNotFoundError, assertSafeObjectName, type BackupStore, type StoredObject } from './store.js';

// Backups in a directory (the backup PVC mounted into the Job). A write goes to a hidden partial
// file, is flushed to disk, and is renamed into place: rename is atomic within a file system, so a
// reader sees either nothing or the whole object.

const PARTIAL_PREFIX = '.partial-';

export class DirectoryStore implements BackupStore {
  constructor(readonly directory: string) {}

  get description(): string {
    return this.directory;
  }

  async put(name: string, body: Readable): Promise<void> {
    assertSafeObjectName(name);
    await mkdir(this.directory, { recursive: true });
    const partial = join(this.directory, `${PARTIAL_PREFIX}${process.pid}-${name}`);
    try {
      await pipeline(body, createWriteStream(partial, { mode: 0o600 }));
      const handle = await open(partial, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, join(this.directory, name));
      await syncDirectory(this.directory);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  async get(name: string): Promise<Readable> {
    assertSafeObjectName(name);
    const file = join(this.directory, name);
    try {
      await stat(file);
    } catch {
      throw new ObjectNotFoundError(name, this.directory);
    }
    return createReadStream(file);
  }

  async list(): Promise<StoredObject[]> {
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out: StoredObject[] = [];
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const info = await stat(join(this.directory, name));
      if (info.isFile()) out.push({ name, bytes: info.size, modifiedAt: info.mtime });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async remove(name: string): Promise<void> {
    assertSafeObjectName(name);
    await rm(join(this.directory, name), { force: true });
  }

  async removeStalePartials(olderThan: Date): Promise<string[]> {
    const removed: string[] = [];
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch {
      return removed;
    }
    for (const name of entries.filter((n) => n.startsWith(PARTIAL_PREFIX))) {
      const info = await stat(join(this.directory, name));
      if (info.mtime < olderThan) {
        await rm(join(this.directory, name), { force: true });
        removed.push(name);
      }
    }
    return removed;
  }
}

/** fsync of the directory makes the rename itself durable. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
