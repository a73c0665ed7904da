import { z } from 'zod';
import { API_GROUP_VERSION, KIND } from './group.js';
import { DNS_LABEL, DNS_LABEL_MAX } from './formats.js';
import { ChatTenantSpec, type ChatTenantSpecInput } from './spec.js';
import type { ChatTenantStatus } from './status.js';

/** Namespaces a tenant may never be named after: they belong to the cluster itself. */
export const RESERVED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const;

/** The object as it comes from the API server or a file: spec not yet validated. */
export interface ChatTenantObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: unknown;
  status?: ChatTenantStatus;
}

/** A ChatTenant whose spec passed validation, with every default filled in. */
export interface ChatTenant {
  apiVersion: typeof API_GROUP_VERSION;
  kind: typeof KIND;
  metadata: ChatTenantObject['metadata'] & { name: string };
  spec: ChatTenantSpec;
  status?: ChatTenantStatus;
}

export interface SpecProblem {
  /** Dotted path from the object root, e.g. spec.backup.schedule or spec.xmppDomains[1]. */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; tenant: ChatTenant } | { ok: false; problems: SpecProblem[] };

/** The tenant namespace is the tenant name: one namespace per tenant, and nothing else in it. */
export function tenantNamespace(tenantName: string): string {
  return tenantName;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Problems with metadata.name that the CRD also rejects (by CEL) but a file given to the CLI may have. */
function nameProblems(name: unknown): SpecProblem[] {
  if (typeof name !== 'string' || name === '') return [{ path: 'metadata.name', message: 'is required' }];
  const problems: SpecProblem[] = [];
  if (name.length > DNS_LABEL_MAX) problems.push({ path: 'metadata.name', message: `must be at most ${DNS_LABEL_MAX} characters: it becomes the tenant namespace` });
  if (!DNS_LABEL.test(name)) problems.push({ path: 'metadata.name', message: 'must be a DNS label (lower-case letters, digits, "-"): it becomes the tenant namespace' });
  if ((RESERVED_NAMESPACES as readonly string[]).includes(name) || name.startsWith('kube-')) {
    problems.push({ path: 'metadata.name', message: `"${name}" is a namespace of the cluster itself and cannot be a tenant` });
  }
  return problems;
}

/**
 * Validates a ChatTenant object and fills in defaults. Every problem is reported, each with the path
 * to the field, so a platform team can fix a manifest in one go.
 */
export function validateChatTenant(object: unknown): ValidationResult {
  if (typeof object !== 'object' || object === null) return { ok: false, problems: [{ path: '', message: 'expected a ChatTenant object' }] };
  const obj = object as Partial<ChatTenantObject>;
  const problems: SpecProblem[] = [];
  if (obj.apiVersion !== API_GROUP_VERSION) problems.push({ path: 'apiVersion', message: `must be ${API_GROUP_VERSION}` });
  if (obj.kind !== KIND) problems.push({ path: 'kind', message: `must be ${KIND}` });
  const metadata = (obj.metadata ?? {}) as ChatTenantObject['metadata'];
  problems.push(...nameProblems(metadata.name));
  if (obj.spec === undefined) problems.push({ path: 'spec', message: 'is required' });
  // reportInput: lets a missing field read "is required" instead of "expected string, received undefined".
  const parsed = ChatTenantSpec.safeParse(obj.spec, { reportInput: true });
  if (!parsed.success && obj.spec !== undefined) problems.push(...zodProblems(parsed.error, ['spec']));
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return {
    ok: true,
    tenant: {
      apiVersion: API_GROUP_VERSION,
      kind: KIND,
      metadata: { ...metadata, name: metadata.name },
      spec: parsed.data,
      ...(obj.status ? { status: obj.status } : {}),
    },
  };
}

export function zodProblems(error: z.ZodError, prefix: PropertyKey[] = []): SpecProblem[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    // One problem per unknown key, pointing at the key itself, reads better than a list on the parent.
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: formatPath([...path, key]), message: 'unknown field' }));
    if (issue.code === 'invalid_type' && issue.input === undefined) return [{ path: formatPath(path), message: `is required (${issue.expected})` }];
    return [{ path: formatPath(path), message: issue.message }];
  });
}

/** Builds a ChatTenant manifest from a spec: used by examples, tests and the sample tenant. */
export function chatTenantManifest(name: string, spec: ChatTenantSpecInput): ChatTenantObject {
  return { apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name }, spec };
}
