import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BackupKey, EncryptingStream } from '../../src/backup/crypto.js';
import { ALGORITHM_NAME } from '../../src/backup/format.js';
import { backupIdFor, dataObjectName, isBackupIdOf, manifestObjectName, serializeManifest, signManifest, type BackupManifest } from '../../src/backup/manifest.js';
import { partitionByOwner } from '../../src/backup/ownership.js';
import { pruneBackups } from '../../src/backup/runner.js';
import type { BackupStore, StoredObject } from '../../src/backup/targets/store.js';

// Two tenants whose backups share one store (an S3 prefix an older deployment gave both): retention
// of one must neither count nor delete the other's, nor anything it cannot prove is its own.

const keyA = BackupKey.fromBytes(Buffer.alloc(32, 1));
const keyB = BackupKey.fromBytes(Buffer.alloc(32, 2));
const now = new Date('2026-11-23T03:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600 * 1000);

function manifest(tenant: string, key: BackupKey, createdAt: Date): BackupManifest {
  const backupId = backupIdFor(tenant, createdAt);
  return signManifest(key, {
    formatVersion: 1,
    backupId,
    tenant,
    createdAt: createdAt.toISOString(),
    completedAt: createdAt.toISOString(),
    database: 'ejabberd',
    serverVersion: '15.18',
    pgDumpVersion: 'pg_dump (PostgreSQL) 15.18',
    dumpFormat: 'custom',
    encryption: { algorithm: ALGORITHM_NAME, chunkSize: 64, keyId: key.id.toString('hex') },
    ciphertext: { object: dataObjectName(backupId), sha256: 'a'.repeat(64), bytes: 1 },
    plaintext: { sha256: 'b'.repeat(64), bytes: 1 },
    tables: [],
  });
}

/** An encrypted file as the runner writes it (header and one chunk): what an orphan holds. */
async function sealed(key: BackupKey, backupId: string, tenant: string): Promise<Buffer> {
  const stream = new EncryptingStream({ key, salt: Buffer.alloc(32, 9), chunkSize: 64, meta: { backupId, tenant, createdAt: now.toISOString() } });
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  stream.end(Buffer.from('dump'));
  await new Promise((resolve) => stream.on('end', resolve));
  return Buffer.concat(out);
}

class MemoryStore implements BackupStore {
  readonly description = 'memory';
  readonly objects = new Map<string, { body: Buffer; modifiedAt: Date }>();
  async put(name: string, body: Readable): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    this.objects.set(name, { body: Buffer.concat(chunks), modifiedAt: now });
  }
  async get(name: string): Promise<Readable> {
    const o = this.objects.get(name);
    if (!o) throw new Error(`${name} not found`);
    return Readable.from([o.body]);
  }
  async list(): Promise<StoredObject[]> {
    return [...this.objects].map(([name, o]) => ({ name, bytes: o.body.length, modifiedAt: o.modifiedAt })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }
  async remove(name: string): Promise<void> {
    this.objects.delete(name);
  }
  add(m: BackupManifest): void {
    this.objects.set(manifestObjectName(m.backupId), { body: Buffer.from(serializeManifest(m)), modifiedAt: new Date(m.createdAt) });
    this.objects.set(m.ciphertext.object, { body: Buffer.from('x'), modifiedAt: new Date(m.createdAt) });
  }
  names(): string[] {
    return [...this.objects.keys()].sort();
  }
}

const deps = (lines: string[]) => ({ now: () => now, log: (l: string) => void lines.push(l) });

describe('partitionByOwner', () => {
  const own = manifest('clinic-a', keyA, hoursAgo(1));
  it('keeps manifests of this tenant that verify under its key', () => {
    expect(partitionByOwner([own], { tenant: 'clinic-a', key: keyA })).toEqual({ own: [own], foreign: [] });
  });

  it.each([
    ['another tenant, its own key', manifest('clinic-b', keyB, hoursAgo(2)), /belongs to tenant "clinic-b"/],
    ['another tenant, signed with this key', manifest('clinic-b', keyA, hoursAgo(2)), /belongs to tenant "clinic-b"/],
    ['this tenant\'s name, another key', manifest('clinic-a', keyB, hoursAgo(2)), /wrong key/],
    ['this tenant\'s, edited after signing', { ...manifest('clinic-a', keyA, hoursAgo(2)), database: 'other' }, /was modified/],
    ['relabelled from another tenant', { ...manifest('clinic-b', keyA, hoursAgo(2)), tenant: 'clinic-a' }, /was modified/],
  ])('sets apart %s', (_name, m, why) => {
    const { own: mine, foreign } = partitionByOwner([own, m], { tenant: 'clinic-a', key: keyA });
    expect(mine).toEqual([own]);
    expect(foreign).toEqual([{ backupId: m.backupId, why: expect.stringMatching(why) }]);
  });
});

describe('isBackupIdOf', () => {
  it.each([
    ['clinic-20261123T020000Z', 'clinic', true],
    ['clinic-a-20261123T020000Z', 'clinic', false],
    ['clinic-20261123T020000Z', 'clinic-a', false],
    ['clinic-20261123T020000Z.x', 'clinic', false],
    ['other-20261123T020000Z', 'clinic', false],
  ])('%s is of tenant %s: %s', (id, tenant, expected) => {
    expect(isBackupIdOf(id, tenant)).toBe(expected);
  });
});

describe('pruneBackups in a store two tenants share', () => {
  it('counts and deletes only this tenant\'s verified backups', async () => {
    const store = new MemoryStore();
    // Interleaved in time: B's backups are the newest two, so counting them would leave A with none.
    const a = [3, 4, 5].map((h) => manifest('clinic-a', keyA, hoursAgo(h)));
    const b = [2, 1].map((h) => manifest('clinic-b', keyB, hoursAgo(h)));
    const forged = { ...manifest('clinic-a', keyA, hoursAgo(0.5)), database: 'edited' };
    for (const m of [...a, ...b, forged]) store.add(m);
    const lines: string[] = [];
    const result = await pruneBackups(store, { count: 2 }, { tenant: 'clinic-a', key: keyA }, deps(lines));
    expect(result).toEqual({ removed: [a[2]!.backupId], kept: [a[0]!.backupId, a[1]!.backupId] });
    const survivors = [a[0]!, a[1]!, ...b, forged].flatMap((m) => [manifestObjectName(m.backupId), m.ciphertext.object]).sort();
    expect(store.names()).toEqual(survivors);
    expect(lines.join('\n')).toMatch(new RegExp(`left ${b[0]!.backupId} alone and did not count it: it belongs to tenant "clinic-b"`));
    expect(lines.join('\n')).toMatch(new RegExp(`left ${forged.backupId} alone and did not count it: .*was modified`));
  });

  it('removes an old interrupted backup only when its name and its key are this tenant\'s', async () => {
    const store = new MemoryStore();
    const old = hoursAgo(48);
    const orphan = async (name: string, key: BackupKey, tenant: string) =>
      store.objects.set(dataObjectName(name), { body: await sealed(key, name, tenant), modifiedAt: old });
    await orphan(backupIdFor('clinic-a', old), keyA, 'clinic-a');
    await orphan(backupIdFor('clinic-b', old), keyB, 'clinic-b');
    const sameNameOtherKey = backupIdFor('clinic-a', hoursAgo(47));
    await orphan(sameNameOtherKey, keyB, 'clinic-a');
    const lines: string[] = [];
    await pruneBackups(store, { count: 1 }, { tenant: 'clinic-a', key: keyA }, deps(lines));
    expect(store.names()).toEqual([dataObjectName(backupIdFor('clinic-b', old)), dataObjectName(sameNameOtherKey)].sort());
    expect(lines.join('\n')).toContain(`left ${dataObjectName(sameNameOtherKey)} alone (an interrupted backup, not this tenant's: it was encrypted with key ${keyB.id.toString('hex')}`);
  });
});
