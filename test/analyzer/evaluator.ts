import type { KubeObject } from '../../src/render/index.js';

// A second opinion, written from the NetworkPolicy API reference and independent of the renderer:
// whether a pod may connect to another pod on a port, given every NetworkPolicy of the world. Only
// pod-to-pod traffic (ipBlock peers never match pods here, as the analyzer treats them as external).
// Semantics: a connection needs the source's egress and the destination's ingress to allow it; a
// pod selected by no policy of a direction is open in that direction; rules of all selecting
// policies add up; a rule without `from`/`to` admits every peer, without `ports` every port.

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: unknown;
}

interface PortSpec {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PortSpec[];
}

interface Policy {
  namespace: string;
  podSelector: Selector;
  types: string[];
  ingress: Rule[];
  egress: Rule[];
}

export interface EvalPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
}

export interface Probe {
  protocol: 'TCP' | 'UDP';
  port: number;
}

export function selectorMatches(selector: Selector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const ok =
      e.operator === 'In' ? has && (e.values ?? []).includes(value!) :
      e.operator === 'NotIn' ? !has || !(e.values ?? []).includes(value!) :
      e.operator === 'Exists' ? has :
      e.operator === 'DoesNotExist' ? !has :
      (() => { throw new Error(`unknown selector operator ${e.operator}`); })();
    if (!ok) return false;
  }
  return true;
}

function peerMatches(peer: Peer, policyNamespace: string, pod: EvalPod, namespaceLabels: ReadonlyMap<string, Record<string, string>>): boolean {
  if (peer.ipBlock) return false;
  const nsOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, namespaceLabels.get(pod.namespace) ?? {}) : pod.namespace === policyNamespace;
  const podOk = peer.podSelector ? selectorMatches(peer.podSelector, pod.labels) : true;
  return nsOk && podOk;
}

function portMatches(ports: PortSpec[] | undefined, probe: Probe): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== probe.protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') throw new Error(`named port ${p.port} is not supported by this evaluator`);
    return p.endPort !== undefined ? probe.port >= p.port && probe.port <= p.endPort : probe.port === p.port;
  });
}

function policiesOf(objects: readonly KubeObject[]): Policy[] {
  return objects
    .filter((o) => o.kind === 'NetworkPolicy')
    .map((o) => {
      const spec = o['spec'] as { podSelector: Selector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
      // Without policyTypes, Ingress always applies and Egress only when egress rules are given.
      const types = spec.policyTypes ?? ['Ingress', ...(spec.egress ? ['Egress'] : [])];
      return { namespace: o.metadata.namespace!, podSelector: spec.podSelector, types, ingress: spec.ingress ?? [], egress: spec.egress ?? [] };
    });
}

function directionAllows(policies: Policy[], direction: 'Ingress' | 'Egress', subject: EvalPod, peer: EvalPod, probe: Probe, namespaceLabels: ReadonlyMap<string, Record<string, string>>): boolean {
  const selecting = policies.filter((p) => p.namespace === subject.namespace && p.types.includes(direction) && selectorMatches(p.podSelector, subject.labels));
  if (selecting.length === 0) return true;
  return selecting.some((p) =>
    (direction === 'Ingress' ? p.ingress : p.egress).some((rule) => {
      const peers = direction === 'Ingress' ? rule.from : rule.to;
      const peerOk = !peers || peers.length === 0 || peers.some((x) => peerMatches(x, p.namespace, peer, namespaceLabels));
      return peerOk && portMatches(rule.ports, probe);
    }),
  );
}

/** Every "ns/src -> ns/dst : PROTO/port" the policies allow between distinct pods, for the probes. */
export function evaluatePodConnections(objects: readonly KubeObject[], pods: readonly EvalPod[], probes: readonly Probe[]): Set<string> {
  const policies = policiesOf(objects);
  const namespaceLabels = new Map(objects.filter((o) => o.kind === 'Namespace').map((o) => [o.metadata.name, o.metadata.labels ?? {}]));
  const out = new Set<string>();
  for (const src of pods) {
    for (const dst of pods) {
      if (src === dst) continue;
      for (const probe of probes) {
        if (directionAllows(policies, 'Egress', src, dst, probe, namespaceLabels) && directionAllows(policies, 'Ingress', dst, src, probe, namespaceLabels)) {
          out.add(`${src.namespace}/${src.name} -> ${dst.namespace}/${dst.name} : ${probe.protocol}/${probe.port}`);
        }
      }
    }
  }
  return out;
}

/** Every port the policies name, and a few they do not, in both protocols. */
export function probesFor(objects: readonly KubeObject[], extra: readonly number[] = [22, 80, 443, 8080]): Probe[] {
  const portsNamed = new Set<number>(extra);
  for (const o of objects.filter((x) => x.kind === 'NetworkPolicy')) {
    const spec = o['spec'] as { ingress?: Rule[]; egress?: Rule[] };
    for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const p of rule.ports ?? []) if (typeof p.port === 'number') portsNamed.add(p.port);
  }
  return [...portsNamed].sort((a, b) => a - b).flatMap((port) => [{ protocol: 'TCP' as const, port }, { protocol: 'UDP' as const, port }]);
}
