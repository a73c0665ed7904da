import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

// Installs Debian packages the workload tests run for real (PostgreSQL, ejabberd). Idempotent: a
// package that is installed is left alone. Services the packages would start are kept from
// starting (policy-rc.d), because the tests start their own instances on loopback ports.

/**
 * What the workload tests run, per server: PostgreSQL 15, and ejabberd 23.01 with its PostgreSQL
 * driver (a Suggests of ejabberd, not a Depends). The project's global setup installs all of them;
 * each support module installs its own again (a no-op then) before it first uses one, so a file run
 * on its own, or a module used from elsewhere, never reads a file of a package that is not there.
 */
export const WORKLOAD_PACKAGES = {
  postgres: ['postgresql'],
  ejabberd: ['ejabberd', 'erlang-p1-pgsql'],
  /** OpenLDAP's server and client tools: the hospital directory of the identity tests. */
  directory: ['slapd', 'ldap-utils'],
} as const;

export function missingDebianPackages(packages: readonly string[]): string[] {
  return packages.filter((p) => spawnSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8' }).stdout.trim() !== 'install ok installed');
}

export function ensureDebianPackages(packages: readonly string[], log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
  const missing = missingDebianPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`Debian packages missing: ${missing.join(', ')}. Install them with: sudo apt-get install -y ${missing.join(' ')}`);
  log(`[setup] installing Debian packages: ${missing.join(', ')}`);
  const policy = '/usr/sbin/policy-rc.d';
  const hadPolicy = existsSync(policy);
  if (!hadPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } finally {
    if (!hadPolicy) rmSync(policy, { force: true });
  }
}
