import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES, defaultSettings } from '../../src/api/index.js';
import { runnerConfigFromEnv } from '../../src/cli/backup.js';
import { DirectoryStore } from '../../src/backup/targets/pvc.js';
import { S3Store } from '../../src/backup/targets/s3.js';
import { backupEnv, renderBackupCronJob } from '../../src/render/backup.js';
import { ANNOTATION_RETAIN, names, placeholderMaterial, renderTenant, type KubeObject } from '../../src/render/index.js';
import { cloudNativePGHbaRules, renderPgHba } from '../../src/render/postgres/config.js';
import { renderCloudNativePGCluster } from '../../src/render/postgres/cnpg.js';
import { applySchemaSql, renderSchemaStep } from '../../src/render/postgres/schema.js';
import { initScript, renderStandaloneConfigSecret, renderStandalonePostgres } from '../../src/render/postgres/standalone.js';
import { podSpecsOf, restrictedViolations } from '../support/pod-security.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

const settings = defaultSettings();
const standalone = tenantFixture('clinic', minimalSpec({ database: { provider: 'standalone', storage: { storageClassName: 'encrypted-ssd', size: '20Gi' } } }));
const cnpgTenant = (instances?: number) => tenantFixture('clinic', minimalSpec({ database: { provider: 'cloudnative-pg', ...(instances ? { instances } : {}), storage: { storageClassName: 'encrypted-ssd' } } }));
type Any = Record<string, any>;
const decode = (secret: KubeObject, key: string) => Buffer.from((secret['data'] as Record<string, string>)[key]!, 'base64').toString('utf8');

describe('standalone PostgreSQL', () => {
  const config = renderStandaloneConfigSecret(standalone);
  const [service, sts] = renderStandalonePostgres(standalone, settings, config) as unknown as [Any, Any];
  const pod = sts.spec.template.spec;
  const container = pod.containers[0];

  it('runs the pinned official image as uid 999, Pod Security restricted, read-only root', () => {
    expect(container.image).toBe(`docker.io/library/postgres:${DEFAULT_IMAGES.postgresStandalone.tag}`);
    expect(DEFAULT_IMAGES.postgresStandalone.tag).toMatch(/^\d+\.\d+/);
    expect(pod.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 999, runAsNonRoot: true });
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(restrictedViolations(pod)).toEqual([]);
  });

  it('keeps data in a PGDATA subdirectory of a retained PVC on the tenant storage class; the rest writable only in emptyDirs', () => {
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'encrypted-ssd', resources: { requests: { storage: '20Gi' } } });
    const pgdata = container.env.find((e: Any) => e.name === 'PGDATA').value as string;
    const dataMount = container.volumeMounts.find((m: Any) => m.name === 'data').mountPath as string;
    expect(pgdata.startsWith(`${dataMount}/`)).toBe(true);
    const writable = container.volumeMounts.filter((m: Any) => !m.readOnly).map((m: Any) => m.mountPath).sort();
    expect(writable).toEqual(['/tmp', '/var/lib/postgresql/data', '/var/run/postgresql']);
    for (const name of ['run', 'tmp']) expect(pod.volumes.find((v: Any) => v.name === name).emptyDir).toBeDefined();
  });

  it('mounts the key so that kubelet + fsGroup make it root:999 0440, which PostgreSQL accepts and can read', () => {
    const tls = pod.volumes.find((v: Any) => v.name === 'tls');
    expect(tls.secret).toEqual({ secretName: names.database.tlsSecret, defaultMode: 0o440 });
  });

  it('configures TLS 1.2+ with the tenant certificate and SCRAM, and a pg_hba that admits only hostssl + SCRAM', () => {
    const conf = decode(config, 'postgresql.conf');
    for (const line of ["ssl = on", 'ssl_min_protocol_version = TLSv1.2', 'password_encryption = scram-sha-256', "ssl_cert_file = '/etc/postgresql-tls/tls.crt'", "ssl_key_file = '/etc/postgresql-tls/tls.key'"]) expect(conf).toContain(line);
    const rules = renderPgHba().split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/));
    const accepting = rules.filter((r) => r[r.length - 1] !== 'reject');
    expect(accepting).toEqual([['local', 'all', 'postgres', 'peer'], ['hostssl', 'all', 'all', '0.0.0.0/0', 'scram-sha-256'], ['hostssl', 'all', 'all', '::/0', 'scram-sha-256']]);
    expect(rules.at(-1)).toEqual(['host', 'all', 'all', '::/0', 'reject']);
  });

  it('creates the messaging role with no privilege beyond logging in and owning its database', () => {
    expect(initScript()).toContain('LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS');
    expect(initScript()).toContain("REVOKE ALL ON DATABASE");
  });

  it('gets both passwords as files of a projected Secret volume, readable by the server\'s group only', () => {
    const env = Object.fromEntries(container.env.map((e: Any) => [e.name, e.value]));
    const dir = container.volumeMounts.find((m: Any) => m.name === 'credentials').mountPath;
    expect(env).toMatchObject({ POSTGRES_PASSWORD_FILE: `${dir}/superuser-password`, APP_PASSWORD_FILE: `${dir}/app-password` });
    const volume = pod.volumes.find((v: Any) => v.name === 'credentials');
    expect(volume.projected.defaultMode).toBe(0o440);
    expect(volume.projected.sources.map((s: Any) => s.secret.name)).toEqual([names.database.superuserSecret, names.database.appSecret]);
    // psql reads the file itself (\set with backquotes): the password is on no command line either.
    expect(initScript()).toContain("\\set app_password `cat :'app_password_file'`");
  });

  it('probes with pg_isready over the Unix socket, and a Service on 5432', () => {
    expect(container.readinessProbe.exec.command).toEqual(['pg_isready', '-h', '/var/run/postgresql', '-p', '5432', '-U', 'postgres', '-d', 'postgres']);
    expect(container.startupProbe.exec.command).toEqual(container.readinessProbe.exec.command);
    expect(service.spec.ports).toEqual([{ name: 'postgres', port: 5432, targetPort: 5432, protocol: 'TCP' }]);
  });
});

describe('CloudNativePG Cluster', () => {
  const cluster = renderCloudNativePGCluster(cnpgTenant(), settings) as Any;

  it('asks for the instances, the tenant storage class and the tenant certificates', () => {
    expect(cluster.spec.instances).toBe(3);
    expect(cluster.spec.storage).toEqual({ storageClass: 'encrypted-ssd', size: '10Gi' });
    expect(cluster.spec.certificates).toEqual({ serverTLSSecret: names.database.tlsSecret, serverCASecret: names.database.tlsSecret });
    expect(cluster.spec.certificates.clientCASecret).toBeUndefined();
    expect(cluster.spec.bootstrap.initdb).toMatchObject({ database: 'ejabberd', owner: 'ejabberd', secret: { name: names.database.appSecret }, dataChecksums: true });
  });

  it('rejects every non-TLS connection before CloudNativePG\'s default rule, and keeps TLS 1.3', () => {
    expect(cluster.spec.postgresql.pg_hba).toEqual(cloudNativePGHbaRules());
    expect(cloudNativePGHbaRules()[0]).toBe('hostnossl all all all reject');
    expect(cloudNativePGHbaRules().filter((r) => !r.endsWith('reject'))).toEqual(['hostssl all all all scram-sha-256']);
    expect(cluster.spec.postgresql.parameters).toMatchObject({ ssl_min_protocol_version: 'TLSv1.3', password_encryption: 'scram-sha-256' });
    // Parameters CloudNativePG fixes itself would make the Cluster invalid.
    for (const key of Object.keys(cluster.spec.postgresql.parameters)) expect(['ssl', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'listen_addresses', 'port', 'hba_file']).not.toContain(key);
  });

  it('makes each commit wait for one standby from 3 instances on, and stays asynchronous below', () => {
    expect(cluster.spec.postgresql.synchronous).toEqual({ method: 'any', number: 1, dataDurability: 'required' });
    for (const instances of [1, 2]) expect((renderCloudNativePGCluster(cnpgTenant(instances), settings) as Any).spec.postgresql.synchronous, String(instances)).toBeUndefined();
    expect((renderCloudNativePGCluster(cnpgTenant(5), settings) as Any).spec.postgresql.synchronous).toMatchObject({ number: 1 });
  });

  it('stops a deleted instance with a fast shutdown at once (a smart one waits for ejabberd\'s pooled connections)', () => {
    expect(cluster.spec.smartShutdownTimeout).toBe(0);
  });

  it('spreads instances, has a PDB when there is more than one, and keeps the Cluster (and its volumes) under Retain', () => {
    expect(cluster.spec.affinity).toMatchObject({ enablePodAntiAffinity: true, topologyKey: 'kubernetes.io/hostname' });
    expect(cluster.spec.enablePDB).toBe(true);
    expect((renderCloudNativePGCluster(cnpgTenant(1), settings) as Any).spec.enablePDB).toBe(false);
    expect(cluster.metadata.annotations[ANNOTATION_RETAIN]).toBe('true');
    expect(cluster.spec.inheritedMetadata.labels['app.kubernetes.io/name']).toBe('postgres');
  });
});

describe('the ejabberd schema step', () => {
  const [configMap, job] = renderSchemaStep(standalone, settings) as unknown as [Any, Any];

  it('loads pg.new.sql only when the tables are absent, under a lock, in one transaction', () => {
    const sql = applySchemaSql();
    expect(sql.indexOf('pg_advisory_lock')).toBeLessThan(sql.indexOf('to_regclass'));
    expect(sql).toMatch(/\\if :present[\s\S]*nothing to do[\s\S]*\\else\s*BEGIN;\s*\\i \/schema\/pg\.new\.sql\s*COMMIT;/);
    expect(configMap.data['apply.sql']).toBe(sql);
  });

  it('copies the schema from the messaging image and applies it as the messaging role over verify-full TLS', () => {
    const pod = job.spec.template.spec;
    expect(pod.initContainers[0].image).toBe(`ghcr.io/processone/ejabberd:${DEFAULT_IMAGES.messaging.tag}`);
    expect(pod.initContainers[0].securityContext.runAsUser).toBe(9000);
    const env = Object.fromEntries(pod.containers[0].env.map((e: Any) => [e.name, e.value]));
    expect(env).toMatchObject({ PGSSLMODE: 'verify-full', PGDATABASE: 'ejabberd', PGHOST: 'postgres.clinic.svc.cluster.local' });
    // The login as files of the messaging role's Secret; run.sh turns the password into a 0600 PGPASSFILE.
    const login = pod.volumes.find((v: Any) => v.name === 'database-login');
    expect(login.secret).toMatchObject({ secretName: names.database.appSecret, defaultMode: 0o440 });
    const loginDir = pod.containers[0].volumeMounts.find((m: Any) => m.name === 'database-login').mountPath;
    expect(env).toMatchObject({ PGUSER_FILE: `${loginDir}/username`, PGPASSWORD_FILE: `${loginDir}/password` });
    expect(configMap.data['run.sh']).toMatch(/umask 077[\s\S]*"\$PGPASSFILE"/);
    expect(restrictedViolations(pod)).toEqual([]);
    expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
  });

  it('names the Job after what it runs: stable for the same input, new when the messaging image changes', () => {
    const again = renderSchemaStep(standalone, settings)[1]!;
    expect(again.metadata.name).toBe(job.metadata.name);
    expect(job.metadata.name).toMatch(/^ejabberd-sql-schema-[0-9a-f]{10}$/);
    const upgraded = tenantFixture('clinic', minimalSpec({ messaging: { image: { tag: '99.01' } } }));
    expect(renderSchemaStep(upgraded, settings)[1]!.metadata.name).not.toBe(job.metadata.name);
  });

  it('is part of every tenant, before the messaging server', () => {
    for (const tenant of [standalone, cnpgTenant()]) {
      const objects = renderTenant({ tenant, material: placeholderMaterial(tenant), settings, capabilities: { cloudNativePG: true, certManager: false, prometheusOperator: false } });
      const schema = objects.findIndex((o) => o.kind === 'Job' && o.metadata.name.startsWith('ejabberd-sql-schema-'));
      const ejabberd = objects.findIndex((o) => o.kind === 'StatefulSet' && o.metadata.name === names.messaging.statefulSet);
      expect(schema).toBeGreaterThan(-1);
      expect(schema).toBeLessThan(ejabberd);
      for (const o of objects) for (const p of podSpecsOf(o as Any)) expect(restrictedViolations(p), `${o.kind}/${o.metadata.name}`).toEqual([]);
    }
  });
});

describe('backup CronJob and the runner\'s environment contract', () => {
  /** The env the Pod would see: Secret references resolved to test values, mounted files to temp files. */
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  function podEnvironment(cronJob: Any): NodeJS.ProcessEnv {
    const dir = mkdtempSync(join(tmpdir(), 'cto-contract-'));
    dirs.push(dir);
    const files: Record<string, string> = {
      '/etc/backup-key/key': Buffer.alloc(32, 5).toString('base64'),
      '/etc/backup-db-ca/ca.crt': 'CA',
      '/etc/backup-s3-ca/ca.crt': 'S3CA',
      '/etc/backup-db-login/username': 'user-from-the-login-secret',
      '/etc/backup-db-login/password': 'password-from-the-login-secret',
      '/etc/backup-s3-credentials/AWS_ACCESS_KEY_ID': 'key-id-from-the-secret\n',
      '/etc/backup-s3-credentials/AWS_SECRET_ACCESS_KEY': 'secret-key-from-the-secret\n',
    };
    const env: NodeJS.ProcessEnv = {};
    for (const e of cronJob.spec.jobTemplate.spec.template.spec.containers[0].env as Any[]) {
      let value = e.value;
      if (files[value] !== undefined) {
        const file = join(dir, value.replace(/\//g, '_'));
        writeFileSync(file, files[value]!);
        value = file;
      }
      env[e.name] = value;
    }
    return env;
  }

  it('pvc target: every variable the runner needs is set, and it reads them into the intended configuration', () => {
    const tenant = tenantFixture('clinic', minimalSpec({ backup: { retention: { count: 5, days: 14 } } }));
    const cronJob = renderBackupCronJob(tenant, settings) as Any;
    const config = runnerConfigFromEnv(podEnvironment(cronJob), { needRetention: true });
    expect(config.tenant).toBe('clinic');
    expect(config.connection).toMatchObject({ host: 'postgres.clinic.svc.cluster.local', port: 5432, database: 'ejabberd', user: 'user-from-the-login-secret', password: 'password-from-the-login-secret' });
    expect(config.retention).toEqual({ count: 5, days: 14 });
    expect(config.store).toBeInstanceOf(DirectoryStore);
    expect(config.store.description).toBe('/backups');
    const mounts = cronJob.spec.jobTemplate.spec.template.spec.containers[0].volumeMounts.map((m: Any) => m.mountPath);
    expect(mounts).toContain('/backups');
  });

  it('s3 target with a private CA, against the CloudNativePG read-write service', () => {
    const tenant = tenantFixture(
      'clinic',
      minimalSpec({
        database: { provider: 'cloudnative-pg', storage: { storageClassName: 'encrypted-ssd' } },
        backup: { target: { s3: { endpoint: 'https://minio.backup.internal:9000', bucket: 'phi-backups', credentialsSecret: 'backup-s3', caSecret: 'backup-s3-ca', egressCIDR: '10.9.0.0/24' } } },
      }),
    );
    const cronJob = renderBackupCronJob(tenant, settings) as Any;
    const env = podEnvironment(cronJob);
    expect(env).toMatchObject({ BACKUP_TARGET: 's3', S3_PREFIX: 'clinic', S3_REGION: 'us-east-1', PGSSLMODE: 'verify-full' });
    const config = runnerConfigFromEnv(env, { needRetention: true });
    expect(config.connection.host).toBe('postgres-rw.clinic.svc.cluster.local');
    expect(config.store).toBeInstanceOf(S3Store);
    expect(config.store.description).toBe('s3://phi-backups/clinic');
    // From the files of credentialsSecret, the trailing newline of `--from-file` dropped.
    expect((config.store as Any)['config']).toMatchObject({ accessKeyId: 'key-id-from-the-secret', secretAccessKey: 'secret-key-from-the-secret' });
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    expect(pod.volumes.find((v: Any) => v.name === 's3-credentials').secret).toMatchObject({ secretName: 'backup-s3', defaultMode: 0o440 });
    (config.store as S3Store).destroy();
  });

  it('never puts a secret into the CronJob\'s environment: credentials and key are files of Secret volumes', () => {
    const env = backupEnv(standalone, settings);
    for (const name of ['PGPASSWORD', 'PGUSER', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) expect(env.find((e) => e.name === name)).toBeUndefined();
    expect(env.every((e) => e.valueFrom === undefined)).toBe(true);
    expect(env.find((e) => e.name === 'BACKUP_KEY_FILE')!.value).toBe('/etc/backup-key/key');
    expect(env.find((e) => e.name === 'PGPASSWORD_FILE')!.value).toBe('/etc/backup-db-login/password');
  });

  it('refuses a password or key given in the environment, and names the file variable instead', () => {
    const tenant = tenantFixture('clinic', minimalSpec({ backup: { target: { s3: { endpoint: 'https://s3.example:9000', bucket: 'phi-backups', credentialsSecret: 'backup-s3', egressCIDR: '10.9.0.0/24' } } } }));
    const env = { ...podEnvironment(renderBackupCronJob(tenant, settings) as Any), PGPASSWORD: 'x', AWS_SECRET_ACCESS_KEY: 'y' };
    expect(() => runnerConfigFromEnv(env, { needRetention: true })).toThrow(/PGPASSWORD is not read: give the database password as a file, in PGPASSWORD_FILE[\s\S]*AWS_SECRET_ACCESS_KEY is not read/);
  });
});
