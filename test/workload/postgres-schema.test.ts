import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { renderSchemaConfigMap } from '../../src/render/postgres/schema.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { APP_USER, startBackupFixture, type BackupFixture } from './support/backup-fixtures.js';
import { WORKLOAD_PACKAGES, ensureDebianPackages } from './support/debian.js';
import { POSTGRES_BIN } from './support/postgres-server.js';

// The schema step's rendered scripts (ConfigMap of the ejabberd-sql-schema Job), run with a real
// psql against the operator's PostgreSQL configuration, with the pg.new.sql Debian's ejabberd ships.
// Only the mount paths are adapted to directories of this machine.

const PG_NEW_SQL = '/usr/share/ejabberd/sql/pg.new.sql';
let fx: BackupFixture;
let work: string;
let data: Record<string, string>;

interface Run {
  code: number;
  output: string;
}

/** The Job's two containers, in order: copy the schema file, then apply it. */
function runStep(database: string, options: { schemaFile?: string | null } = {}): Promise<Run> {
  const root = mkdtempSync(join(work, 'job-'));
  const scripts = join(root, 'scripts');
  const schema = join(root, 'schema');
  mkdirSync(scripts);
  mkdirSync(schema);
  const passfileDir = join(root, 'passfile');
  mkdirSync(passfileDir);
  const adapt = (text: string) => text.replaceAll('/run/ejabberd-sql-schema', passfileDir).replaceAll('/etc/ejabberd-sql-schema', scripts).replaceAll('/schema/', `${schema}/`).replaceAll('/schema ', `${schema} `).replaceAll('/schema\n', `${schema}\n`);
  for (const [name, text] of Object.entries(data)) writeFileSync(join(scripts, name), adapt(text));
  const env = {
    PATH: `${POSTGRES_BIN}:${process.env['PATH']}`,
    PGHOST: fx.app.host,
    PGHOSTADDR: fx.app.hostaddr!,
    PGPORT: String(fx.app.port),
    PGDATABASE: database,
    // The login as the Job gets it: files of the messaging role's Secret, no password in the environment.
    PGUSER_FILE: fx.appLogin.userFile,
    PGPASSWORD_FILE: fx.appLogin.passwordFile,
    PGSSLMODE: 'verify-full',
    PGSSLROOTCERT: fx.caFile,
  };
  const sh = (script: string) =>
    new Promise<Run>((resolve) => {
      const child = spawn('/bin/sh', [join(scripts, script)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, output }));
    });
  return (async () => {
    let before = '';
    if (options.schemaFile === undefined) {
      const copied = await sh('copy-schema.sh');
      if (copied.code !== 0) return copied;
      before = copied.output;
    } else if (options.schemaFile !== null) {
      writeFileSync(join(schema, 'pg.new.sql'), readFileSync(options.schemaFile));
    }
    const applied = await sh('run.sh');
    return { code: applied.code, output: before + applied.output };
  })();
}

async function tables(database: string): Promise<Array<{ tablename: string; tableowner: string }>> {
  return (await fx.adminQuery<{ tablename: string; tableowner: string }>("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", [], database)).rows;
}

async function freshDatabase(name: string): Promise<void> {
  await fx.adminQuery(`CREATE DATABASE ${name} OWNER ${APP_USER}`);
}

const expectedTables = () => (readFileSync(PG_NEW_SQL, 'utf8').match(/^CREATE TABLE/gm) ?? []).length;

beforeAll(async () => {
  ensureDebianPackages(WORKLOAD_PACKAGES.ejabberd);
  fx = await startBackupFixture();
  work = mkdtempSync(join(tmpdir(), 'cto-schema-'));
  data = renderSchemaConfigMap(tenantFixture('clinic', minimalSpec()))['data'] as Record<string, string>;
}, 600_000);

afterAll(async () => {
  await fx?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the ejabberd schema step', () => {
  it('creates every table of pg.new.sql, owned by the messaging role, over verified TLS', async () => {
    const run = await runStep('ejabberd');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`schema file: ${PG_NEW_SQL}`);
    expect(run.output).toContain('ejabberd schema created');
    const created = await tables('ejabberd');
    expect(created.length).toBe(expectedTables());
    expect(created.length).toBeGreaterThan(30);
    expect(new Set(created.map((t) => t.tableowner))).toEqual(new Set([APP_USER]));
    expect(created.map((t) => t.tablename)).toEqual(expect.arrayContaining(['users', 'archive', 'rosterusers', 'muc_room']));
  });

  it('is safe to repeat: a second run changes nothing', async () => {
    await fx.adminQuery("INSERT INTO users (username, server_host, password) VALUES ('alice', 'chat.example', 'x')", [], 'ejabberd');
    const run = await runStep('ejabberd');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('ejabberd schema present: nothing to do');
    expect((await fx.adminQuery('SELECT username FROM users', [], 'ejabberd')).rows).toEqual([{ username: 'alice' }]);
    expect((await tables('ejabberd')).length).toBe(expectedTables());
  });

  it('two runs at once create the schema exactly once (advisory lock)', async () => {
    await freshDatabase('schema_race');
    const runs = await Promise.all([runStep('schema_race'), runStep('schema_race'), runStep('schema_race')]);
    for (const r of runs) expect(r.code, r.output).toBe(0);
    expect(runs.filter((r) => r.output.includes('ejabberd schema created'))).toHaveLength(1);
    expect((await tables('schema_race')).length).toBe(expectedTables());
  });

  it('a failure part-way leaves no half schema, and the next run completes it', async () => {
    await freshDatabase('schema_atomic');
    const broken = join(work, 'broken.sql');
    writeFileSync(broken, readFileSync(PG_NEW_SQL));
    appendFileSync(broken, '\nCREATE TABLE this_is_not_sql (;\n');
    const failed = await runStep('schema_atomic', { schemaFile: broken });
    expect(failed.code).not.toBe(0);
    expect(failed.output).toMatch(/syntax error/);
    expect(await tables('schema_atomic')).toEqual([]);
    const retried = await runStep('schema_atomic');
    expect(retried.code, retried.output).toBe(0);
    expect((await tables('schema_atomic')).length).toBe(expectedTables());
  });

  it('with no pg.new.sql in the image it leaves the schema to ejabberd and succeeds', async () => {
    await freshDatabase('schema_none');
    const run = await runStep('schema_none', { schemaFile: null });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('update_sql_schema');
    expect(await tables('schema_none')).toEqual([]);
  });
});
