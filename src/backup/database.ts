import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { TableRowCount } from './manifest.js';

// The runner's own connections to PostgreSQL (node-postgres), always TLS with the server's
// certificate verified against the tenant CA and its name checked (libpq's sslmode=verify-full).

export interface DatabaseConnection {
  /** Name the server certificate must carry, and the address unless hostaddr is set. */
  host: string;
  /** Numeric address to connect to instead of resolving host (libpq's PGHOSTADDR). */
  hostaddr?: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** CA certificate file (PEM) the server certificate must chain to. */
  sslRootCertFile: string;
}

export function clientConfig(connection: DatabaseConnection, database = connection.database): pg.ClientConfig {
  return {
    host: connection.hostaddr ?? connection.host,
    port: connection.port,
    database,
    user: connection.user,
    password: connection.password,
    application_name: 'chat-tenant-operator-backup',
    connectionTimeoutMillis: 30_000,
    ssl: { ca: readFileSync(connection.sslRootCertFile, 'utf8'), rejectUnauthorized: true, servername: connection.host, minVersion: 'TLSv1.2' },
  };
}

export async function connect(connection: DatabaseConnection, database?: string): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(connection, database));
  await client.connect();
  return client;
}

/** Tables (plain and partitioned) outside the system schemas, in a stable order. */
const USER_TABLES_SQL = `
  SELECT n.nspname AS schema, c.relname AS table
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp)'
  ORDER BY 1, 2`;

/** Exact row counts of every user table, in the snapshot of the client's open transaction. */
export async function countRows(client: pg.Client): Promise<TableRowCount[]> {
  const tables = await client.query<{ schema: string; table: string }>(USER_TABLES_SQL);
  const out: TableRowCount[] = [];
  for (const { schema, table } of tables.rows) {
    const result = await client.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${client.escapeIdentifier(schema)}.${client.escapeIdentifier(table)}`);
    out.push({ schema, table, rows: Number(result.rows[0]!.rows) });
  }
  return out;
}

/** Number of relations a restore could collide with: tables, views, sequences, ... in user schemas. */
export async function userRelationCount(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>(`
    SELECT count(*) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'`);
  return Number(result.rows[0]!.n);
}

export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (result.rowCount ?? 0) > 0;
}

export interface ServerVersion {
  /** e.g. "15.14 (Debian 15.14-0+deb12u1)" */
  text: string;
  /** server_version_num, e.g. 150014 */
  num: number;
  major: number;
}

export async function serverVersion(client: pg.Client): Promise<ServerVersion> {
  const text = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  const num = Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num);
  return { text, num, major: Math.floor(num / 10000) };
}
