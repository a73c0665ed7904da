import { createHash } from 'node:crypto';
import type { KubeObject } from '../render/index.js';

// Deciding whether an object needs a write. A reconcile that changes nothing must write nothing, so
// the operator applies an object only when (a) what it wants changed since it last applied it — seen
// through a hash annotation — or (b) the live object no longer holds what it wants (drift: someone
// scaled a StatefulSet, edited a label). (a) also catches fields the operator stopped setting, which a
// subset check alone cannot see.

export const ANNOTATION_DESIRED_HASH = 'chat.tenant-operator.dev/desired-hash';

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value as object).sort().map((k) => [k, stable((value as Record<string, unknown>)[k])]));
  }
  return value;
}

export function desiredHash(object: KubeObject): string {
  return createHash('sha256').update(JSON.stringify(stable(object))).digest('hex').slice(0, 32);
}

/** The object with its own hash in an annotation: what the operator applies. */
export function withDesiredHash(object: KubeObject): KubeObject {
  const hash = desiredHash(object);
  return { ...object, metadata: { ...object.metadata, annotations: { ...(object.metadata.annotations ?? {}), [ANNOTATION_DESIRED_HASH]: hash } } };
}

const QUANTITY = /^([+-]?[0-9.]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const FACTORS: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** The API server stores quantities in canonical form (6144Mi comes back as 6Gi): compare values. */
function sameQuantity(a: string, b: string): boolean {
  const ma = QUANTITY.exec(a);
  const mb = QUANTITY.exec(b);
  if (!ma || !mb) return false;
  const va = Number(ma[1]) * FACTORS[ma[2] ?? '']!;
  const vb = Number(mb[1]) * FACTORS[mb[2] ?? '']!;
  return Math.abs(va - vb) <= Math.abs(va) * 1e-12;
}

/**
 * True when every field of `desired` is present in `live` with the same value (objects recursively,
 * arrays element by element and of equal length). Fields only in `live` (defaults, status, other
 * managers' fields) do not matter.
 */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (desired === live) return true;
  if (typeof desired === 'string' && typeof live === 'string') return sameQuantity(desired, live);
  if (typeof desired === 'number' && typeof live === 'string') return sameQuantity(String(desired), live);
  if (Array.isArray(desired)) {
    return Array.isArray(live) && desired.length === live.length && desired.every((d, i) => isSubset(d, live[i]));
  }
  if (desired && typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return false;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => {
      const l = (live as Record<string, unknown>)[k];
      // An empty object or list the server drops (e.g. `emptyDir: {}` kept, `status: {}` dropped) is still "set".
      if (l === undefined) return (typeof v === 'object' && v !== null && Object.keys(v).length === 0) || v === false;
      return isSubset(v, l);
    });
  }
  return false;
}

/** Whether `desired` (with its hash annotation) must be applied over `live`. */
export function needsApply(desired: KubeObject, live: Record<string, unknown> | undefined): boolean {
  if (!live) return true;
  const liveHash = ((live['metadata'] as Record<string, unknown> | undefined)?.['annotations'] as Record<string, string> | undefined)?.[ANNOTATION_DESIRED_HASH];
  if (liveHash !== desired.metadata.annotations?.[ANNOTATION_DESIRED_HASH]) return true;
  return !isSubset(desired, live);
}
