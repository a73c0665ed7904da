import yaml from 'js-yaml';
import type { ChatTenant } from '../api/index.js';
import { names, type KubeObject } from '../render/index.js';

// The configuration that meets each safeguard, read from the objects the operator renders (or finds)
// for a tenant: what an auditor can check against the running system. Only named settings are
// picked out; nothing is copied wholesale, so no password, key or cookie can reach the report.

export interface ListenerEvidence {
  port: number;
  module: string;
  /** How the listener protects the connection. */
  transport: 'STARTTLS required' | 'TLS' | 'plaintext';
}

export interface EjabberdEvidence {
  authMethods: string[];
  passwordFormat?: string;
  scramHash?: string;
  disabledSaslMechanisms: string[];
  /** access_rules.register as configured; `{ deny: all }` means no in-band registration. */
  registration?: string;
  admins: string[];
  idleTimeoutMinutes?: number;
  /** Identity source, access group (filter) and leaver window, read from ejabberd.yml. */
  identity: IdentityEvidence;
  adminAudit: boolean;
  loglevel?: string;
  protocolOptions: string[];
  ciphers?: string;
  s2sUseStarttls?: string;
  federation: string;
  listeners: ListenerEvidence[];
  databaseTls: { ssl: boolean; verifyServer: boolean };
}

export interface IdentityEvidence {
  source: 'Internal' | 'Directory';
  /** Directory: servers with port, LDAPS and verification as configured; never the bind account's password. */
  directory?: { servers: string[]; port?: number; encryption: string; verify: string; accessFilter?: string; cacheSeconds: number; sessionCheckSeconds?: number };
}

function identityEvidence(c: Obj): IdentityEvidence {
  if (![c['auth_method'] ?? []].flat().includes('ldap')) return { source: 'Internal' };
  const sweep = (c['modules'] ?? {})['mod_directory_leavers'];
  return {
    source: 'Directory',
    directory: {
      servers: [c['ldap_servers'] ?? []].flat().map(String),
      ...(typeof c['ldap_port'] === 'number' ? { port: c['ldap_port'] } : {}),
      encryption: String(c['ldap_encrypt'] ?? 'none'),
      verify: String(c['ldap_tls_verify'] ?? 'false'),
      ...(typeof c['ldap_filter'] === 'string' ? { accessFilter: c['ldap_filter'] } : {}),
      // ejabberd's default cache lifetime is an hour.
      cacheSeconds: c['auth_use_cache'] === false ? 0 : typeof c['auth_cache_life_time'] === 'number' ? c['auth_cache_life_time'] : 3600,
      ...(typeof sweep?.['interval'] === 'number' ? { sessionCheckSeconds: sweep['interval'] } : {}),
    },
  };
}

export interface PostgresEvidence {
  provider: string;
  hba: string[];
  /** Selected security parameters (TLS, password encryption, logging). */
  parameters: Record<string, string>;
  dataChecksums: boolean;
  storageClass?: string;
}

export interface NetworkPolicyEvidence {
  name: string;
  /** The pods it selects, as label=value pairs, or "every pod". */
  selects: string;
  directions: string[];
}

export interface BackupEvidence {
  schedule?: string;
  timeZone?: string;
  suspended: boolean;
  retention: string;
  target: string;
  storageClass?: string;
  databaseSslMode?: string;
  keySecret: string;
}

export interface TenantConfiguration {
  namespace: { name: string; podSecurity: Record<string, string> };
  ejabberd?: EjabberdEvidence;
  postgres?: PostgresEvidence;
  networkPolicies: NetworkPolicyEvidence[];
  backup?: BackupEvidence;
  clientService?: { type: string; ports: number[] };
}

/** Parameters of PostgreSQL that bear on a safeguard; the rest of postgresql.conf is not evidence. */
const POSTGRES_EVIDENCE_PARAMETERS = ['ssl', 'ssl_min_protocol_version', 'password_encryption', 'log_connections', 'log_disconnections', 'log_statement', 'log_line_prefix'];

type Obj = Record<string, any>;

const find = (objects: readonly KubeObject[], kind: string, name: string): Obj | undefined => objects.find((o) => o.kind === kind && o.metadata.name === name) as Obj | undefined;

function secretFile(objects: readonly KubeObject[], secretName: string, key: string): string | undefined {
  const secret = find(objects, 'Secret', secretName);
  const encoded = (secret?.['data'] as Record<string, string> | undefined)?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, 'base64').toString('utf8');
  return (secret?.['stringData'] as Record<string, string> | undefined)?.[key];
}

/** An ejabberd access rule as it reads in ejabberd.yml: `{ deny: all }` becomes "deny all". */
function ruleText(rule: unknown): string | undefined {
  if (rule === undefined) return undefined;
  if (typeof rule === 'string') return rule;
  if (rule && typeof rule === 'object' && !Array.isArray(rule)) return Object.entries(rule).map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
  return JSON.stringify(rule);
}

function listenerTransport(listener: Obj): ListenerEvidence['transport'] {
  if (listener['tls'] === true) return 'TLS';
  if (listener['starttls_required'] === true) return 'STARTTLS required';
  return 'plaintext';
}

export function ejabberdEvidence(ejabberdYaml: string): EjabberdEvidence {
  const c = (yaml.load(ejabberdYaml) ?? {}) as Obj;
  const modules = (c['modules'] ?? {}) as Obj;
  const timeout = modules['mod_idle_logoff']?.['timeout'];
  const admins = c['acl']?.['admin']?.['user'];
  return {
    authMethods: [c['auth_method'] ?? []].flat().map(String),
    ...(c['auth_password_format'] !== undefined ? { passwordFormat: String(c['auth_password_format']) } : {}),
    ...(c['auth_scram_hash'] !== undefined ? { scramHash: String(c['auth_scram_hash']) } : {}),
    disabledSaslMechanisms: [c['disable_sasl_mechanisms'] ?? []].flat().map(String),
    ...(c['access_rules']?.['register'] !== undefined ? { registration: ruleText(c['access_rules']['register'])! } : {}),
    admins: [admins ?? []].flat().map(String),
    ...(typeof timeout === 'number' && timeout > 0 ? { idleTimeoutMinutes: Math.ceil(timeout / 60) } : {}),
    identity: identityEvidence(c),
    adminAudit: 'mod_admin_audit' in modules,
    ...(c['loglevel'] !== undefined ? { loglevel: String(c['loglevel']) } : {}),
    protocolOptions: [c['c2s_protocol_options'] ?? []].flat().map(String),
    ...(c['c2s_ciphers'] !== undefined ? { ciphers: String(c['c2s_ciphers']) } : {}),
    ...(c['s2s_use_starttls'] !== undefined ? { s2sUseStarttls: String(c['s2s_use_starttls']) } : {}),
    federation: ruleText(c['access_rules']?.['s2s']) ?? 'not configured',
    listeners: ((c['listen'] ?? []) as Obj[]).map((l) => ({ port: Number(l['port']), module: String(l['module']), transport: listenerTransport(l) })),
    databaseTls: { ssl: c['sql_ssl'] === true, verifyServer: c['sql_ssl_verify'] === true },
  };
}

function parsePostgresqlConf(conf: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of conf.split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return out;
}

const pick = (params: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(POSTGRES_EVIDENCE_PARAMETERS.filter((k) => params[k] !== undefined).map((k) => [k, String(params[k])]));

function postgresEvidence(tenant: ChatTenant, objects: readonly KubeObject[]): PostgresEvidence | undefined {
  const cluster = find(objects, 'Cluster', names.database.cluster);
  if (cluster) {
    const spec = cluster['spec'] as Obj;
    // CloudNativePG turns ssl on and puts its own rules (local, replication) before these.
    return {
      provider: 'cloudnative-pg',
      hba: [...(spec['postgresql']?.['pg_hba'] ?? [])].map(String),
      parameters: { ssl: 'on (managed by CloudNativePG)', ...pick(spec['postgresql']?.['parameters'] ?? {}) },
      dataChecksums: spec['bootstrap']?.['initdb']?.['dataChecksums'] === true,
      ...(spec['storage']?.['storageClass'] ? { storageClass: String(spec['storage']['storageClass']) } : {}),
    };
  }
  const hba = secretFile(objects, names.database.configMap, 'pg_hba.conf');
  const conf = secretFile(objects, names.database.configMap, 'postgresql.conf');
  if (hba === undefined && conf === undefined) return undefined;
  const sts = find(objects, 'StatefulSet', names.database.statefulSet);
  const env = (sts?.['spec']?.['template']?.['spec']?.['containers']?.[0]?.['env'] ?? []) as Array<{ name: string; value?: string }>;
  return {
    provider: tenant.spec.database.provider,
    hba: (hba ?? '').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')),
    parameters: pick(parsePostgresqlConf(conf ?? '')),
    dataChecksums: env.some((e) => e.name === 'POSTGRES_INITDB_ARGS' && (e.value ?? '').includes('--data-checksums')),
    storageClass: tenant.spec.database.storage.storageClassName,
  };
}

function selectorText(selector: Obj | undefined): string {
  const labels = Object.entries((selector?.['matchLabels'] ?? {}) as Record<string, string>);
  return labels.length === 0 ? 'every pod' : labels.map(([k, v]) => `${k}=${v}`).join(', ');
}

function backupEvidence(tenant: ChatTenant, objects: readonly KubeObject[]): BackupEvidence | undefined {
  const cronJob = find(objects, 'CronJob', names.backup.cronJob);
  if (!cronJob) return undefined;
  const { backup } = tenant.spec;
  const env = (cronJob['spec']?.['jobTemplate']?.['spec']?.['template']?.['spec']?.['containers']?.[0]?.['env'] ?? []) as Array<{ name: string; value?: string }>;
  const retention = [backup.retention.count !== undefined ? `at most ${backup.retention.count} backups` : undefined, backup.retention.days !== undefined ? `at most ${backup.retention.days} days` : undefined].filter(Boolean).join(', ');
  const s3 = backup.target.s3;
  const pvc = find(objects, 'PersistentVolumeClaim', names.backup.pvc);
  return {
    schedule: String(cronJob['spec']['schedule']),
    ...(cronJob['spec']['timeZone'] ? { timeZone: String(cronJob['spec']['timeZone']) } : {}),
    suspended: cronJob['spec']['suspend'] === true,
    retention,
    target: s3 ? `S3 bucket ${s3.bucket} at ${s3.endpoint}` : `PersistentVolumeClaim ${names.backup.pvc}`,
    ...(pvc?.['spec']?.['storageClassName'] ? { storageClass: String(pvc['spec']['storageClassName']) } : {}),
    ...(env.find((e) => e.name === 'PGSSLMODE')?.value ? { databaseSslMode: env.find((e) => e.name === 'PGSSLMODE')!.value! } : {}),
    keySecret: names.backup.keySecret,
  };
}

export function tenantConfiguration(tenant: ChatTenant, objects: readonly KubeObject[]): TenantConfiguration {
  const namespace = objects.find((o) => o.kind === 'Namespace');
  const podSecurity = Object.fromEntries(Object.entries(namespace?.metadata.labels ?? {}).filter(([k]) => k.startsWith('pod-security.kubernetes.io/')));
  const ejabberdYaml = secretFile(objects, names.messaging.configMap, 'ejabberd.yml');
  const service = find(objects, 'Service', names.messaging.clientService);
  const postgres = postgresEvidence(tenant, objects);
  const backup = backupEvidence(tenant, objects);
  return {
    namespace: { name: namespace?.metadata.name ?? tenant.metadata.name, podSecurity },
    ...(ejabberdYaml !== undefined ? { ejabberd: ejabberdEvidence(ejabberdYaml) } : {}),
    ...(postgres ? { postgres } : {}),
    networkPolicies: objects
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => {
        const spec = o['spec'] as Obj;
        return { name: o.metadata.name, selects: selectorText(spec['podSelector']), directions: [...(spec['policyTypes'] ?? [])].map(String) };
      }),
    ...(backup ? { backup } : {}),
    ...(service ? { clientService: { type: String(service['spec']['type'] ?? 'ClusterIP'), ports: ((service['spec']['ports'] ?? []) as Obj[]).map((p) => Number(p['port'])) } } : {}),
  };
}
