import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync as makeTempDir, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putText, readCatalog } from '../../src/backup/catalog.js';
import { BackupKey, DecryptingStream, EncryptingStream } from '../../src/backup/crypto.js';
import { manifestObjectName, serializeManifest, signManifest } from '../../src/backup/manifest.js';
import { listBackups, restoreBackup, runBackup, verifyBackup } from '../../src/backup/runner.js';
import { DirectoryStore } from '../../src/backup/targets/pvc.js';
import { backupCommand, listBackupsCommand, restoreCommand, verifyCommand } from '../../src/cli/backup.js';
import { APP_DATABASE, adminRunnerEnv, runnerEnv, startBackupFixture, testDeps, type BackupFixture } from './support/backup-fixtures.js';
import { POSTGRES_BIN } from './support/postgres-server.js';

// The backup runner against a real PostgreSQL with the operator's TLS + SCRAM configuration, with
// Debian's pg_dump/pg_restore, writing to a directory as it does on the backup PVC.

const MARKER = 'MRN-4242-PENICILLIN-ALLERGY';
let fx: BackupFixture;
let work: string;
const tempDirs: string[] = [];
/** A temporary directory removed after the file's tests. */
function mkdtempSync(prefix: string): string {
  const dir = makeTempDir(prefix);
  tempDirs.push(dir);
  return dir;
}

async function seed(): Promise<void> {
  const c = await fx.appClient();
  try {
    await c.query(`CREATE TABLE patient_notes (id serial PRIMARY KEY, author text NOT NULL, body text NOT NULL, created timestamptz NOT NULL DEFAULT now())`);
    // The comment lands in the dump's table of contents, which pg_dump does not compress: if the
    // file were not encrypted, this text would be readable in it.
    await c.query(`COMMENT ON TABLE patient_notes IS '${MARKER}'`);
    await c.query(`INSERT INTO patient_notes (author, body) SELECT 'dr-' || (i % 7), '${MARKER} note ' || i FROM generate_series(1, 500) AS i`);
    await c.query('CREATE TABLE rooms (name text PRIMARY KEY, members int NOT NULL)');
    await c.query(`INSERT INTO rooms VALUES ('cardiology', 12), ('oncology', 9), ('emergency', 31)`);
  } finally {
    await c.end();
  }
}

async function rows(database: string, sql: string): Promise<unknown[]> {
  return (await fx.adminQuery(sql, [], database)).rows;
}

async function databaseExists(name: string): Promise<boolean> {
  return ((await fx.adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

async function decrypt(file: string, key: BackupKey): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([readFileSync(file)]), new DecryptingStream({ key }), new Writable({ write: (c, _e, cb) => (out.push(c as Buffer), cb()) }));
  return Buffer.concat(out);
}

/** A copy of a store directory with one byte of a backup's data file flipped. */
function tamperedCopy(from: string, dataObject: string, offset: number): string {
  const to = mkdtempSync(join(tmpdir(), 'cto-tampered-'));
  cpSync(from, to, { recursive: true });
  const file = join(to, dataObject);
  const bytes = readFileSync(file);
  bytes[offset]! ^= 0x20;
  writeFileSync(file, bytes);
  return to;
}

beforeAll(async () => {
  fx = await startBackupFixture();
  work = mkdtempSync(join(tmpdir(), 'cto-backups-'));
  await seed();
}, 180_000);

afterAll(async () => {
  await fx?.stop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('backup and restore on a real PostgreSQL', () => {
  const storeDir = () => join(work, 'store');

  it('backs up over verified TLS as the app role: an encrypted file with no plaintext, and a manifest', async () => {
    const store = new DirectoryStore(storeDir());
    const deps = testDeps();
    const manifest = await runBackup({ tenant: 'test-clinic', connection: fx.app, key: fx.key, store }, deps);
    expect(readdirSync(storeDir()).sort()).toEqual([manifest.ciphertext.object, manifestObjectName(manifest.backupId)].sort());
    const sealed = readFileSync(join(storeDir(), manifest.ciphertext.object));
    expect(sealed.includes(Buffer.from(MARKER))).toBe(false);
    expect(sealed.includes(Buffer.from('PGDMP'))).toBe(false);
    expect(sealed.includes(Buffer.from('patient_notes'))).toBe(false);
    // The same check on the decrypted dump finds the marker: the assertion above could fail.
    const plain = await decrypt(join(storeDir(), manifest.ciphertext.object), fx.key);
    expect(plain.subarray(0, 5).toString()).toBe('PGDMP');
    expect(plain.includes(Buffer.from(MARKER))).toBe(true);
    expect(manifest).toMatchObject({ tenant: 'test-clinic', database: APP_DATABASE, dumpFormat: 'custom', formatVersion: 1, ciphertext: { bytes: sealed.length }, plaintext: { bytes: plain.length } });
    expect(manifest.serverVersion).toMatch(/^15\./);
    expect(manifest.tables).toEqual([
      { schema: 'public', table: 'patient_notes', rows: 500 },
      { schema: 'public', table: 'rooms', rows: 3 },
    ]);
    // The server saw a TLS connection from the runner's pg_dump (libpq, verify-full).
    expect(deps.lines.join('\n')).toMatch(/dumping ejabberd on localhost/);
  });

  it('restores into a new database: identical rows, comments and ownership', async () => {
    const store = new DirectoryStore(storeDir());
    await restoreBackup({ connection: fx.admin, key: fx.key, store, backup: 'latest', targetDatabase: 'restored_one' }, testDeps());
    const query = 'SELECT id, author, body, created FROM patient_notes ORDER BY id';
    expect(await rows('restored_one', query)).toEqual(await rows(APP_DATABASE, query));
    expect(await rows('restored_one', 'SELECT * FROM rooms ORDER BY name')).toEqual(await rows(APP_DATABASE, 'SELECT * FROM rooms ORDER BY name'));
    expect(await rows('restored_one', "SELECT obj_description('patient_notes'::regclass) AS c")).toEqual([{ c: MARKER }]);
    expect(await rows('restored_one', "SELECT tableowner FROM pg_tables WHERE tablename = 'rooms'")).toEqual([{ tableowner: 'ejabberd' }]);
  });

  it('refuses a non-empty target unless --clean, and with --clean replaces its objects', async () => {
    const store = new DirectoryStore(storeDir());
    await expect(restoreBackup({ connection: fx.admin, key: fx.key, store, backup: 'latest', targetDatabase: 'restored_one' }, testDeps())).rejects.toThrow(/restored_one is not empty/);
    await fx.adminQuery("DELETE FROM rooms WHERE name = 'oncology'", [], 'restored_one');
    await restoreBackup({ connection: fx.admin, key: fx.key, store, backup: 'latest', targetDatabase: 'restored_one', clean: true }, testDeps());
    expect(await rows('restored_one', 'SELECT count(*)::int AS n FROM rooms')).toEqual([{ n: 3 }]);
  });

  it('a flipped byte fails the restore with a clear error and writes nothing', async () => {
    const [manifest] = await listBackups(new DirectoryStore(storeDir()));
    const size = manifest!.ciphertext.bytes;
    for (const offset of [10, Math.floor(size / 2), size - 3]) {
      const store = new DirectoryStore(tamperedCopy(storeDir(), manifest!.ciphertext.object, offset));
      const target = `tampered_${offset}`;
      await expect(restoreBackup({ connection: fx.admin, key: fx.key, store, backup: manifest!.backupId, targetDatabase: target }, testDeps())).rejects.toThrow(
        /authentication failed at chunk|wrong key|does not match its manifest|header is damaged/,
      );
      expect(await databaseExists(target), `offset ${offset}`).toBe(false);
    }
    // Into an existing empty database: it stays empty.
    await fx.adminQuery('CREATE DATABASE tampered_existing');
    const store = new DirectoryStore(tamperedCopy(storeDir(), manifest!.ciphertext.object, Math.floor(size / 2)));
    await expect(restoreBackup({ connection: fx.admin, key: fx.key, store, backup: 'latest', targetDatabase: 'tampered_existing' }, testDeps())).rejects.toThrow(/authentication failed at chunk/);
    expect(await rows('tampered_existing', "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 0 }]);
  });

  it('a wrong key fails the restore with a clear error and writes nothing', async () => {
    const wrong = BackupKey.fromBytes(Buffer.alloc(32, 9));
    await expect(restoreBackup({ connection: fx.admin, key: wrong, store: new DirectoryStore(storeDir()), backup: 'latest', targetDatabase: 'wrong_key' }, testDeps())).rejects.toThrow(/wrong key/);
    expect(await databaseExists('wrong_key')).toBe(false);
  });

  it('verify restores into a scratch database, checks row counts, and drops it', async () => {
    const store = new DirectoryStore(storeDir());
    const report = await verifyBackup({ connection: fx.admin, key: fx.key, store, backup: 'latest' }, testDeps());
    expect(report).toMatchObject({ ok: true, tables: 2, rows: 503, mismatches: [] });
    expect(await databaseExists(report.scratchDatabase)).toBe(false);
  });

  it('verify reports a backup whose restored rows differ from what its manifest recorded', async () => {
    const store = new DirectoryStore(storeDir());
    const [manifest] = await listBackups(store);
    // A manifest signed with the right key but recording one row too many (what a broken dump would look like).
    const { mac: _mac, ...unsigned } = manifest!;
    const wrongCounts = signManifest(fx.key, { ...unsigned, tables: unsigned.tables.map((t) => (t.table === 'rooms' ? { ...t, rows: 4 } : t)) });
    const dir = mkdtempSync(join(tmpdir(), 'cto-counts-'));
    cpSync(storeDir(), dir, { recursive: true });
    const copy = new DirectoryStore(dir);
    await putText(copy, manifestObjectName(manifest!.backupId), serializeManifest(wrongCounts));
    const report = await verifyBackup({ connection: fx.admin, key: fx.key, store: copy, backup: manifest!.backupId }, testDeps());
    expect(report.ok).toBe(false);
    expect(report.mismatches).toEqual(['table public.rooms has 3 rows, the backup recorded 4']);
    expect(await databaseExists(report.scratchDatabase)).toBe(false);
  });

  it('a backup under concurrent writes restores consistently (one snapshot for dump and row counts)', async () => {
    const setup = await fx.appClient();
    await setup.query('CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)');
    await setup.query('CREATE TABLE transfers (id bigserial PRIMARY KEY, account int NOT NULL, amount bigint NOT NULL)');
    await setup.query('INSERT INTO accounts SELECT i, 1000 FROM generate_series(1, 50) AS i');
    // Bulk, so pg_dump takes long enough for the writers to interleave with it.
    await setup.query("CREATE TABLE filler AS SELECT i, md5(i::text) AS h FROM generate_series(1, 300000) AS i");
    await setup.end();
    // Invariant kept by every transaction: each transfer row moves `amount` out of one account and
    // into another, so balances always sum to 50 * 1000 and transfers come in pairs.
    let stop = false;
    let committed = 0;
    const writer = async (seed: number) => {
      const c = await fx.appClient();
      let i = seed;
      try {
        while (!stop) {
          const from = (i % 50) + 1;
          const to = ((i * 7) % 50) + 1;
          i++;
          if (from === to) continue;
          await c.query('BEGIN');
          await c.query('UPDATE accounts SET balance = balance - 3 WHERE id = $1', [from]);
          await c.query('INSERT INTO transfers (account, amount) VALUES ($1, -3)', [from]);
          await c.query('UPDATE accounts SET balance = balance + 3 WHERE id = $1', [to]);
          await c.query('INSERT INTO transfers (account, amount) VALUES ($1, 3)', [to]);
          await c.query('COMMIT');
          committed++;
        }
      } finally {
        await c.end();
      }
    };
    const writers = [writer(1), writer(2), writer(3)];
    await new Promise((r) => setTimeout(r, 300));
    const store = new DirectoryStore(join(work, 'concurrent'));
    const before = committed;
    const manifest = await runBackup({ tenant: 'test-clinic', connection: fx.app, key: fx.key, store }, testDeps());
    const during = committed - before;
    stop = true;
    await Promise.all(writers);
    expect(during, 'writers committed while the backup ran').toBeGreaterThan(0);
    await restoreBackup({ connection: fx.admin, key: fx.key, store, backup: manifest.backupId, targetDatabase: 'concurrent_restore' }, testDeps());
    const [state] = (await rows('concurrent_restore', `SELECT (SELECT sum(balance) FROM accounts)::bigint AS total, (SELECT count(*) FROM transfers)::int AS transfers, (SELECT coalesce(sum(amount), 0) FROM transfers)::bigint AS net`)) as Array<{ total: string; transfers: number; net: string }>;
    expect(Number(state!.total)).toBe(50_000);
    expect(state!.transfers % 2).toBe(0);
    expect(Number(state!.net)).toBe(0);
    // The manifest's counts were taken in the dump's snapshot, so they match the restore exactly.
    const recorded = manifest.tables.find((t) => t.table === 'transfers')!.rows;
    expect(recorded).toBe(state!.transfers);
    const live = Number((await fx.adminQuery<{ n: string }>('SELECT count(*) AS n FROM transfers', [], APP_DATABASE)).rows[0]!.n);
    expect(live).toBeGreaterThan(recorded);
  });

  it('keeps exactly what retention says after each backup, and removes interrupted leftovers', async () => {
    const dir = join(work, 'retention');
    const store = new DirectoryStore(dir);
    const deps = testDeps(new Date('2026-11-01T02:00:00Z'));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await runBackup({ tenant: 'test-clinic', connection: fx.app, key: fx.key, store, retention: { count: 2 } }, deps)).backupId);
    expect((await listBackups(store)).map((b) => b.backupId)).toEqual([ids[3], ids[2]]);
    expect(readdirSync(dir)).toHaveLength(4);
    // A data file whose manifest never came, old enough to be certainly dead: pruned by the next run,
    // since its name and the key its header names are this tenant's. A file of this tenant's name that
    // is no backup of this key cannot be proven its own, and is left alone.
    const old = new Date('2025-01-01T00:00:00Z');
    const leftover = 'test-clinic-20250101T000000Z';
    const sealing = new EncryptingStream({ key: fx.key, salt: randomBytes(32), meta: { backupId: leftover, tenant: 'test-clinic', createdAt: old.toISOString() } });
    const sealed: Buffer[] = [];
    sealing.on('data', (c: Buffer) => sealed.push(c));
    await new Promise((resolve) => sealing.on('end', resolve).end(Buffer.from('interrupted')));
    writeFileSync(join(dir, `${leftover}.dump.enc`), Buffer.concat(sealed));
    writeFileSync(join(dir, 'test-clinic-20250102T000000Z.dump.enc'), 'not a backup');
    for (const name of [`${leftover}.dump.enc`, 'test-clinic-20250102T000000Z.dump.enc']) spawnSync('touch', ['-d', old.toISOString(), join(dir, name)]);
    const lines: string[] = [];
    await runBackup({ tenant: 'test-clinic', connection: fx.app, key: fx.key, store, retention: { count: 2 } }, { ...deps, log: (l) => void lines.push(l) });
    const catalog = await readCatalog(store);
    expect(catalog.orphans.map((o) => o.name)).toEqual(['test-clinic-20250102T000000Z.dump.enc']);
    expect(lines).toContain(`prune: removed ${leftover}.dump.enc, an interrupted backup without manifest`);
    expect(catalog.backups).toHaveLength(2);
  });
});

describe('the CLI commands with the CronJob environment', () => {
  it('backup, list-backups, restore and verify through the env contract', async () => {
    const dir = join(work, 'cli');
    const env = runnerEnv(fx, { BACKUP_TARGET: 'pvc', BACKUP_DIR: dir, BACKUP_RETENTION_COUNT: '3', BACKUP_RETENTION_DAYS: '7' });
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    expect(await backupCommand(io, [], env), err.join('')).toBe(0);
    const backupId = out.join('').trim();
    expect(backupId).toMatch(/^test-clinic-\d{8}T\d{6}Z$/);
    out.length = 0;
    expect(await listBackupsCommand(io, [], env)).toBe(0);
    expect(out.join('')).toContain(backupId);
    const adminEnv = adminRunnerEnv(fx, env);
    expect(await restoreCommand(io, ['--backup', backupId, '--database', 'cli_restore'], adminEnv), err.join('')).toBe(0);
    expect(await rows('cli_restore', 'SELECT count(*)::int AS n FROM rooms')).toEqual([{ n: 3 }]);
    out.length = 0;
    expect(await verifyCommand(io, [], adminEnv), err.join('')).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ ok: true, backupId });
    // No secret reaches the output.
    expect(err.join('') + out.join('')).not.toContain(fx.app.password);
  });

  it('reports every configuration problem at once and exits 2', async () => {
    const err: string[] = [];
    const io = { out: () => undefined, err: (t: string) => void err.push(t) };
    const code = await backupCommand(io, [], { PGSSLMODE: 'require', BACKUP_TARGET: 'ftp', BACKUP_KEY_FILE: join(work, 'missing.key') });
    expect(code).toBe(2);
    const text = err.join('');
    for (const expected of ['TENANT is not set', 'PGSSLMODE must be verify-full', 'BACKUP_TARGET must be pvc or s3', 'cannot read the backup key', 'PGPASSWORD_FILE is not set', 'BACKUP_RETENTION_COUNT, BACKUP_RETENTION_DAYS, or both']) {
      expect(text).toContain(expected);
    }
  });

  it('refuses pg_dump older than the server, before dumping anything', async () => {
    // Debian's pg_dump 15 against a server that reports 15 is fine; the rule is checked by the same
    // function the runner calls, with the version the real binary reports.
    const version = spawnSync(join(POSTGRES_BIN, 'pg_dump'), ['--version'], { encoding: 'utf8' }).stdout;
    expect(version).toMatch(/\(PostgreSQL\) 15\./);
    const { assertDumpCompatible, toolVersion } = await import('../../src/backup/pg-tools.js');
    const dump = toolVersion({ binDir: POSTGRES_BIN }, 'pg_dump');
    expect(() => assertDumpCompatible(dump, 15)).not.toThrow();
    expect(() => assertDumpCompatible(dump, 17)).toThrow(/pg_dump 15 cannot dump a PostgreSQL 17 server.*postgresql-client-17/);
  });
});
