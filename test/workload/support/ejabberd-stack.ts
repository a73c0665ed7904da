import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatTenant } from '../../../src/api/index.js';
import { issueLeaf, issueTenantCa } from '../../../src/controller/certificates.js';
import { adminJids, messagingDnsNames, type KeyPairPem } from '../../../src/render/index.js';
import { defaultSettings } from '../../../src/api/index.js';
import { startPostgres, type PostgresServer } from './postgres-server.js';
import { createEjabberdDatabase, type TenantDatabase } from './ejabberd-schema.js';
import { freePort } from './ports.js';
import { startEjabberdNode, type EjabberdNode } from './ejabberd-node.js';
import { WORKLOAD_PACKAGES, ensureDebianPackages } from './debian.js';
import { stopIfLaterStepsFail } from './setup-steps.js';
import { erlangNodeHost } from '../../../src/render/ejabberd/pod-layout.js';
import { startTcpRelay, type TcpRelay } from './tcp-relay.js';

// One tenant's messaging stack on this machine: its CA, its PostgreSQL (TLS + SCRAM only) with the
// ejabberd schema, the secret material a pod would find in its Secrets, and as many ejabberd nodes as
// a test asks for, each on its own loopback address, all clustered through the same peer list.

export const credential = () => randomBytes(24).toString('base64url');

export interface NodeOverrides {
  /** The CA the node trusts for PostgreSQL (default: the tenant CA). */
  databaseCaPem?: string;
  /** The name the node dials PostgreSQL by (default: localhost, the name on its certificate). */
  databaseHost?: string;
  /** Return once started, without waiting for ready (for nodes that must not become ready). */
  waitReady?: boolean;
  /** Peers to try instead of the stack's (an empty list keeps the node out of any cluster). */
  peers?: string[];
  /** Certificate and CA on TLS distribution instead of the tenant's (a node of another tenant). */
  distributionTls?: { ca: string; identity: KeyPairPem };
  /** The directory's CA and bind account, for a directory tenant. */
  directory?: { caPem: string; bindDN: string; bindPassword: string };
  /** Another spec for this node (same domains and database), e.g. a directory on another port. */
  tenant?: ChatTenant;
  /** See EjabberdNodeOptions.editEjabberdYml. */
  editEjabberdYml?: (rendered: string) => string;
}

export interface EjabberdStack {
  tenant: ChatTenant;
  ca: KeyPairPem;
  postgres: PostgresServer;
  db: TenantDatabase;
  cookie: string;
  distributionPort: number;
  adminPasswords: Record<string, string>;
  nodes: EjabberdNode[];
  /** Starts a node on 127.0.0.<n>; the peer list names nodes 2..(1 + peerCount). */
  addNode(n: number, overrides?: NodeOverrides): Promise<EjabberdNode>;
  /** ejabberd@<pod host name>, the name node n has (as pod ordinal n would). */
  nodeName(n: number): string;
  /** The hosts file every node's processes see as /etc/hosts. */
  hostsFile: string;
  /** With relayDistribution: the relay in front of node n's distribution port. */
  relays: Map<number, TcpRelay>;
  stop(): Promise<void>;
}

export interface EjabberdStackOptions {
  peerCount?: number;
  /** The SQL schema to load (default: Debian's pg.new.sql); tests of a failing setup point it elsewhere. */
  schemaFile?: string;
  /**
   * Puts a recording TCP relay (on 127.0.0.<n + 100>) in front of each node's distribution port and
   * resolves the node's host name to it, so every distribution connection to the node is captured.
   */
  relayDistribution?: boolean;
}

/** Node numbers a stack can name (loopback addresses 127.0.0.2 to 127.0.0.20). */
const NODE_NUMBERS = Array.from({ length: 19 }, (_, i) => i + 2);
const relayAddress = (n: number) => `127.0.0.${n + 100}`;

export async function startEjabberdStack(tenant: ChatTenant, options: EjabberdStackOptions = {}): Promise<EjabberdStack> {
  // Everything the stack runs is installed before anything starts (the schema file is ejabberd's).
  ensureDebianPackages([...WORKLOAD_PACKAGES.postgres, ...WORKLOAD_PACKAGES.ejabberd]);
  const now = new Date();
  const ca = await issueTenantCa(tenant.metadata.name, now);
  // ejabberd checks the database certificate against the address it dials (ejabberd#4180): name 127.0.0.1 too.
  const postgresLeaf = await issueLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' }, now);
  // The same names and usages the operator puts in the messaging certificate.
  const xmppLeaf = await issueLeaf(ca, { commonName: tenant.spec.xmppDomains[0]!, dnsNames: messagingDnsNames(tenant, defaultSettings()), usage: 'peer' }, now);
  const hostsDir = mkdtempSync(join(tmpdir(), 'cto-hosts-'));
  const hostsFile = join(hostsDir, 'hosts');
  const nodeHost = (n: number) => erlangNodeHost(tenant, defaultSettings(), n);
  writeFileSync(
    hostsFile,
    `${readFileSync('/etc/hosts', 'utf8')}\n# ejabberd workload stack\n${NODE_NUMBERS.map((n) => `${options.relayDistribution ? relayAddress(n) : `127.0.0.${n}`} ${nodeHost(n)}`).join('\n')}\n`,
    { mode: 0o644 },
  );
  const postgres = await startPostgres({ tls: { ca: ca.certPem, server: postgresLeaf } });
  return stopIfLaterStepsFail(
    async () => {
      await postgres.stop();
      rmSync(hostsDir, { recursive: true, force: true });
    },
    async () => {
      const db = await createEjabberdDatabase(postgres, { password: credential(), ...(options.schemaFile ? { schemaFile: options.schemaFile } : {}) });
      const stack: EjabberdStack = {
        tenant,
        ca,
        postgres,
        db,
        cookie: randomBytes(20).toString('hex'),
        distributionPort: await freePort(),
        adminPasswords: Object.fromEntries(adminJids(tenant).map((jid) => [jid, credential()])),
        nodes: [],
        nodeName: (n) => `ejabberd@${nodeHost(n)}`,
        hostsFile,
        relays: new Map(),
        async addNode(n, overrides = {}) {
          if (options.relayDistribution && !stack.relays.has(n)) {
            stack.relays.set(n, await startTcpRelay({ host: relayAddress(n), port: stack.distributionPort }, { host: `127.0.0.${n}`, port: stack.distributionPort }));
          }
          const peers = overrides.peers ?? Array.from({ length: options.peerCount ?? 1 }, (_, i) => stack.nodeName(i + 2));
          const node = await startEjabberdNode({
            tenant: overrides.tenant ?? tenant,
            ...(overrides.editEjabberdYml ? { editEjabberdYml: overrides.editEjabberdYml } : {}),
            address: `127.0.0.${n}`,
            hostName: nodeHost(n),
            hostsFile,
            ...(overrides.distributionTls ? { distributionTls: overrides.distributionTls } : {}),
            ...(overrides.directory ? { directory: overrides.directory } : {}),
            distributionPort: stack.distributionPort,
            peers,
            cookie: stack.cookie,
            tls: { ca: ca.certPem, server: xmppLeaf },
            database: { host: overrides.databaseHost ?? 'localhost', port: postgres.port, database: stack.db.database, user: stack.db.user, password: stack.db.password, caPem: overrides.databaseCaPem ?? ca.certPem },
            adminPasswords: stack.adminPasswords,
            waitReady: overrides.waitReady ?? true,
          });
          stack.nodes.push(node);
          return node;
        },
        async stop() {
          for (const node of stack.nodes.reverse()) await node.dispose();
          for (const relay of stack.relays.values()) await relay.close();
          await postgres.stop();
          rmSync(hostsDir, { recursive: true, force: true });
        },
      };
      return stack;
    },
  );
}
