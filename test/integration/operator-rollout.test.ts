import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, KIND, defaultSettings, validateChatTenant, type ChatTenant } from '../../src/api/index.js';
import { inspectCertificate, issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import { leafRequests } from '../../src/controller/material.js';
import { resourceFor } from '../../src/kube/resources.js';
import { names } from '../../src/render/index.js';
import { ANNOTATION_TLS_CHECKSUM } from '../../src/render/tls-rollout.js';
import { SCHEMA_APP } from '../../src/render/postgres/schema.js';
import { uniqueName } from '../harness/kube.js';
import { condition, createTenant, getTenant, installCrdAndStorage, objects, startOperator, tenantSpec, waitFor, waitForCondition, type TestOperator } from './support/operator.js';

// What changes under running pods: a certificate the platform renews, an image that gives the
// schema Job a new name.

let op: TestOperator;

beforeAll(async () => {
  await installCrdAndStorage();
  op = await startOperator(uniqueName('rollout'));
});

afterAll(async () => {
  await op?.stop();
});

const tenantRef = (name: string) => ({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
const statefulSet = (namespace: string, name: string) => objects().get<any>({ apiVersion: 'apps/v1', kind: 'StatefulSet', name, namespace });
const checksumOf = (sts: any): string | undefined => sts?.spec.template.metadata.annotations?.[ANNOTATION_TLS_CHECKSUM];
/** Any change of metadata wakes the operator for the tenant (the Secrets of tls.mode Provided are not watched). */
const nudge = (name: string) => objects().mergePatch(tenantRef(name), { metadata: { annotations: { 'test/nudge': String(Date.now()) } } });

async function tlsSecret(namespace: string, name: string, certPem: string, keyPem: string, caPem: string): Promise<void> {
  const data = { 'tls.crt': certPem, 'tls.key': keyPem, 'ca.crt': caPem };
  await objects().apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  });
}

describe('tls.mode Provided: the platform renews a certificate', () => {
  it('rolls the pods that serve it, and status reports the new expiry only once they run with it', async () => {
    const name = uniqueName('provided');
    const secrets = { messaging: 'platform-xmpp-tls', database: 'platform-db-tls' };
    const created = await createTenant(name, tenantSpec({ tls: { mode: 'Provided', secrets } }));
    const validated = validateChatTenant(created);
    if (!validated.ok) throw new Error('tenant is invalid');
    const tenant: ChatTenant = validated.tenant;
    await waitFor('namespace', async () => !!(await objects().get({ apiVersion: 'v1', kind: 'Namespace', name })), 60_000);

    const now = new Date();
    const ca = await issueTenantCa(name, now);
    const requests = leafRequests(tenant, defaultSettings());
    const messaging = await issueLeaf(ca, requests.messaging, now, 90);
    const database = await issueLeaf(ca, requests.database, now, 90);
    await tlsSecret(name, secrets.messaging, messaging.certPem, messaging.keyPem, ca.certPem);
    await tlsSecret(name, secrets.database, database.certPem, database.keyPem, ca.certPem);
    await nudge(name);
    await waitForCondition(name, 'Certificates', 'True');
    await waitFor('messaging rolled out', async () => condition(await getTenant(name), 'Messaging')?.status === 'True', 120_000);
    const before = checksumOf(await statefulSet(name, names.messaging.statefulSet));
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect((await getTenant(name))?.status?.certificates?.messagingNotAfter).toBe(inspectCertificate(messaging.certPem).notAfter.toISOString());

    // The platform renews the messaging certificate: a longer validity, the same names.
    const renewed = await issueLeaf(ca, requests.messaging, new Date(), 180);
    await tlsSecret(name, secrets.messaging, renewed.certPem, renewed.keyPem, ca.certPem);
    await nudge(name);
    await waitFor('pod templates carry the renewed certificate', async () => {
      const [m, d] = await Promise.all([statefulSet(name, names.messaging.statefulSet), statefulSet(name, names.database.statefulSet)]);
      return checksumOf(m) !== before && checksumOf(m) === checksumOf(d);
    }, 60_000);
    await waitFor('status reports the renewed certificate as served', async () => {
      const t = await getTenant(name);
      return t?.status?.certificates?.messagingNotAfter === inspectCertificate(renewed.certPem).notAfter.toISOString() && condition(t, 'Certificates')?.status === 'True';
    }, 120_000);
    const sts = await statefulSet(name, names.messaging.statefulSet);
    expect(sts.status.currentRevision).toBe(sts.status.updateRevision);
  });
});

describe('the schema Job', () => {
  it('of an older messaging image is pruned once a new image gives a new Job', async () => {
    const name = uniqueName('schema');
    await createTenant(name, tenantSpec());
    await waitForCondition(name, 'Ready', 'True');
    const schemaJobs = async () =>
      (await objects().list<any>(resourceFor('batch/v1', 'Job'), { namespace: name, labelSelector: `app.kubernetes.io/name=${SCHEMA_APP}` })).items.map((j) => j.metadata.name as string);
    const [first] = await schemaJobs();
    expect(first).toBeDefined();
    await objects().mergePatch(tenantRef(name), { spec: { messaging: { image: { tag: '23.01-test' } } } });
    await waitFor('only the new schema Job is left', async () => {
      const jobs = await schemaJobs();
      return jobs.length === 1 && jobs[0] !== first;
    }, 60_000);
  });
});
