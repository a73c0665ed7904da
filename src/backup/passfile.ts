import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// pg_dump and pg_restore get the password as a libpq password file (PGPASSFILE), not as PGPASSWORD:
// an environment variable is readable in /proc/<pid>/environ and inherited by whatever the tool
// starts. libpq ignores a password file that group or others may read, so this one is 0600 in a
// 0700 directory of its own (in the CronJob, /tmp is memory-backed), removed when the tool is done.

export interface Passfile {
  path: string;
  remove(): void;
}

/** One line that matches any host, port, database and user; ':' and '\' escaped as libpq reads them. */
export function passfileLine(password: string): string {
  if (/[\r\n]/.test(password)) throw new Error('the database password contains a line break, which a libpq password file cannot hold');
  return `*:*:*:*:${password.replace(/[\\:]/g, (c) => `\\${c}`)}\n`;
}

export function writePassfile(password: string): Passfile {
  const dir = mkdtempSync(join(tmpdir(), 'cto-pgpass-'));
  const path = join(dir, 'pgpass');
  writeFileSync(path, passfileLine(password), { mode: 0o600 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
