/**
 * Minimal Reflect metadata API for @peculiar/x509.
 *
 * @peculiar/x509 2.x uses tsyringe, which refuses to load unless `Reflect.getMetadata` exists
 * (normally provided by the `reflect-metadata` package, which is not a dependency of this project).
 * tsyringe only needs get/getOwn/define to look up constructor parameter types; x509 registers
 * parameterless classes, so a WeakMap-backed store is all it needs. If a real polyfill was loaded
 * first, it is left untouched. Import this module before @peculiar/x509.
 */
type MetadataKey = unknown;
type MetadataTarget = object;

interface ReflectMetadataApi {
  getMetadata(key: MetadataKey, target: MetadataTarget, property?: string | symbol): unknown;
  getOwnMetadata(key: MetadataKey, target: MetadataTarget, property?: string | symbol): unknown;
  defineMetadata(key: MetadataKey, value: unknown, target: MetadataTarget, property?: string | symbol): void;
  metadata(key: MetadataKey, value: unknown): (target: MetadataTarget, property?: string | symbol) => void;
}

const reflect = Reflect as typeof Reflect & Partial<ReflectMetadataApi>;

if (typeof reflect.getMetadata !== "function") {
  const store = new WeakMap<MetadataTarget, Map<string | symbol | undefined, Map<MetadataKey, unknown>>>();
  const ownMap = (target: MetadataTarget, property: string | symbol | undefined, create: boolean) => {
    let byProperty = store.get(target);
    if (!byProperty && create) store.set(target, (byProperty = new Map()));
    let byKey = byProperty?.get(property);
    if (!byKey && create && byProperty) byProperty.set(property, (byKey = new Map()));
    return byKey;
  };
  const api: ReflectMetadataApi = {
    getOwnMetadata: (key, target, property) => ownMap(target, property, false)?.get(key),
    getMetadata(key, target, property) {
      // Walk the prototype chain like reflect-metadata does.
      for (let t: MetadataTarget | null = target; t; t = Object.getPrototypeOf(t) as MetadataTarget | null) {
        const map = ownMap(t, property, false);
        if (map?.has(key)) return map.get(key);
      }
      return undefined;
    },
    defineMetadata: (key, value, target, property) => void ownMap(target, property, true)!.set(key, value),
    metadata: (key, value) => (target, property) => api.defineMetadata(key, value, target, property),
  };
  Object.assign(reflect, api);
}

export {};
