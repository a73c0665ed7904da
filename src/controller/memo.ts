import { createHash } from 'node:crypto';

/**
 * Remembers the results of a pure function of strings, for the most recent `capacity` inputs.
 * Certificate checks parse X.509 and ASN.1 on every reconcile of every tenant although the PEMs
 * rarely change; with this they cost a hash lookup. Keys are SHA-256 digests, so private keys passed
 * in are not kept as map keys. Thrown errors are not remembered.
 */
export function memoizeStrings<A extends string[], R>(fn: (...args: A) => R, capacity = 4096): (...args: A) => R {
  const results = new Map<string, R>();
  return (...args: A): R => {
    const hash = createHash('sha256');
    for (const a of args) hash.update(a).update('\0');
    const key = hash.digest('base64');
    if (results.has(key)) return results.get(key)!;
    const value = fn(...args);
    if (value instanceof Promise) value.catch(() => results.delete(key));
    results.set(key, value);
    // Oldest first: a Map iterates in insertion order.
    if (results.size > capacity) results.delete(results.keys().next().value!);
    return value;
  };
}
