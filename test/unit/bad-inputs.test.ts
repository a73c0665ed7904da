import { describe, expect, it } from 'vitest';
import { chatTenantCrd } from '../../src/api/crd.js';
import { defaultSettings, validateChatTenant, type ChatTenant, type SpecProblem } from '../../src/api/index.js';
import { adoptionRefusal } from '../../src/controller/adoption.js';
import { computeSafeguards, storageClassEncryption, tenantStorageClasses, type ObservedFacts } from '../../src/controller/safeguards.js';
import { BAD_INPUTS, BAD_INPUT_UID, controllerCases, createCases, updateCases, type BadInput } from '../support/bad-inputs.js';

// The bad-input catalogue against the pure parts: zod validation (validateChatTenant), the CRD's
// immutability rules, and the controller's pure decisions (adoption, storage encryption). The same
// catalogue runs against the real API server in test/integration/admission.test.ts.

const settings = defaultSettings();

const namesField = (field: string) => (p: SpecProblem) => p.path === field || p.path.startsWith(`${field}.`) || p.path.startsWith(`${field}[`);

function problemsOf(object: unknown): SpecProblem[] {
  const result = validateChatTenant(object);
  return result.ok ? [] : result.problems;
}

function validTenant(c: BadInput & { manifest: unknown }): ChatTenant {
  const result = validateChatTenant(c.manifest);
  if (!result.ok) throw new Error(`${c.id}: expected a valid spec, got ${JSON.stringify(result.problems)}`);
  return { ...result.tenant, metadata: { ...result.tenant.metadata, uid: BAD_INPUT_UID } };
}

describe('the catalogue', () => {
  it('has at least 30 cases, unique ids, and every place of catching', () => {
    expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
    expect(new Set(BAD_INPUTS.map((c) => c.id)).size).toBe(BAD_INPUTS.length);
    expect(new Set(BAD_INPUTS.map((c) => c.caughtBy))).toEqual(new Set(['admission', 'validation', 'controller']));
    expect(updateCases().length).toBeGreaterThanOrEqual(2);
  });
});

describe.each([...createCases('admission'), ...createCases('validation')])('$caughtBy: $id', (c) => {
  it(`validateChatTenant rejects it, naming ${c.field}, and nothing unrelated`, () => {
    const problems = problemsOf(c.manifest);
    expect(problems.length, c.description).toBeGreaterThan(0);
    expect(problems.some(namesField(c.field)), JSON.stringify(problems)).toBe(true);
    expect(problems.filter((p) => !namesField(c.field)(p)), 'problems about other fields: the case is not precise').toEqual([]);
  });
});

/** The schema node of a field path such as spec.database.storage.storageClassName. */
function schemaNode(field: string): Record<string, unknown> {
  const crd = chatTenantCrd() as { spec: { versions: Array<{ schema: { openAPIV3Schema: Record<string, unknown> } }> } };
  let node = crd.spec.versions[0]!.schema.openAPIV3Schema;
  for (const part of field.split('.')) {
    node = (node['properties'] as Record<string, Record<string, unknown>>)[part]!;
    if (!node) throw new Error(`no schema for ${field} at ${part}`);
  }
  return node;
}

describe.each(updateCases())('admission on update: $id', (c) => {
  it('both objects are valid alone: only the API server, seeing the old object, can refuse the change', () => {
    expect(problemsOf(c.before)).toEqual([]);
    expect(problemsOf(c.after)).toEqual([]);
  });

  it(`the CRD makes ${c.field} immutable with a message naming it`, () => {
    const rules = schemaNode(c.field)['x-kubernetes-validations'] as Array<{ rule: string; message: string }>;
    const leaf = c.field.split('.').pop()!;
    expect(rules).toContainEqual({ rule: 'self == oldSelf', message: expect.stringContaining(`${leaf} is immutable`) });
  });
});

describe.each(controllerCases())('controller: $id', (c) => {
  it('is a valid spec: only cluster facts make it bad', () => {
    expect(problemsOf(c.manifest)).toEqual([]);
  });

  it(`the pure decision gives ${c.safeguard?.reason ?? c.expect.reason}, naming ${c.field}`, () => {
    const tenant = validTenant(c);
    const namespace = c.cluster.namespaces?.find((n) => n.metadata.name === tenant.metadata.name);
    const refusal = adoptionRefusal(tenant, namespace, c.cluster.otherTenants ?? []);
    if (!c.safeguard) {
      expect(refusal).toMatchObject({ reason: c.expect.reason, field: c.field });
      expect(refusal!.message.startsWith(`${c.field}: `)).toBe(true);
      return;
    }
    expect(refusal).toBeUndefined();
    const storageClasses = Object.fromEntries(
      tenantStorageClasses(tenant).map(({ name }) => [name, storageClassEncryption(c.cluster.storageClasses?.find((s) => s.metadata.name === name), settings)]),
    );
    const facts: ObservedFacts = { observedAt: '2026-11-23T12:00:00Z', storageClasses, backupKeyPresent: true, certificates: {} };
    const encryption = computeSafeguards(tenant, facts, settings).find((s) => s.name === c.safeguard!.name)!;
    expect(encryption).toMatchObject({ holds: false, reason: c.safeguard.reason });
    expect(encryption.message).toContain(c.field);
  });
});
