import { describe, expect, it } from 'vitest';
import { CLOUDNATIVE_PG_DEPLOYMENT, cloudNativePGObjects } from '../../src/controlplane/node/cloudnative-pg/manifest.js';
import { CLOUDNATIVE_PG_VERSION } from '../../src/controlplane/node/cloudnative-pg/version.js';
import { CNPG_VERSION } from '../../src/render/postgres/cnpg.js';

// CloudNativePG's release manifest made fit for the real node: only the operator's image (and the
// variable that tells instance Pods where to copy the instance manager from) and its pull policy
// change. A shortened manifest of the release's shape stands in for the real one (the node tests
// apply the real one).

const RELEASE = `apiVersion: v1
kind: Namespace
metadata:
  name: cnpg-system
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${CLOUDNATIVE_PG_DEPLOYMENT}
  namespace: cnpg-system
spec:
  template:
    spec:
      containers:
      - name: manager
        image: ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0
        imagePullPolicy: Always
        env:
        - name: OPERATOR_IMAGE_NAME
          value: ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0
        - name: MONITORING_QUERIES_CONFIGMAP
          value: cnpg-default-monitoring
---
`;

describe("CloudNativePG's release manifest on the real node", () => {
  const local = 'localhost/chat-tenant-operator/cloudnative-pg:1.30.0';
  const objects = cloudNativePGObjects(RELEASE, local);

  it('runs the local image, never pulled, and instance Pods copy the manager from it', () => {
    const manager = (objects[1] as any).spec.template.spec.containers[0];
    expect(manager.image).toBe(local);
    expect(manager.imagePullPolicy).toBe('Never');
    expect(manager.env).toEqual([
      { name: 'OPERATOR_IMAGE_NAME', value: local },
      { name: 'MONITORING_QUERIES_CONFIGMAP', value: 'cnpg-default-monitoring' },
    ]);
  });

  it('keeps every other object as released (empty documents dropped)', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/cnpg-system', `Deployment/${CLOUDNATIVE_PG_DEPLOYMENT}`]);
  });

  it('refuses a manifest without the operator Deployment', () => {
    expect(() => cloudNativePGObjects('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n', local)).toThrow(/no Deployment/);
  });

  it('is the release the renderer validates its Cluster against', () => {
    expect(CNPG_VERSION).toBe(`v${CLOUDNATIVE_PG_VERSION}`);
  });
});
