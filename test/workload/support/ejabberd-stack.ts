import { randomBytes } from 'node:crypto';
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
  nodeName(n: number): string;
  stop(): Promise<void>;
}

export interface EjabberdStackOptions {
  peerCount?: number;
  /** The SQL schema to load (default: Debian's pg.new.sql); tests of a failing setup point it elsewhere. */
  schemaFile?: string;
}

export async function startEjabberdStack(tenant: ChatTenant, options: EjabberdStackOptions = {}): Promise<EjabberdStack> {
  // Everything the stack runs is installed before anything starts (the schema file is ejabberd's).
  ensureDebianPackages([...WORKLOAD_PACKAGES.postgres, ...WORKLOAD_PACKAGES.ejabberd]);
  const now = new Date();
  const ca = await issueTenantCa(tenant.metadata.name, now);
  // ejabberd checks the database certificate against the address it dials (ejabberd#4180): name 127.0.0.1 too.
  const postgresLeaf = await issueLeaf(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' }, now);
  // The same names the operator puts in the messaging certificate.
  const xmppLeaf = await issueLeaf(ca, { commonName: tenant.spec.xmppDomains[0]!, dnsNames: messagingDnsNames(tenant, defaultSettings()), usage: 'server' }, now);
  const postgres = await startPostgres({ tls: { ca: ca.certPem, server: postgresLeaf } });
  return stopIfLaterStepsFail(
    () => postgres.stop(),
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
        nodeName: (n) => `ejabberd@127.0.0.${n}`,
        async addNode(n, overrides = {}) {
          const peers = overrides.peers ?? Array.from({ length: options.peerCount ?? 1 }, (_, i) => stack.nodeName(i + 2));
          const node = await startEjabberdNode({
            tenant,
            address: `127.0.0.${n}`,
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
          await postgres.stop();
        },
      };
      return stack;
    },
  );
}
