import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyPairPem } from '../../../src/render/index.js';
import { WORKLOAD_PACKAGES, ensureDebianPackages } from './debian.js';
import { freePort } from './ports.js';
import { stopProcessGroup } from './process-group.js';

// A hospital directory on this machine: Debian's OpenLDAP (slapd) with a CA of the test's own,
// Active Directory's shape where it matters to ejabberd (groups of names, and a memberOf attribute
// on each member kept by the memberof overlay), reads only for bound users. It listens on loopback
// with LDAPS, plain LDAP, or both, and logs every connection and operation (loglevel stats), so a
// test can see whether a bind ever arrived, and over what.

export const DIRECTORY_SUFFIX = 'dc=hospital,dc=test';
export const PEOPLE = `ou=people,${DIRECTORY_SUFFIX}`;
export const GROUPS = `ou=groups,${DIRECTORY_SUFFIX}`;
export const SERVICE_ACCOUNT_DN = `cn=svc-chat,ou=service,${DIRECTORY_SUFFIX}`;
export const CHAT_GROUP_DN = `cn=chat-users,${GROUPS}`;
export const ACCESS_FILTER = `(memberOf=${CHAT_GROUP_DN})`;

/**
 * Names a test directory's certificate carries: localhost, the name ejabberd dials, and this
 * machine's name, which OpenLDAP's own client tools check instead (they take the name 127.0.0.1
 * reverse-resolves to).
 */
export const DIRECTORY_CERT_NAMES = ['localhost', hostname()];

export interface SlapdOptions {
  /** Listen with LDAPS (TLS from the first byte) on a port of its own, with this certificate. */
  ldaps?: { certificate: KeyPairPem; caPem: string };
  /** Also (or only) listen with plain LDAP. */
  plain?: boolean;
  servicePassword: string;
}

export interface Slapd {
  ldapsPort?: number;
  plainPort?: number;
  /** Everything slapd logged (stats level: connections, TLS, binds, searches). */
  log(): string;
  /** Lines of the log that record a bind request (BIND dn=...). */
  binds(): string[];
  /** Runs an LDIF through ldapmodify as the directory's own administrator, over LDAPS. */
  modify(ldif: string): void;
  stop(): Promise<void>;
}

const ROOT_DN = `cn=admin,${DIRECTORY_SUFFIX}`;

function slapdConf(dir: string, rootPassword: string, tls?: { certFile: string; keyFile: string; caFile: string }): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'include /etc/ldap/schema/nis.schema',
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload memberof',
    `pidfile ${dir}/slapd.pid`,
    `argsfile ${dir}/slapd.args`,
    'loglevel stats',
    ...(tls ? [`TLSCACertificateFile ${tls.caFile}`, `TLSCertificateFile ${tls.certFile}`, `TLSCertificateKeyFile ${tls.keyFile}`] : []),
    'database mdb',
    `suffix "${DIRECTORY_SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${rootPassword}`,
    `directory ${dir}/db`,
    'overlay memberof',
    // Like a domain controller: passwords are only for binding, and reading needs a bound user.
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n');
}

function baseLdif(servicePassword: string): string {
  return `dn: ${DIRECTORY_SUFFIX}
objectClass: dcObject
objectClass: organization
o: Test Hospital
dc: hospital

dn: ou=people,${DIRECTORY_SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,${DIRECTORY_SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: ou=service,${DIRECTORY_SUFFIX}
objectClass: organizationalUnit
ou: service

dn: ${SERVICE_ACCOUNT_DN}
objectClass: person
cn: svc-chat
sn: svc-chat
userPassword: ${servicePassword}
`;
}

/** An LDIF that adds a person who may sign in with `password` (uid is the chat user name). */
export function personLdif(uid: string, password: string): string {
  return `dn: uid=${uid},${PEOPLE}
changetype: add
objectClass: inetOrgPerson
uid: ${uid}
cn: ${uid}
sn: ${uid}
userPassword: ${password}
`;
}

/** The chat group with these members (the memberof overlay then sets memberOf on each). */
export function chatGroupLdif(memberUids: string[]): string {
  return `dn: ${CHAT_GROUP_DN}
changetype: add
objectClass: groupOfNames
cn: chat-users
${memberUids.map((u) => `member: uid=${u},${PEOPLE}`).join('\n')}
`;
}

export function removeFromChatGroupLdif(uid: string): string {
  return `dn: ${CHAT_GROUP_DN}
changetype: modify
delete: member
member: uid=${uid},${PEOPLE}
`;
}

function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`slapd exited (${child.exitCode}):\n${log().slice(-4000)}`));
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`slapd did not listen on ${port}:\n${log().slice(-4000)}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export async function startSlapd(options: SlapdOptions): Promise<Slapd> {
  ensureDebianPackages(WORKLOAD_PACKAGES.directory);
  if (!options.ldaps && !options.plain) throw new Error('slapd needs at least one listener');
  const dir = mkdtempSync(join(tmpdir(), 'cto-slapd-'));
  mkdirSync(join(dir, 'db'));
  const rootPassword = `root-${Math.random().toString(36).slice(2)}`;
  let tls: { certFile: string; keyFile: string; caFile: string } | undefined;
  if (options.ldaps) {
    tls = { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.crt') };
    writeFileSync(tls.certFile, options.ldaps.certificate.certPem);
    writeFileSync(tls.keyFile, options.ldaps.certificate.keyPem, { mode: 0o600 });
    writeFileSync(tls.caFile, options.ldaps.caPem);
  }
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, slapdConf(dir, rootPassword, tls));
  // The base entries go straight into the database (slapadd, no server, no network).
  writeFileSync(join(dir, 'base.ldif'), baseLdif(options.servicePassword), { mode: 0o600 });
  const added = spawnSync('slapadd', ['-f', conf, '-l', join(dir, 'base.ldif')], { encoding: 'utf8' });
  if (added.status !== 0) throw new Error(`slapadd failed: ${added.stderr}`);

  const ldapsPort = options.ldaps ? await freePort() : undefined;
  const plainPort = options.plain ? await freePort() : undefined;
  const urls = [...(ldapsPort ? [`ldaps://127.0.0.1:${ldapsPort}/`] : []), ...(plainPort ? [`ldap://127.0.0.1:${plainPort}/`] : [])];
  let output = '';
  // -d 256 (stats) keeps slapd in the foreground and logs to stderr.
  const child = spawn('slapd', ['-f', conf, '-h', urls.join(' '), '-d', '256'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const log = () => output;
  const stop = async () => {
    await stopProcessGroup(child, 'SIGTERM', 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of [ldapsPort, plainPort]) if (port) await waitForPort(port, child, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ...(ldapsPort ? { ldapsPort } : {}),
    ...(plainPort ? { plainPort } : {}),
    log,
    binds: () => output.split('\n').filter((l) => / BIND dn=/.test(l)),
    modify(ldif) {
      if (!ldapsPort || !tls) throw new Error('modify needs the LDAPS listener');
      // Over LDAPS, verifying the test CA and the name localhost, like ejabberd.
      const r = spawnSync('ldapmodify', ['-H', `ldaps://localhost:${ldapsPort}`, '-x', '-D', ROOT_DN, '-w', rootPassword], {
        input: ldif,
        encoding: 'utf8',
        env: { ...process.env, LDAPTLS_CACERT: tls.caFile, LDAPTLS_REQCERT: 'demand' },
      });
      if (r.status !== 0) throw new Error(`ldapmodify failed (${r.status}): ${r.stderr}`);
    },
    stop,
  };
}
