import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, KIND } from '../../src/api/index.js';
import { EventRecorder } from '../../src/kube/events.js';
import { resourceFor } from '../../src/kube/resources.js';
import { uniqueName } from '../harness/kube.js';
import { createTenant, getTenant, installCrdAndStorage, objects, startOperator, tenantSpec, waitFor, waitForCondition, type TestOperator } from './support/operator.js';

// Events are best-effort and aggregated, as client-go's recorder makes them: a refused Event never
// stops a reconcile, and the same Event again counts up the one already written.

const ADMISSION = '/apis/admissionregistration.k8s.io/v1';
const eventsAbout = async (name: string) =>
  (await objects().list<any>(resourceFor('v1', 'Event'), { namespace: 'default', fieldSelector: `involvedObject.name=${name}` })).items;

describe('Event recording', () => {
  it('writes the same Event twice as one Event with count 2, and a different one apart', async () => {
    const name = uniqueName('aggregated');
    const recorder = new EventRecorder(objects(), 'events-test');
    const about = { apiVersion: API_GROUP_VERSION, kind: KIND, name };
    await recorder.record(about, 'Warning', 'DomainClaimed', 'spec.xmppDomains[0]: taken');
    await recorder.record(about, 'Warning', 'DomainClaimed', 'spec.xmppDomains[0]: taken');
    await recorder.record(about, 'Normal', 'TenantReady', 'Ready');
    const events = await eventsAbout(name);
    expect(events.map((e) => [e.reason, e.count]).sort()).toEqual([
      ['DomainClaimed', 2],
      ['TenantReady', 1],
    ]);
    const counted = events.find((e) => e.reason === 'DomainClaimed');
    expect(Date.parse(counted.lastTimestamp)).toBeGreaterThanOrEqual(Date.parse(counted.firstTimestamp));
  });

  it('an Event the API server refuses is dropped and reported, never thrown', async () => {
    const dropped: string[] = [];
    const recorder = new EventRecorder(objects(), 'events-test', { onDropped: (reason) => dropped.push(reason) });
    // Its namespace does not exist: the create is refused (404).
    await expect(recorder.record({ apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: uniqueName('absent') }, 'Normal', 'Started', 'x')).resolves.toBeUndefined();
    expect(dropped).toEqual(['Started']);
  });
});

describe('a tenant whose Events are all refused', () => {
  const name = uniqueName('muted');
  const policy = `deny-events-${name}`;
  let op: TestOperator;

  beforeAll(async () => {
    await installCrdAndStorage();
    // An admission policy refuses every Event about this tenant, as an API server under pressure or
    // a strict platform policy might.
    const o = objects();
    await o.client.request('POST', `${ADMISSION}/validatingadmissionpolicies`, { body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['events'] }] },
        validations: [{ expression: `object.involvedObject.name != '${name}'`, message: 'events about this tenant are refused by the test' }],
      },
    } });
    await o.client.request('POST', `${ADMISSION}/validatingadmissionpolicybindings`, { body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: policy },
      spec: { policyName: policy, validationActions: ['Deny'] },
    } });
    await waitFor('the policy refuses Events about the tenant', async () => {
      let refused = false;
      const probe = new EventRecorder(o, 'events-test', { onDropped: () => (refused = true) });
      await probe.record({ apiVersion: API_GROUP_VERSION, kind: KIND, name }, 'Normal', 'Probe', 'is the policy in force?');
      return refused;
    }, 30_000, 1_000);
    op = await startOperator(uniqueName('muted-operator'));
  });

  afterAll(async () => {
    await op?.stop();
    const o = objects();
    await o.client.request('DELETE', `${ADMISSION}/validatingadmissionpolicybindings/${policy}`).catch(() => {});
    await o.client.request('DELETE', `${ADMISSION}/validatingadmissionpolicies/${policy}`).catch(() => {});
  });

  it('still becomes Ready, and once deleted is finalized (its finalizer removed)', async () => {
    await createTenant(name, tenantSpec({ deletionPolicy: 'Delete' }));
    await waitForCondition(name, 'Ready', 'True');
    await objects().delete({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
    await waitFor('tenant finalized and gone', async () => !(await getTenant(name)), 120_000);
    expect((await eventsAbout(name)).filter((e) => e.reason !== 'Probe')).toEqual([]);
    expect(op.logs()).toContain('could not write an Event; dropped it');
  });
});
