import { createHash } from 'node:crypto';
import type { KubeObject, TenantCertificates } from './types.js';

// PostgreSQL and ejabberd read their certificates at start. When the operator reissues one (renewal,
// a new name or address), the pods that serve it must restart: a checksum of the certificates in
// the pod template makes the StatefulSet roll them. Certificates are public, so hashing them here
// leaks nothing. (Provided and cert-manager certificates are not known at render time.)

export const ANNOTATION_TLS_CHECKSUM = 'chat.tenant-operator.dev/tls-checksum';

export function withTlsChecksum(objects: KubeObject[], certificates: TenantCertificates | undefined): KubeObject[] {
  if (!certificates) return objects;
  const checksum = createHash('sha256')
    .update([certificates.ca.certPem, certificates.messaging.certPem, certificates.database.certPem, certificates.databaseClient.certPem].join('\n'))
    .digest('hex');
  return objects.map((o) => {
    if (o.kind !== 'StatefulSet') return o;
    const spec = o['spec'] as { template: { metadata: { annotations?: Record<string, string> } } };
    const template = { ...spec.template, metadata: { ...spec.template.metadata, annotations: { ...(spec.template.metadata.annotations ?? {}), [ANNOTATION_TLS_CHECKSUM]: checksum } } };
    return { ...o, spec: { ...spec, template } };
  });
}
