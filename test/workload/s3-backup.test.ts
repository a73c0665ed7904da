import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupKey } from '../../src/backup/crypto.js';
import { dataObjectName, manifestObjectName } from '../../src/backup/manifest.js';
import { listBackups, restoreBackup, runBackup } from '../../src/backup/runner.js';
import { S3Store } from '../../src/backup/targets/s3.js';
import { backupCommand, restoreCommand } from '../../src/cli/backup.js';
import { issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import { adminRunnerEnv, runnerEnv, startBackupFixture, testDeps, type BackupFixture } from './support/backup-fixtures.js';
import { ensureVersityGw } from './support/s3-build.js';
import { startS3Server, type S3Server } from './support/s3-server.js';

// Backups to a real S3-compatible object store (versitygw built from its Go module), over HTTPS
// with a private CA, through the same runner and CLI the CronJob uses.

const MARKER = 'S3-MARKER-ONCOLOGY-7731';
const BUCKET = 'tenant-backups';
let fx: BackupFixture;
let s3: S3Server;
const stores: S3Store[] = [];

function store(prefix: string, withCa = true): S3Store {
  const s = new S3Store({ endpoint: s3.endpoint, bucket: BUCKET, prefix, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, ...(withCa ? { caPem: s3.caPem } : {}) });
  stores.push(s);
  return s;
}

function objectFiles(prefix: string): string[] {
  try {
    return readdirSync(join(s3.root, BUCKET, prefix)).sort();
  } catch {
    return [];
  }
}

async function databaseExists(name: string): Promise<boolean> {
  return ((await fx.adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

beforeAll(async () => {
  ensureVersityGw();
  fx = await startBackupFixture();
  const now = new Date();
  const ca = await issueTenantCa('s3-test', now);
  const leaf = await issueLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' }, now);
  s3 = await startS3Server({ tls: { ca: ca.certPem, server: leaf }, buckets: [BUCKET] });
  const c = await fx.appClient();
  await c.query('CREATE TABLE messages (id serial PRIMARY KEY, room text NOT NULL, body text NOT NULL)');
  await c.query(`COMMENT ON TABLE messages IS '${MARKER}'`);
  await c.query(`INSERT INTO messages (room, body) SELECT 'oncology', '${MARKER} ' || i FROM generate_series(1, 200) AS i`);
  await c.end();
}, 900_000);

afterAll(async () => {
  for (const s of stores) s.destroy();
  await s3?.stop();
  await fx?.stop();
});

describe('backups in an S3-compatible store', () => {
  it('backup through the CronJob environment uploads an encrypted object and its manifest under the prefix', async () => {
    const caFile = join(fx.dir, 's3-ca.crt');
    writeFileSync(caFile, s3.caPem);
    // As kubelet writes credentialsSecret's keys into the volume; a trailing newline as `--from-file` leaves it.
    const keyIdFile = join(fx.dir, 'AWS_ACCESS_KEY_ID');
    const secretKeyFile = join(fx.dir, 'AWS_SECRET_ACCESS_KEY');
    writeFileSync(keyIdFile, `${s3.accessKeyId}\n`, { mode: 0o440 });
    writeFileSync(secretKeyFile, `${s3.secretAccessKey}\n`, { mode: 0o440 });
    const env = runnerEnv(fx, {
      BACKUP_TARGET: 's3',
      S3_ENDPOINT: s3.endpoint,
      S3_BUCKET: BUCKET,
      S3_PREFIX: 'test-clinic',
      S3_REGION: s3.region,
      S3_CA_FILE: caFile,
      AWS_ACCESS_KEY_ID_FILE: keyIdFile,
      AWS_SECRET_ACCESS_KEY_FILE: secretKeyFile,
      BACKUP_RETENTION_COUNT: '5',
    });
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) };
    expect(await backupCommand(io, [], env), err.join('')).toBe(0);
    const backupId = out.join('').trim();
    expect(objectFiles('test-clinic')).toEqual([`${backupId}.dump.enc`, `${backupId}.manifest.json`]);
    // What the store holds on disk is ciphertext: no table name, no marker, no archive magic.
    const stored = readFileSync(join(s3.root, BUCKET, 'test-clinic', `${backupId}.dump.enc`));
    for (const plain of [MARKER, 'PGDMP', 'messages']) expect(stored.includes(Buffer.from(plain)), plain).toBe(false);
    const adminEnv = adminRunnerEnv(fx, env);
    expect(await restoreCommand(io, ['--backup', 'latest', '--database', 's3_restore'], adminEnv), err.join('')).toBe(0);
    const query = 'SELECT id, room, body FROM messages ORDER BY id';
    expect((await fx.adminQuery(query, [], 's3_restore')).rows).toEqual((await fx.adminQuery(query, [], 'ejabberd')).rows);
  });

  it('a byte flipped in the stored object fails the restore and writes nothing', async () => {
    const s = store('test-clinic');
    const [manifest] = await listBackups(s);
    const file = join(s3.root, BUCKET, 'test-clinic', manifest!.ciphertext.object);
    const original = readFileSync(file);
    const tampered = Buffer.from(original);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    writeFileSync(file, tampered);
    try {
      await expect(restoreBackup({ connection: fx.admin, key: fx.key, store: s, backup: manifest!.backupId, targetDatabase: 's3_tampered' }, testDeps())).rejects.toThrow(/authentication failed at chunk/);
      expect(await databaseExists('s3_tampered')).toBe(false);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('refuses an endpoint whose certificate does not chain to the configured CA', async () => {
    await expect(listBackups(store('test-clinic', false))).rejects.toThrow(/certificate/i);
    expect(() => new S3Store({ endpoint: s3.endpoint.replace('https', 'http'), bucket: BUCKET, prefix: 'x', region: 'us-east-1', accessKeyId: 'a', secretAccessKey: 'b' })).toThrow(/must be https/);
  });

  it('prunes by retention in the bucket, leaving other prefixes alone', async () => {
    const s = store('retention');
    const other = store('another-tenant');
    const deps = testDeps(new Date('2026-10-01T02:00:00Z'));
    await runBackup({ tenant: 'another-tenant', connection: fx.app, key: fx.key, store: other }, deps);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await runBackup({ tenant: 'test-clinic', connection: fx.app, key: fx.key, store: s, retention: { count: 2 } }, deps)).backupId);
    expect((await listBackups(s)).map((b) => b.backupId)).toEqual([ids[2], ids[1]]);
    expect(objectFiles('retention')).toHaveLength(4);
    expect(objectFiles('another-tenant')).toHaveLength(2);
  });

  it('retention of one tenant neither counts nor deletes another tenant\'s backups under the same prefix', async () => {
    // As an older deployment may have left a bucket: two tenants, each with its own key, one prefix.
    const prefix = 'shared-by-two';
    const a = store(prefix);
    const b = store(prefix);
    const keyB = BackupKey.fromBytes(randomBytes(32));
    const lines: string[] = [];
    const deps = testDeps(new Date('2026-09-01T02:00:00Z'), lines);
    const backup = async (tenant: string, key: BackupKey, s: S3Store, retention?: { count: number }) =>
      (await runBackup({ tenant, connection: fx.app, key, store: s, ...(retention ? { retention } : {}) }, deps)).backupId;
    const a1 = await backup('clinic-a', fx.key, a);
    const a2 = await backup('clinic-a', fx.key, a);
    // Tenant B's backups are newer than A's: counted with A's, they would push A's out.
    const bIds = [await backup('clinic-b', keyB, b), await backup('clinic-b', keyB, b)];
    const a3 = await backup('clinic-a', fx.key, a, { count: 2 });
    const files = (ids: string[]) => ids.flatMap((id) => [dataObjectName(id), manifestObjectName(id)]);
    expect(objectFiles(prefix)).toEqual([...files([a2, a3]), ...files(bIds)].sort());
    expect(lines).toContain(`prune: removed ${a1} (created 2026-09-01T02:01:00.000Z)`);
    for (const id of bIds) expect(lines).toContain(`prune: left ${id} alone and did not count it: it belongs to tenant "clinic-b"`);
    // B's backups are whole: B's key still restores the newest one.
    await restoreBackup({ connection: fx.admin, key: keyB, store: b, backup: bIds[1]!, targetDatabase: 's3_tenant_b' }, testDeps());
    expect((await fx.adminQuery('SELECT count(*)::int AS n FROM messages', [], 's3_tenant_b')).rows).toEqual([{ n: 200 }]);
  });

  it('streams a dump larger than one multipart part', async () => {
    await fx.adminQuery('CREATE DATABASE bigdb OWNER ejabberd');
    const c = await fx.appClient('bigdb');
    // Random bytes do not compress: the dump stays larger than the 16 MiB part size.
    await c.query("CREATE TABLE blobs AS SELECT i, decode(md5(random()::text) || md5(random()::text), 'hex') AS b FROM generate_series(1, 700000) AS i");
    await c.end();
    const s = store('big');
    const manifest = await runBackup({ tenant: 'test-clinic', connection: { ...fx.app, database: 'bigdb' }, key: fx.key, store: s }, testDeps());
    expect(manifest.ciphertext.bytes).toBeGreaterThan(17 * 1024 * 1024);
    expect(manifest.tables).toEqual([{ schema: 'public', table: 'blobs', rows: 700000 }]);
    await restoreBackup({ connection: fx.admin, key: fx.key, store: s, backup: 'latest', targetDatabase: 'big_restore' }, testDeps());
    const digest = 'SELECT md5(string_agg(b::text, \',\' ORDER BY i)) AS d FROM blobs';
    expect((await fx.adminQuery(digest, [], 'big_restore')).rows).toEqual((await fx.adminQuery(digest, [], 'bigdb')).rows);
  });
});
