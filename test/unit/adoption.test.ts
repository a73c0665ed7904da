import { describe, expect, it } from 'vitest';
import { chatTenantManifest, type ChatTenant, type ChatTenantObject } from '../../src/api/index.js';
import { ANNOTATION_ADOPT, adoptionRefusal, ownsNamespace, type ObservedNamespace } from '../../src/controller/adoption.js';
import { LABEL_TENANT, renderNamespace } from '../../src/render/index.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-02-01T00:00:00Z';

function tenant(name: string, domains: string[], created = T1, uid = `uid-${name}`): ChatTenant {
  const t = tenantFixture(name, minimalSpec({ xmppDomains: domains }), uid);
  return { ...t, metadata: { ...t.metadata, creationTimestamp: created } };
}

function other(name: string, domains: unknown, created?: string, uid = `uid-${name}`): ChatTenantObject {
  const manifest = chatTenantManifest(name, minimalSpec({ xmppDomains: domains as string[] }));
  return { ...manifest, metadata: { name, uid, ...(created ? { creationTimestamp: created } : {}) } };
}

/** The namespace as the operator itself renders it for the tenant: the happy path of adoption. */
function ownNamespace(t: ChatTenant): ObservedNamespace {
  return renderNamespace(t) as unknown as ObservedNamespace;
}

const foreign = (name: string, extra: Partial<ObservedNamespace['metadata']> = {}): ObservedNamespace => ({ metadata: { name, uid: 'ns-uid', ...extra } });

describe('the namespace', () => {
  const clinic = tenant('clinic', ['chat.clinic.example']);

  it('a namespace that does not exist yet is fine', () => {
    expect(adoptionRefusal(clinic, undefined, [])).toBeUndefined();
  });

  it('our own namespace (owner reference to this uid) is fine, whatever else it carries', () => {
    expect(adoptionRefusal(clinic, ownNamespace(clinic), [])).toBeUndefined();
    const relabelled = ownNamespace(clinic);
    relabelled.metadata.labels = {};
    expect(adoptionRefusal(clinic, relabelled, [])).toBeUndefined();
  });

  it.each<[string, ObservedNamespace, string, string]>([
    ['exists, no owner, no labels', foreign('clinic'), 'NamespaceNotOwned', 'metadata.name: namespace "clinic" already exists and is not owned by this ChatTenant; choose another name, or to adopt it deliberately, annotate it chat.tenant-operator.dev/adopt=uid-clinic'],
    ['owned by a ChatTenant with another uid (an earlier object of the same name)', foreign('clinic', { ownerReferences: [{ apiVersion: 'chat.tenant-operator.dev/v1alpha1', kind: 'ChatTenant', name: 'clinic', uid: 'old-uid', controller: true }] }), 'NamespaceOwnedByAnotherTenant', 'belongs to ChatTenant "clinic" (uid old-uid)'],
    ['owned by a ChatTenant of another name', foreign('clinic', { ownerReferences: [{ apiVersion: 'chat.tenant-operator.dev/v1alpha1', kind: 'ChatTenant', name: 'other', uid: 'uid-other' }] }), 'NamespaceOwnedByAnotherTenant', 'belongs to ChatTenant "other"'],
    ['labelled for another tenant', foreign('clinic', { labels: { [LABEL_TENANT]: 'other' } }), 'NamespaceOwnedByAnotherTenant', 'labelled for tenant "other"'],
    ['our labels but no owner reference: data retained from an earlier ChatTenant', foreign('clinic', { labels: { [LABEL_TENANT]: 'clinic', 'app.kubernetes.io/managed-by': 'chat-tenant-operator' } }), 'NamespaceNotOwned', 'holds data retained from an earlier ChatTenant "clinic"'],
    ['our tenant label forged without managed-by', foreign('clinic', { labels: { [LABEL_TENANT]: 'clinic' } }), 'NamespaceNotOwned', 'already exists and is not owned'],
    ['owned by something else (a Deployment)', foreign('clinic', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'x', uid: 'uid-clinic' }] }), 'NamespaceNotOwned', 'already exists'],
    ['an adopt annotation for another uid', foreign('clinic', { annotations: { [ANNOTATION_ADOPT]: 'uid-someone-else' } }), 'NamespaceNotOwned', 'already exists'],
    ['ours but terminating', { metadata: { ...ownNamespace(clinic).metadata, deletionTimestamp: T1 } }, 'NamespaceTerminating', 'is being deleted'],
  ])('%s: refused', (_name, ns, reason, fragment) => {
    const refusal = adoptionRefusal(clinic, ns, []);
    expect(refusal).toMatchObject({ reason, field: 'metadata.name' });
    expect(refusal!.message).toContain(fragment);
    expect(refusal!.message.startsWith('metadata.name: ')).toBe(true);
  });

  it('ownership is the tenant-uid annotation (the rendered namespace carries no ownerReference), or an earlier version\'s ownerReference', () => {
    expect(ownNamespace(clinic).metadata.ownerReferences).toBeUndefined();
    expect(ownsNamespace(clinic, ownNamespace(clinic))).toBe(true);
    const legacy = foreign('clinic', { ownerReferences: [{ apiVersion: 'chat.tenant-operator.dev/v1alpha1', kind: 'ChatTenant', name: 'clinic', uid: 'uid-clinic', controller: true }] });
    expect(ownsNamespace(clinic, legacy)).toBe(true);
    expect(adoptionRefusal(clinic, legacy, [])).toBeUndefined();
  });

  it('the namespace of an earlier ChatTenant of the same name (another uid in its annotation) is retained data: refused until adopted', () => {
    const earlier = tenant('clinic', ['chat.clinic.example'], T0, 'old-uid');
    const retained = ownNamespace(earlier);
    expect(ownsNamespace(clinic, retained)).toBe(false);
    expect(adoptionRefusal(clinic, retained, [])).toMatchObject({ reason: 'NamespaceNotOwned', message: expect.stringContaining('holds data retained from an earlier ChatTenant "clinic"') });
    retained.metadata.annotations = { ...retained.metadata.annotations, [ANNOTATION_ADOPT]: 'uid-clinic' };
    expect(adoptionRefusal(clinic, retained, [])).toBeUndefined();
  });

  it('a foreign namespace annotated with this ChatTenant\'s uid is adopted deliberately', () => {
    expect(adoptionRefusal(clinic, foreign('clinic', { annotations: { [ANNOTATION_ADOPT]: 'uid-clinic' } }), [])).toBeUndefined();
  });

  it('the adopt annotation cannot take a namespace another tenant owns', () => {
    const ns = foreign('clinic', { annotations: { [ANNOTATION_ADOPT]: 'uid-clinic' }, labels: { [LABEL_TENANT]: 'other' } });
    expect(adoptionRefusal(clinic, ns, [])?.reason).toBe('NamespaceOwnedByAnotherTenant');
  });

  it.each(['kube-system', 'default', 'kube-public', 'kube-node-lease', 'kube-anything'])('%s is refused by name, even if it looks owned', (name) => {
    const t = { ...clinic, metadata: { ...clinic.metadata, name } };
    expect(adoptionRefusal(t, undefined, [])).toMatchObject({ reason: 'ReservedNamespace', field: 'metadata.name' });
  });
});

describe('XMPP domains: first created wins', () => {
  it('an older tenant serving the same domain refuses the newer one, naming the field', () => {
    const newer = tenant('newer', ['chat.a.example', 'chat.shared.example'], T1);
    expect(adoptionRefusal(newer, undefined, [other('older', ['chat.shared.example'], T0)])).toEqual({
      reason: 'DomainClaimed',
      field: 'spec.xmppDomains[1]',
      message: 'spec.xmppDomains[1]: domain "chat.shared.example" is already served by ChatTenant "older" (created earlier); one XMPP domain belongs to one tenant',
    });
  });

  it('the older tenant is not refused by the newer one', () => {
    const older = tenant('older', ['chat.shared.example'], T0);
    expect(adoptionRefusal(older, undefined, [other('newer', ['chat.shared.example'], T1)])).toBeUndefined();
  });

  it('created at the same time: the name decides, the same way for both', () => {
    const a = tenant('aaa', ['chat.shared.example'], T0);
    const b = tenant('bbb', ['chat.shared.example'], T0);
    expect(adoptionRefusal(a, undefined, [other('bbb', ['chat.shared.example'], T0)])).toBeUndefined();
    expect(adoptionRefusal(b, undefined, [other('aaa', ['chat.shared.example'], T0)])?.reason).toBe('DomainClaimed');
  });

  it('a rival without a creation time counts as created last', () => {
    const t = tenant('clinic', ['chat.shared.example'], T1);
    expect(adoptionRefusal(t, undefined, [other('unknown', ['chat.shared.example'])])).toBeUndefined();
  });

  it('service subdomains clash too, in both directions', () => {
    const newer = tenant('newer', ['pubsub.chat.a.example'], T1);
    expect(adoptionRefusal(newer, undefined, [other('older', ['chat.a.example'], T0)])?.message).toContain('is a service subdomain (conference, pubsub) of a domain ChatTenant "older"');
    const parent = tenant('parent', ['chat.b.example'], T1);
    expect(adoptionRefusal(parent, undefined, [other('older', ['conference.chat.b.example'], T0)])?.message).toContain('needs its service subdomain "conference.chat.b.example"');
  });

  it('different domains, this tenant itself, and an invalid rival spec do not refuse', () => {
    const t = tenant('clinic', ['chat.clinic.example'], T1);
    expect(adoptionRefusal(t, undefined, [other('older', ['chat.other.example'], T0)])).toBeUndefined();
    expect(adoptionRefusal(t, undefined, [other('clinic', ['chat.clinic.example'], T0)])).toBeUndefined();
    expect(adoptionRefusal(t, undefined, [other('clinic-old', ['chat.other.example'], T0, 'uid-clinic')])).toBeUndefined();
    expect(adoptionRefusal(t, undefined, [{ ...other('broken', [], T0), spec: { xmppDomains: 'chat.clinic.example' } }])).toBeUndefined();
  });

  it('the namespace is checked before domains', () => {
    const t = tenant('clinic', ['chat.shared.example'], T1);
    expect(adoptionRefusal(t, foreign('clinic'), [other('older', ['chat.shared.example'], T0)])?.reason).toBe('NamespaceNotOwned');
  });
});

describe('the same namespace', () => {
  // Tenant names map one to one onto namespaces today; the check guards any future mapping
  // (e.g. a spec.namespace field), exercised here with a many-to-one mapping.
  const byPrefix = (name: string) => name.split('-')[0]!;

  it('a newer tenant whose namespace an older tenant claims is refused', () => {
    const newer = tenant('clinic-b', ['chat.b.example'], T1);
    expect(adoptionRefusal(newer, undefined, [other('clinic-a', ['chat.a.example'], T0)], byPrefix)).toMatchObject({
      reason: 'NamespaceClaimed',
      field: 'metadata.name',
      message: 'metadata.name: namespace "clinic" is already claimed by ChatTenant "clinic-a" (created earlier)',
    });
    const older = tenant('clinic-a', ['chat.a.example'], T0);
    expect(adoptionRefusal(older, undefined, [other('clinic-b', ['chat.b.example'], T1)], byPrefix)).toBeUndefined();
  });
});
