import type { Container as V1Container, PodSecurityContext as V1PodSecurityContext, SecurityContext as V1SecurityContext } from './wire.js';

// Pod Security "restricted", once. Every pod template the operator renders goes through these, and
// the property test in test/unit/render-properties.test.ts checks every container against the profile.

export function restrictedPodSecurityContext(uid: number, gid = uid): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function restrictedContainerSecurityContext(readOnlyRootFilesystem = true): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Applies the restricted container context to every container, so no builder can forget one. */
export function hardenContainers(containers: V1Container[], readOnlyRootFilesystem = true): V1Container[] {
  return containers.map((c) => ({ ...c, securityContext: { ...restrictedContainerSecurityContext(readOnlyRootFilesystem), ...(c.securityContext ?? {}) } }));
}
