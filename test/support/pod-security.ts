// An independent reading of the Pod Security Standards "restricted" profile (baseline included), used
// to check every pod template the renderer produces. Kept apart from src/render/pod-security.ts on
// purpose: the code that sets the fields must not also be the code that checks them. The real
// PodSecurity admission plugin checks the same templates in the integration tests.

type Json = Record<string, any>;

const ALLOWED_VOLUME_SOURCES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

export function restrictedViolations(podSpec: Json): string[] {
  const v: string[] = [];
  const podCtx: Json = podSpec['securityContext'] ?? {};
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (podSpec[f]) v.push(`${f} is set`);
  for (const vol of podSpec['volumes'] ?? []) {
    const sources = Object.keys(vol).filter((k) => k !== 'name');
    for (const s of sources) if (!ALLOWED_VOLUME_SOURCES.has(s)) v.push(`volume ${vol.name} uses ${s}`);
  }
  if (podCtx['runAsUser'] === 0) v.push('pod runAsUser is 0');
  const podSeccomp = podCtx['seccompProfile']?.type;
  const containers: Json[] = [...(podSpec['initContainers'] ?? []), ...(podSpec['containers'] ?? []), ...(podSpec['ephemeralContainers'] ?? [])];
  if (containers.length === 0) v.push('no containers');
  for (const c of containers) {
    const ctx: Json = c['securityContext'] ?? {};
    const name = c['name'];
    if (ctx['privileged'] === true) v.push(`${name}: privileged`);
    if (ctx['allowPrivilegeEscalation'] !== false) v.push(`${name}: allowPrivilegeEscalation is not false`);
    const drops: string[] = ctx['capabilities']?.drop ?? [];
    if (!drops.includes('ALL')) v.push(`${name}: capabilities do not drop ALL`);
    const adds: string[] = ctx['capabilities']?.add ?? [];
    if (adds.some((a) => a !== 'NET_BIND_SERVICE')) v.push(`${name}: adds capabilities ${adds.join(',')}`);
    const runAsNonRoot = ctx['runAsNonRoot'] ?? podCtx['runAsNonRoot'];
    if (runAsNonRoot !== true) v.push(`${name}: runAsNonRoot is not true`);
    if (ctx['runAsUser'] === 0) v.push(`${name}: runAsUser is 0`);
    const seccomp = ctx['seccompProfile']?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.push(`${name}: seccomp profile is ${seccomp}`);
    for (const p of c['ports'] ?? []) if (p.hostPort) v.push(`${name}: hostPort ${p.hostPort}`);
    if (!c['resources']?.limits?.memory || !c['resources']?.requests?.cpu) v.push(`${name}: no resource requests/limits`);
  }
  return v;
}

/** Pod specs inside any workload object (Pod, StatefulSet, Deployment, Job, CronJob). */
export function podSpecsOf(object: Json): Json[] {
  switch (object['kind']) {
    case 'Pod':
      return [object['spec']];
    case 'StatefulSet':
    case 'Deployment':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return [object['spec']['template']['spec']];
    case 'CronJob':
      return [object['spec']['jobTemplate']['spec']['template']['spec']];
    default:
      return [];
  }
}
