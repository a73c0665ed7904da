import { chmodSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { startEjabberdStack } from './support/ejabberd-stack.js';

// A setup that fails half way must stop what it had already started. On a fresh machine the
// ejabberd stack once started PostgreSQL, then failed to read the ejabberd schema (the package was
// not installed yet): the caller never got the stack, its afterAll had nothing to stop, and the
// server outlived the run. Here the schema step fails on purpose, in a temporary directory of the
// test's own, and no process may be left that runs from, or names, that directory.

/** Processes whose command line names `dir` or whose working directory lies in it (PostgreSQL's is its data directory). */
function processesIn(dir: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        /* not ours to read, or gone */
      }
      if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push({ pid: Number(entry), cmdline });
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}

async function settled(dir: string, timeoutMs = 10_000): Promise<Array<{ pid: number; cmdline: string }>> {
  const deadline = Date.now() + timeoutMs;
  let left = processesIn(dir);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = processesIn(dir);
  }
  return left;
}

describe('a setup step that fails', () => {
  it('the ejabberd stack stops the PostgreSQL it had started when its schema step throws', async () => {
    // Every temporary directory the stack makes (tmpdir() reads TMPDIR on each call) lands in here.
    const root = mkdtempSync(join(tmpdir(), 'cto-setup-failure-'));
    chmodSync(root, 0o755); // PostgreSQL runs as the postgres user and must reach its directory
    const savedTmpdir = process.env['TMPDIR'];
    process.env['TMPDIR'] = root;
    try {
      const started = startEjabberdStack(tenantFixture('setup-failure', minimalSpec()), { schemaFile: join(root, 'no-such-schema.sql') });
      await expect(started).rejects.toThrow(/ENOENT.*no-such-schema\.sql/);
      expect(await settled(root), 'processes left running by the failed setup').toEqual([]);
      expect(readdirSync(root), 'directories left by the failed setup').toEqual([]);
    } finally {
      if (savedTmpdir === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = savedTmpdir;
      // Whatever the outcome, nothing this test caused may outlive it.
      for (const { pid } of processesIn(root)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
