import { describe, expect, it } from 'vitest';
import { BackupKey } from '../../src/backup/crypto.js';
import { ALGORITHM_NAME } from '../../src/backup/format.js';
import { backupIdFor, canonicalJson, parseManifest, serializeManifest, signManifest, verifyManifest, type UnsignedManifest } from '../../src/backup/manifest.js';
import { compareRowCounts } from '../../src/backup/runner.js';

const key = BackupKey.fromBytes(Buffer.alloc(32, 3));
const unsigned: UnsignedManifest = {
  formatVersion: 1,
  backupId: 'clinic-20261123T020000Z',
  tenant: 'clinic',
  createdAt: '2026-11-23T02:00:00.000Z',
  completedAt: '2026-11-23T02:00:05.000Z',
  database: 'ejabberd',
  serverVersion: '17.6',
  pgDumpVersion: 'pg_dump (PostgreSQL) 17.6',
  dumpFormat: 'custom',
  encryption: { algorithm: ALGORITHM_NAME, chunkSize: 1048576, keyId: key.id.toString('hex') },
  ciphertext: { object: 'clinic-20261123T020000Z.dump.enc', sha256: 'a'.repeat(64), bytes: 1234 },
  plaintext: { sha256: 'b'.repeat(64), bytes: 1000 },
  tables: [{ schema: 'public', table: 'users', rows: 12 }],
};

describe('backup manifest', () => {
  it('round-trips through its JSON form and verifies under the key that signed it', () => {
    const manifest = signManifest(key, unsigned);
    const parsed = parseManifest(serializeManifest(manifest), 'm.json');
    expect(parsed).toEqual(manifest);
    expect(() => verifyManifest(key, parsed)).not.toThrow();
  });

  it('detects an edited field (row count, checksum) through its MAC', () => {
    const manifest = signManifest(key, unsigned);
    const edited = { ...manifest, tables: [{ schema: 'public', table: 'users', rows: 13 }] };
    expect(() => verifyManifest(key, edited)).toThrow(/was modified/);
    const otherSum = { ...manifest, ciphertext: { ...manifest.ciphertext, sha256: 'c'.repeat(64) } };
    expect(() => verifyManifest(key, otherSum)).toThrow(/was modified/);
  });

  it('names a wrong key as such', () => {
    const manifest = signManifest(key, unsigned);
    expect(() => verifyManifest(BackupKey.fromBytes(Buffer.alloc(32, 4)), manifest)).toThrow(/wrong key/);
  });

  it('rejects something that is not a manifest, saying which field is wrong', () => {
    expect(() => parseManifest('{"formatVersion":1}', 'x.json')).toThrow(/x\.json: not a backup manifest: backupId/);
    expect(() => parseManifest('not json', 'y.json')).toThrow(/y\.json: not JSON/);
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 'z' } })).toBe(canonicalJson({ a: { c: 'z', d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });

  it('backup ids sort by time and are safe names', () => {
    const a = backupIdFor('clinic', new Date('2026-11-23T02:00:00.123Z'));
    const b = backupIdFor('clinic', new Date('2026-11-24T01:59:59Z'));
    expect(a).toBe('clinic-20261123T020000Z');
    expect(a < b).toBe(true);
  });

  it('row count comparison reports missing, extra and different tables', () => {
    const expected = [{ schema: 'public', table: 'users', rows: 2 }, { schema: 'public', table: 'archive', rows: 5 }];
    expect(compareRowCounts(expected, expected)).toEqual([]);
    expect(compareRowCounts(expected, [{ schema: 'public', table: 'users', rows: 1 }, { schema: 'public', table: 'spool', rows: 0 }])).toEqual([
      'table public.users has 1 rows, the backup recorded 2',
      'table public.archive is missing',
      'table public.spool is not in the manifest',
    ]);
  });
});
