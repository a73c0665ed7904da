import { createHash } from 'node:crypto';
import type { KubeObject, TenantMaterial } from './types.js';

// PostgreSQL and ejabberd read their certificates at start. When a certificate changes (renewal, a
// new name or address; issued by the operator, by cert-manager, or replaced by the platform team),
// the pods that serve it must restart: a checksum of the certificates in the pod template makes the
// StatefulSet roll them. Certificates are public, so hashing them here leaks nothing.

export const ANNOTATION_TLS_CHECKSUM = 'chat.tenant-operator.dev/tls-checksum';

/** The certificates the pods load, in a fixed order; undefined when there are none to go by. */
function certificatesOf(material: Pick<TenantMaterial, 'certificates' | 'platformCertificates'>): string[] | undefined {
  const c = material.certificates;
  if (c) return [c.ca.certPem, c.messaging.certPem, c.database.certPem, c.databaseClient.certPem];
  return material.platformCertificates;
}

export function tlsChecksum(material: Pick<TenantMaterial, 'certificates' | 'platformCertificates'>): string | undefined {
  const certificates = certificatesOf(material);
  return certificates ? createHash('sha256').update(certificates.join('\n')).digest('hex') : undefined;
}

export function withTlsChecksum(objects: KubeObject[], material: Pick<TenantMaterial, 'certificates' | 'platformCertificates'>): KubeObject[] {
  const checksum = tlsChecksum(material);
  if (!checksum) return objects;
  return objects.map((o) => {
    if (o.kind !== 'StatefulSet') return o;
    const spec = o['spec'] as { template: { metadata: { annotations?: Record<string, string> } } };
    const template = { ...spec.template, metadata: { ...spec.template.metadata, annotations: { ...(spec.template.metadata.annotations ?? {}), [ANNOTATION_TLS_CHECKSUM]: checksum } } };
    return { ...o, spec: { ...spec, template } };
  });
}
