/**
 * Vitest global setup of the workload tests: installs the Debian packages they run (PostgreSQL,
 * ejabberd, OpenLDAP) before any test file is even imported, so nothing can read a file of a package that is
 * not installed yet, whichever file runs first. The support modules install their own packages
 * again before they use them (a dpkg query when present), for a file run by another project.
 */
import { WORKLOAD_PACKAGES, ensureDebianPackages } from './support/debian.js';

export default function setup(): void {
  ensureDebianPackages([...WORKLOAD_PACKAGES.postgres, ...WORKLOAD_PACKAGES.ejabberd, ...WORKLOAD_PACKAGES.directory], (line) => console.log(line));
}
