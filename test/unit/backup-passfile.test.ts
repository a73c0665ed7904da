import { readFileSync, statSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { passfileLine, writePassfile } from '../../src/backup/passfile.js';

// pg_dump and pg_restore read the password from a libpq password file: libpq ignores the file when
// group or others may read it, and reads ':' and '\' in a field only escaped.

describe('the runner\'s libpq password file', () => {
  it('escapes ":" and "\\" and matches any host, port, database and user', () => {
    expect(passfileLine('a:b\\c')).toBe('*:*:*:*:a\\:b\\\\c\n');
    expect(() => passfileLine('two\nlines')).toThrow(/line break/);
  });

  it('is 0600 in a 0700 directory of its own, and gone once removed', () => {
    const passfile = writePassfile('s3cret');
    try {
      expect(statSync(passfile.path).mode & 0o777).toBe(0o600);
      expect(statSync(dirname(passfile.path)).mode & 0o777).toBe(0o700);
      expect(readFileSync(passfile.path, 'utf8')).toBe('*:*:*:*:s3cret\n');
    } finally {
      passfile.remove();
    }
    expect(existsSync(dirname(passfile.path))).toBe(false);
  });
});
