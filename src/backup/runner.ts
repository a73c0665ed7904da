import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { findBackup, putText, readCatalog } from './catalog.js';
import { BackupIntegrityError, DecryptingStream, DigestingStream, EncryptingStream, type BackupKey } from './crypto.js';
import { connect, countRows, databaseExists, serverVersion, userRelationCount, type DatabaseConnection } from './database.js';
import { ALGORITHM_NAME, DEFAULT_CHUNK_SIZE, FORMAT_VERSION, SALT_BYTES } from './format.js';
import { backupIdFor, dataObjectName, manifestObjectName, serializeManifest, signManifest, verifyManifest, type BackupManifest, type TableRowCount } from './manifest.js';
import { assertDumpCompatible, pgDumpOutput, startPgRestore, toolVersion, type PgTools } from './pg-tools.js';
import { foreignOrphanReason, partitionByOwner, type BackupOwner } from './ownership.js';
import { applyRetention, type RetentionPolicy } from './retention.js';
import type { BackupStore } from './targets/store.js';

// The backup runner: backup (pg_dump → encrypt → store, manifest, prune), restore (verify all, then
// pg_restore in one transaction) and verify (restore into a scratch database, compare row counts,
// drop it). Configuration comes in typed from src/cli/backup.ts; the clock, randomness and logging
// are injected so tests control them.

export interface RunnerDeps {
  now: () => Date;
  randomBytes: (n: number) => Buffer;
  log: (line: string) => void;
  tools: PgTools;
}

export const defaultDeps = (log: (line: string) => void, tools: PgTools = {}): RunnerDeps => ({ now: () => new Date(), randomBytes: nodeRandomBytes, log, tools });

export interface BackupJob {
  tenant: string;
  connection: DatabaseConnection;
  key: BackupKey;
  store: BackupStore;
  retention?: RetentionPolicy;
  chunkSize?: number;
}

/** Interrupted uploads younger than this may still be running elsewhere; older ones are removed. */
const ORPHAN_GRACE_MS = 24 * 3600 * 1000;

export async function runBackup(job: BackupJob, deps: RunnerDeps): Promise<BackupManifest> {
  const { connection, store, key } = job;
  const createdAt = deps.now();
  const backupId = backupIdFor(job.tenant, createdAt);
  const dataName = dataObjectName(backupId);
  const pgDump = toolVersion(deps.tools, 'pg_dump');
  const client = await connect(connection);
  let uploaded = false;
  try {
    const server = await serverVersion(client);
    assertDumpCompatible(pgDump, server.major);
    // pg_dump and the row counts see one snapshot: the counts describe exactly what was dumped.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
    deps.log(`backup ${backupId}: dumping ${connection.database} on ${connection.host} (PostgreSQL ${server.text}, ${pgDump.text}) to ${store.description}`);
    const plain = new DigestingStream();
    const cipher = new DigestingStream();
    const chunkSize = job.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const dumpArgs = ['--format=custom', `--snapshot=${snapshot}`, '--no-password', '--lock-wait-timeout=120000'];
    const source = Readable.from(pgDumpOutput(deps.tools, connection, dumpArgs), { objectMode: false });
    const encrypted = new EncryptingStream({ key, salt: deps.randomBytes(SALT_BYTES), chunkSize, meta: { backupId, tenant: job.tenant, createdAt: createdAt.toISOString() } });
    const upload = store.put(dataName, cipher);
    upload.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    const streamed = pipeline(source, plain, encrypted, cipher).then(
      () => upload,
      async (error: unknown) => {
        await upload.catch(() => undefined);
        throw error;
      },
    );
    const [streamResult, countResult] = await Promise.allSettled([streamed, countRows(client)]);
    if (streamResult.status === 'rejected') throw streamResult.reason;
    uploaded = true;
    if (countResult.status === 'rejected') throw countResult.reason;
    const tables = countResult.value;
    await client.query('COMMIT');
    const manifest = signManifest(key, {
      formatVersion: FORMAT_VERSION,
      backupId,
      tenant: job.tenant,
      createdAt: createdAt.toISOString(),
      completedAt: deps.now().toISOString(),
      database: connection.database,
      serverVersion: server.text,
      pgDumpVersion: pgDump.text,
      dumpFormat: 'custom',
      encryption: { algorithm: ALGORITHM_NAME, chunkSize, keyId: key.id.toString('hex') },
      ciphertext: { object: dataName, sha256: cipher.digest(), bytes: cipher.bytes },
      plaintext: { sha256: plain.digest(), bytes: plain.bytes },
      tables,
    });
    // The manifest is the commit point: only now does the backup exist for restore and retention.
    await putText(store, manifestObjectName(backupId), serializeManifest(manifest));
    deps.log(`backup ${backupId}: ${manifest.ciphertext.bytes} bytes encrypted (${tables.length} tables, ${tables.reduce((n, t) => n + t.rows, 0)} rows), sha256 ${manifest.ciphertext.sha256}`);
    if (job.retention) await pruneBackups(store, job.retention, { tenant: job.tenant, key }, deps, backupId);
    return manifest;
  } catch (error) {
    if (uploaded) await store.remove(dataName).catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface PruneResult {
  removed: string[];
  kept: string[];
}

export async function pruneBackups(
  store: BackupStore,
  policy: RetentionPolicy,
  owner: BackupOwner,
  deps: Pick<RunnerDeps, 'now' | 'log'>,
  protect?: string,
): Promise<PruneResult> {
  const now = deps.now();
  const catalog = await readCatalog(store);
  // Only this tenant's verified backups are counted and deleted: others in the same store are not ours to judge.
  const { own, foreign } = partitionByOwner(catalog.backups, owner);
  const decision = applyRetention(
    own.map((m) => ({ backupId: m.backupId, createdAt: new Date(m.createdAt), manifest: m })),
    policy,
    now,
    protect,
  );
  for (const { manifest } of decision.remove) {
    // Manifest first: a crash in between leaves an orphan (removed later), never a manifest without data.
    await store.remove(manifestObjectName(manifest.backupId));
    await store.remove(manifest.ciphertext.object);
    deps.log(`prune: removed ${manifest.backupId} (created ${manifest.createdAt})`);
  }
  const graceLine = new Date(now.getTime() - ORPHAN_GRACE_MS);
  for (const orphan of catalog.orphans.filter((o) => o.modifiedAt < graceLine)) {
    const notOurs = await foreignOrphanReason(store, orphan.name, owner);
    if (notOurs) {
      deps.log(`prune: left ${orphan.name} alone (an interrupted backup, not this tenant's: ${notOurs})`);
      continue;
    }
    await store.remove(orphan.name);
    deps.log(`prune: removed ${orphan.name}, an interrupted backup without manifest`);
  }
  for (const name of (await store.removeStalePartials?.(graceLine)) ?? []) deps.log(`prune: removed partial upload ${name}`);
  for (const { backupId, why } of foreign) deps.log(`prune: left ${backupId} alone and did not count it: ${why}`);
  for (const { name, problem } of catalog.unreadable) deps.log(`prune: left ${name} alone: ${problem}`);
  return { removed: decision.remove.map((b) => b.backupId), kept: decision.keep.map((b) => b.backupId) };
}

export async function listBackups(store: BackupStore): Promise<BackupManifest[]> {
  return (await readCatalog(store)).backups;
}

export interface RestoreJob {
  connection: DatabaseConnection;
  key: BackupKey;
  store: BackupStore;
  /** A backup id, or "latest". */
  backup: string;
  /** Database to restore into; created when missing. */
  targetDatabase: string;
  /** Allow a non-empty target: objects in the backup are dropped and recreated (pg_restore --clean). */
  clean?: boolean;
}

/** Reads the whole backup, authenticating every chunk and checking both checksums, without writing. */
export async function verifyBackupFile(store: BackupStore, key: BackupKey, manifest: BackupManifest): Promise<void> {
  verifyManifest(key, manifest);
  const cipher = new DigestingStream();
  const plain = new DigestingStream();
  await pipeline(
    await store.get(manifest.ciphertext.object),
    cipher,
    new DecryptingStream({ key, expectedBackupId: manifest.backupId }),
    plain,
    new Writable({ write: (_chunk, _encoding, callback) => callback() }),
  );
  const problems: string[] = [];
  if (cipher.bytes !== manifest.ciphertext.bytes) problems.push(`encrypted size ${cipher.bytes}, manifest says ${manifest.ciphertext.bytes}`);
  if (cipher.digest() !== manifest.ciphertext.sha256) problems.push('the SHA-256 of the encrypted file does not match the manifest');
  if (plain.bytes !== manifest.plaintext.bytes) problems.push(`decrypted size ${plain.bytes}, manifest says ${manifest.plaintext.bytes}`);
  if (plain.digest() !== manifest.plaintext.sha256) problems.push('the SHA-256 of the decrypted dump does not match the manifest');
  if (problems.length > 0) throw new BackupIntegrityError(`backup ${manifest.backupId} does not match its manifest: ${problems.join('; ')}`);
}

export async function restoreBackup(job: RestoreJob, deps: RunnerDeps): Promise<BackupManifest> {
  const catalog = await readCatalog(job.store);
  const manifest = findBackup(catalog, job.backup);
  deps.log(`restore ${manifest.backupId}: verifying the encrypted file and its checksums before touching the database`);
  await verifyBackupFile(job.store, job.key, manifest);
  const restoreTool = toolVersion(deps.tools, 'pg_restore');
  const dumpMajor = /\(PostgreSQL\)\s+(\d+)/.exec(manifest.pgDumpVersion)?.[1];
  if (dumpMajor !== undefined && restoreTool.major < Number(dumpMajor)) {
    throw new Error(`pg_restore ${restoreTool.major} cannot read an archive written by pg_dump ${dumpMajor}: use postgresql-client-${dumpMajor} or newer`);
  }
  await prepareTarget(job, deps);
  deps.log(`restore ${manifest.backupId}: verified; restoring into database ${job.targetDatabase} in one transaction`);
  const args = ['--single-transaction', '--exit-on-error', '--no-password', `--dbname=${job.targetDatabase}`, ...(job.clean ? ['--clean', '--if-exists'] : [])];
  const restore = startPgRestore(deps.tools, job.connection, job.targetDatabase, args);
  const endedEarly = restore.done.then(() => {
    throw new Error('pg_restore ended before it had read the whole backup');
  });
  endedEarly.catch(() => undefined);
  try {
    // Each chunk reaches pg_restore only after its tag verified; should anything fail now (the file
    // changed since it was verified), pg_restore is killed before its input ends and its single
    // transaction rolls back. (A pipeline would close pg_restore's input on error, which reads as a
    // normal end of input.)
    const source = await job.store.get(manifest.ciphertext.object);
    const decrypted = new DecryptingStream({ key: job.key, expectedBackupId: manifest.backupId });
    source.on('error', (error) => decrypted.destroy(error));
    for await (const chunk of source.pipe(decrypted)) {
      if (!restore.stdin.write(chunk)) await Promise.race([once(restore.stdin, 'drain'), endedEarly]);
    }
  } catch (error) {
    restore.abort();
    await restore.done.catch(() => undefined);
    throw error;
  }
  restore.stdin.end();
  await restore.done;
  deps.log(`restore ${manifest.backupId}: done`);
  return manifest;
}

async function prepareTarget(job: RestoreJob, deps: RunnerDeps): Promise<void> {
  const admin = await connect(job.connection);
  try {
    if (!(await databaseExists(admin, job.targetDatabase))) {
      try {
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(job.targetDatabase)}`);
      } catch (error) {
        throw new Error(`cannot create database ${job.targetDatabase} as ${job.connection.user}: ${(error as Error).message}. Create it first (owned by the restoring role) or restore as a role with CREATEDB.`);
      }
      deps.log(`restore: created database ${job.targetDatabase}`);
      return;
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
  if (job.clean) return;
  const target = await connect(job.connection, job.targetDatabase);
  try {
    const relations = await userRelationCount(target);
    if (relations > 0) throw new Error(`database ${job.targetDatabase} is not empty (${relations} tables, views or sequences); restore into a new database, or pass --clean to replace the objects the backup contains`);
  } finally {
    await target.end().catch(() => undefined);
  }
}

export interface VerifyJob {
  connection: DatabaseConnection;
  key: BackupKey;
  store: BackupStore;
  backup: string;
}

export interface VerifyReport {
  backupId: string;
  scratchDatabase: string;
  ok: boolean;
  tables: number;
  rows: number;
  mismatches: string[];
}

/** Restores into a scratch database, compares every table's row count with the manifest, drops it. */
export async function verifyBackup(job: VerifyJob, deps: RunnerDeps): Promise<VerifyReport> {
  const scratch = `verify_${deps.now().toISOString().replace(/\D/g, '').slice(0, 14)}_${deps.randomBytes(4).toString('hex')}`;
  let manifest: BackupManifest | undefined;
  try {
    manifest = await restoreBackup({ ...job, targetDatabase: scratch }, deps);
    const client = await connect(job.connection, scratch);
    let restored: TableRowCount[];
    try {
      restored = await countRows(client);
    } finally {
      await client.end().catch(() => undefined);
    }
    const mismatches = compareRowCounts(manifest.tables, restored);
    const report: VerifyReport = { backupId: manifest.backupId, scratchDatabase: scratch, ok: mismatches.length === 0, tables: restored.length, rows: restored.reduce((n, t) => n + t.rows, 0), mismatches };
    deps.log(`verify ${manifest.backupId}: ${report.ok ? 'OK' : 'FAILED'}: ${report.tables} tables, ${report.rows} rows${report.ok ? '' : `; ${mismatches.join('; ')}`}`);
    return report;
  } finally {
    await dropDatabase(job.connection, scratch).catch((error: unknown) => deps.log(`verify: could not drop scratch database ${scratch}: ${(error as Error).message}`));
  }
}

export function compareRowCounts(expected: TableRowCount[], actual: TableRowCount[]): string[] {
  const key = (t: TableRowCount) => `${t.schema}.${t.table}`;
  const restored = new Map(actual.map((t) => [key(t), t.rows]));
  const mismatches: string[] = [];
  for (const table of expected) {
    const rows = restored.get(key(table));
    if (rows === undefined) mismatches.push(`table ${key(table)} is missing`);
    else if (rows !== table.rows) mismatches.push(`table ${key(table)} has ${rows} rows, the backup recorded ${table.rows}`);
    restored.delete(key(table));
  }
  for (const extra of restored.keys()) mismatches.push(`table ${extra} is not in the manifest`);
  return mismatches;
}

async function dropDatabase(connection: DatabaseConnection, name: string): Promise<void> {
  const admin = await connect(connection);
  try {
    // FORCE (PostgreSQL 13+) ends sessions a failed pg_restore may have left behind.
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
