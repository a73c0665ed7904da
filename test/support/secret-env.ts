// Finds environment variables fed from a Secret anywhere in an object: in containers and init
// containers of any pod template, and in any other `env`/`envFrom` list (CloudNativePG's Cluster has
// spec.env and spec.envFrom). Walks the whole object rather than known paths, so a container added
// in a new place is checked too. A secret in an environment is readable in /proc/<pid>/environ and
// inherited by every child process; secrets must arrive as files.

type Json = Record<string, any>;

export function secretFedEnv(object: unknown, where = ''): string[] {
  if (Array.isArray(object)) return object.flatMap((item, i) => secretFedEnv(item, `${where}[${i}]`));
  if (object === null || typeof object !== 'object') return [];
  const found: string[] = [];
  for (const [key, value] of Object.entries(object as Json)) {
    const path = where ? `${where}.${key}` : key;
    if (key === 'env' && Array.isArray(value)) {
      for (const e of value as Json[]) if (e?.['valueFrom']?.['secretKeyRef']) found.push(`${path}: ${e['name']} from Secret ${e['valueFrom']['secretKeyRef']['name']}`);
    } else if (key === 'envFrom' && Array.isArray(value)) {
      for (const e of value as Json[]) if (e?.['secretRef']) found.push(`${path}: every key of Secret ${e['secretRef']['name']}`);
    }
    found.push(...secretFedEnv(value, path));
  }
  return found;
}
