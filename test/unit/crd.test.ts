import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { chatTenantCrd } from '../../src/api/crd.js';
import { CRD_FILE, crdYaml } from '../../src/cli/commands.js';

type Schema = { [key: string]: unknown; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema | boolean };

function openApiSchema(): Schema {
  const crd = chatTenantCrd() as { spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };
  return crd.spec.versions[0]!.schema.openAPIV3Schema;
}

function walk(schema: Schema, path: string, visit: (s: Schema, path: string) => void): void {
  visit(schema, path);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) walk(sub, `${path}.${name}`, visit);
  if (schema.items) walk(schema.items, `${path}[]`, visit);
  if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties, `${path}{}`, visit);
}

describe('the ChatTenant CRD', () => {
  it('in crds/ is exactly what `npm run crd` generates (run it after changing src/api)', async () => {
    const committed = await readFile(new URL(`../../crds/${CRD_FILE}`, import.meta.url), 'utf8');
    expect(committed).toBe(crdYaml());
  });

  it('describes every spec and status field, so kubectl explain helps', () => {
    const undocumented: string[] = [];
    const root = openApiSchema();
    for (const part of ['spec', 'status'] as const) {
      walk(root.properties![part]!, part, (s, path) => {
        if (!path.endsWith('[]') && !path.endsWith('{}') && typeof s['description'] !== 'string') undocumented.push(path);
      });
    }
    expect(undocumented).toEqual([]);
  });

  it('is structural: every node has a type, and no properties beside additionalProperties', () => {
    const problems: string[] = [];
    walk(openApiSchema(), '', (s, path) => {
      if (typeof s['type'] !== 'string' && s['x-kubernetes-int-or-string'] !== true) problems.push(`${path}: no type`);
      if (s.properties && s.additionalProperties !== undefined) problems.push(`${path}: properties and additionalProperties`);
      for (const key of ['anyOf', 'oneOf', 'allOf', '$ref']) if (key in s) problems.push(`${path}: ${key}`);
    });
    expect(problems).toEqual([]);
  });

  it('uses only regular expressions that Go (RE2) accepts: no lookaround or backreferences', () => {
    const patterns: string[] = [];
    walk(openApiSchema(), '', (s) => {
      if (typeof s['pattern'] === 'string') patterns.push(s['pattern']);
    });
    expect(patterns.length).toBeGreaterThan(5);
    expect(patterns.filter((p) => /\(\?[=!<]|\\[1-9]/.test(p))).toEqual([]);
  });

  it('has the status subresource, printer columns and CEL rules for immutable and cross-field rules', () => {
    const crd = yaml.load(crdYaml()) as { spec: { scope: string; names: { shortNames: string[] }; versions: Array<Record<string, unknown>> } };
    const version = crd.spec.versions[0]!;
    expect(crd.spec.scope).toBe('Cluster');
    expect(crd.spec.names.shortNames).toEqual(['ct']);
    expect(version['subresources']).toEqual({ status: {} });
    expect((version['additionalPrinterColumns'] as Array<{ name: string }>).map((c) => c.name)).toEqual(['Ready', 'Phase', 'Messaging', 'Database', 'Last Backup', 'Age']);
    const rules: string[] = [];
    walk(openApiSchema(), '', (s) => {
      for (const r of (s['x-kubernetes-validations'] as Array<{ rule: string }> | undefined) ?? []) rules.push(r.rule);
    });
    expect(rules).toEqual(
      expect.arrayContaining([
        'self == oldSelf',
        "self.provider != 'standalone' || !has(self.instances) || self.instances == 1",
        'has(self.pvc) != has(self.s3)',
        'self.metadata.name.size() <= 63',
      ]),
    );
  });
});
