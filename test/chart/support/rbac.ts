// Reading RBAC rules of the rendered chart. The static checks here are backed by the API server's own
// authorizer in chart.cluster.test.ts; this file keeps the unit-level checks fast and readable.
import type { Json } from './chart.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** Verbs that let an identity gain permissions it does not have: never granted. */
export const PRIVILEGE_VERBS = ['escalate', 'bind', 'impersonate'];
/** Resources whose write access amounts to cluster-admin. */
export const RBAC_RESOURCES = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'];

export function rulesOf(objects: Json[], kind: 'ClusterRole' | 'Role'): PolicyRule[] {
  return objects.filter((o) => o['kind'] === kind).flatMap((o) => (o['rules'] ?? []) as PolicyRule[]);
}

/** Every value of every rule field, with where it came from, for "no wildcard anywhere". */
export function ruleValues(rules: PolicyRule[]): Array<{ field: string; value: string }> {
  return rules.flatMap((r) =>
    (['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'] as const).flatMap((field) => (r[field] ?? []).map((value) => ({ field, value }))),
  );
}

/** Whether the rules grant verb on group/resource (optionally a named object); wildcards are refused upstream. */
export function grants(rules: PolicyRule[], group: string, resource: string, verb: string, name?: string): boolean {
  return rules.some(
    (r) =>
      (r.apiGroups ?? []).includes(group) &&
      (r.resources ?? []).includes(resource) &&
      r.verbs.includes(verb) &&
      (r.resourceNames === undefined || r.resourceNames.length === 0 || (name !== undefined && r.resourceNames.includes(name))),
  );
}
