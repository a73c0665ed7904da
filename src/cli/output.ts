import yaml from 'js-yaml';

/** Multi-document YAML, stable key order as built, no line folding: diffs stay readable in GitOps. */
export function toYamlDocuments(objects: readonly unknown[]): string {
  return objects.map((o) => '---\n' + yaml.dump(o, { noRefs: true, lineWidth: -1, sortKeys: false })).join('');
}

export function toYaml(object: unknown): string {
  return yaml.dump(object, { noRefs: true, lineWidth: -1, sortKeys: false });
}
