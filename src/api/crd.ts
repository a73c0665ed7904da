import { z } from 'zod';
import { API_GROUP, API_VERSION, CRD_NAME, KIND, PLURAL, SHORT_NAMES, SINGULAR } from './group.js';
import { ChatTenantSpec } from './spec.js';
import { ChatTenantStatus } from './status.js';

// Generates the CustomResourceDefinition from the zod schema, so the two never drift apart
// (test/unit/crd-drift.test.ts fails when crds/ differs from this output).

type JsonSchema = { [key: string]: unknown };

// JSON Schema keys that a Kubernetes structural schema rejects or that zod adds for its own reasons.
const DROPPED_KEYS = new Set(['$schema', 'id', '$id']);
const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/**
 * Turns zod's OpenAPI 3.0 output into a structural schema: no additionalProperties beside properties
 * (Kubernetes forbids the pair; unknown fields are pruned instead), no safe-integer bounds zod adds,
 * and no anyOf/oneOf, which a structural schema allows only in forms we do not need.
 */
export function toStructural(node: unknown, path = '#'): unknown {
  if (Array.isArray(node)) return node.map((item, i) => toStructural(item, `${path}/${i}`));
  if (typeof node !== 'object' || node === null) return node;
  const input = node as JsonSchema;
  for (const key of ['anyOf', 'oneOf', 'allOf', 'not', '$ref']) {
    if (key in input) throw new Error(`CRD schema at ${path} uses ${key}, which is not structural; restructure the zod schema`);
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(input)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (key === 'additionalProperties' && (value === false || 'properties' in input)) continue;
    if ((key === 'maximum' && value === SAFE_INTEGER) || (key === 'minimum' && value === -SAFE_INTEGER)) continue;
    // Literal data, not schemas: copy as they are.
    if (key === 'default' || key === 'enum' || key === 'x-kubernetes-validations' || key === 'x-kubernetes-list-map-keys') {
      out[key] = value;
      continue;
    }
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as JsonSchema).map(([name, sub]) => [name, toStructural(sub, `${path}/properties/${name}`)]));
      continue;
    }
    out[key] = toStructural(value, `${path}/${key}`);
  }
  return out;
}

function schemaOf(type: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(type, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw' })) as JsonSchema;
}

/**
 * Rules on metadata.name, the one metadata field CEL may see: it becomes the tenant namespace.
 * No fieldPath: the API server accepts only paths the schema declares, and metadata declares none.
 */
const NAME_RULES = [
  { rule: 'self.metadata.name.size() <= 63', message: 'metadata.name must be at most 63 characters: it becomes the tenant namespace' },
  {
    rule: "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
    message: 'metadata.name must be a DNS label (lower-case letters, digits, "-"): it becomes the tenant namespace',
  },
  {
    rule: "!(self.metadata.name in ['default', 'kube-system', 'kube-public', 'kube-node-lease']) && !self.metadata.name.startsWith('kube-')",
    message: 'metadata.name names a namespace of the cluster itself and cannot be a tenant',
  },
];

export const PRINTER_COLUMNS = [
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  { name: 'Messaging', type: 'integer', jsonPath: '.status.messaging.readyReplicas', description: 'ejabberd nodes ready' },
  { name: 'Database', type: 'integer', jsonPath: '.status.database.readyInstances', description: 'PostgreSQL instances ready' },
  { name: 'Last Backup', type: 'date', jsonPath: '.status.backup.lastSuccessfulTime' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function chatTenantCrd(): Record<string, unknown> {
  const spec = schemaOf(ChatTenantSpec);
  const status = schemaOf(ChatTenantStatus);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'chat-tenant-operator', 'app.kubernetes.io/part-of': 'chat-tenant-operator' },
    },
    spec: {
      group: API_GROUP,
      scope: 'Cluster',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: [...SHORT_NAMES], categories: ['chat'] },
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
          schema: {
            openAPIV3Schema: {
              description: 'ChatTenant is one healthcare customer\'s isolated chat stack: a namespace with ejabberd, its own encrypted PostgreSQL, encrypted backups, network policies, certificates and quotas.',
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
                kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
                metadata: { type: 'object' },
                spec,
                status,
              },
              'x-kubernetes-validations': NAME_RULES,
            },
          },
        },
      ],
    },
  };
}
