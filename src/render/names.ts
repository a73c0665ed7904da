// Names of every object a tenant owns, in one place: the renderer, the controller (observe, prune,
// status) and the tests all refer to objects through these.

export const names = {
  messaging: {
    statefulSet: 'ejabberd',
    headlessService: 'ejabberd-headless',
    clientService: 'ejabberd',
    configMap: 'ejabberd-config',
    pdb: 'ejabberd',
    serviceAccount: 'ejabberd',
    cookieSecret: 'ejabberd-erlang-cookie',
    adminSecret: 'xmpp-admin-credentials',
    tlsSecret: 'ejabberd-tls',
    archivePurgeCronJob: 'ejabberd-archive-purge',
  },
  database: {
    cluster: 'postgres',
    statefulSet: 'postgres',
    service: 'postgres',
    /** CloudNativePG names its read-write service <cluster>-rw. */
    cnpgReadWriteService: 'postgres-rw',
    configMap: 'postgres-config',
    serviceAccount: 'postgres',
    superuserSecret: 'postgres-superuser',
    appSecret: 'postgres-app',
    tlsSecret: 'postgres-tls',
    clientTlsSecret: 'postgres-client-tls',
    pdb: 'postgres',
    appUser: 'ejabberd',
    appDatabase: 'ejabberd',
    /** The messaging server's schema step (src/render/postgres/schema.ts); the Job name gets a hash suffix. */
    schemaJob: 'ejabberd-sql-schema',
    schemaConfigMap: 'ejabberd-sql-schema',
  },
  backup: {
    cronJob: 'postgres-backup',
    pvc: 'postgres-backups',
    keySecret: 'backup-encryption-key',
    serviceAccount: 'backup',
  },
  tls: {
    caSecret: 'tenant-ca',
  },
  namespace: {
    quota: 'tenant-quota',
    limitRange: 'tenant-limits',
  },
  network: {
    defaultDeny: 'default-deny',
    allowDns: 'allow-dns',
    messagingPeers: 'ejabberd-cluster',
    messagingClients: 'ejabberd-clients',
    databaseFromApps: 'postgres-from-tenant',
    databaseFromCnpg: 'postgres-from-cloudnative-pg',
    /** Prometheus may scrape each role on its own metrics port only. */
    monitoringMessaging: 'ejabberd-metrics',
    monitoringDatabase: 'postgres-metrics',
    /** Rendered only with spec.messaging.federation. */
    messagingFederation: 'ejabberd-federation',
    messagingEgress: 'ejabberd-egress',
    archivePurgeEgress: 'ejabberd-archive-purge-egress',
    messagingFromArchivePurge: 'ejabberd-from-archive-purge',
    backupEgress: 'backup-egress',
    schemaEgress: 'ejabberd-sql-schema-egress',
  },
} as const;

export const ports = {
  xmppClientStartTls: 5222,
  xmppClientDirectTls: 5223,
  xmppServer: 5269,
  https: 5443,
  epmd: 4369,
  /** Erlang distribution is pinned to one port so a network policy can allow it. */
  erlangDistribution: 9100,
  ejabberdMetrics: 5281,
  postgres: 5432,
  /** CloudNativePG instance manager status port. */
  cnpgStatus: 8000,
  postgresExporter: 9187,
  dns: 53,
} as const;
