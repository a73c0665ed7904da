import { readFileSync } from 'node:fs';
import pg from 'pg';
import { WORKLOAD_PACKAGES, ensureDebianPackages } from './debian.js';
import type { PostgresServer } from './postgres-server.js';

// The tenant database as ejabberd 23.01 needs it: the application role, its own database, and the
// multi-host SQL schema (new_sql_schema: true) that Debian ships. 23.01 cannot create its schema
// itself (update_sql_schema arrived in 23.10), so it is loaded before the first start, as the
// application role, which then owns every table.

export const DEBIAN_PG_SCHEMA = '/usr/share/ejabberd/sql/pg.new.sql';

export interface TenantDatabase {
  database: string;
  user: string;
  password: string;
  /** A client connected as the application role, TLS verified against the tenant CA. */
  connect(): Promise<pg.Client>;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<T>>;
}

export async function createEjabberdDatabase(server: PostgresServer, options: { database?: string; user?: string; password: string; schemaFile?: string }): Promise<TenantDatabase> {
  // The schema file comes with Debian's ejabberd: install it first, and read the file before
  // creating anything, so a missing file fails here and not half way through.
  const schemaFile = options.schemaFile ?? DEBIAN_PG_SCHEMA;
  if (schemaFile === DEBIAN_PG_SCHEMA) ensureDebianPackages(WORKLOAD_PACKAGES.ejabberd);
  const schema = readFileSync(schemaFile, 'utf8');
  const database = options.database ?? 'ejabberd';
  const user = options.user ?? 'ejabberd';
  const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
  await server.query(`CREATE ROLE ${ident(user)} LOGIN PASSWORD '${options.password.replace(/'/g, "''")}'`);
  await server.query(`CREATE DATABASE ${ident(database)} OWNER ${ident(user)} ENCODING 'UTF8'`);
  const connect = async () => {
    const client = new pg.Client(server.clientConfig({ user, password: options.password, database }));
    await client.connect();
    return client;
  };
  const client = await connect();
  try {
    await client.query(schema);
  } finally {
    await client.end();
  }
  return {
    database,
    user,
    password: options.password,
    connect,
    async query(sql, params) {
      const c = await connect();
      try {
        return await c.query(sql, params as unknown[]);
      } finally {
        await c.end();
      }
    },
  };
}
