// What a candidate knows of the Lease, as client-go's leaderelection keeps it (observedRecord and
// observedTime): the record it last read, and the moment, on its OWN clock, at which it saw that
// record change. A lease has expired when it has not changed for its duration by that clock.
//
// The holder's renewTime is never compared with the local clock: the holder's clock may be ahead
// (a renewTime in the future keeps a dead holder alive) or behind (a fresh renewal looks stale and a
// second replica takes over while the first still reconciles). Only the local clock is trusted, and
// only to measure how long the record has stood still.

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaseObservation {
  record: LeaseRecord;
  /** Local monotonic time (ms) at which this record was first seen. */
  observedAtMs: number;
}

/** The record as written; fields the API server leaves out and fields it returns empty compare equal. */
export function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    (a.holderIdentity ?? '') === (b.holderIdentity ?? '') &&
    (a.leaseDurationSeconds ?? 0) === (b.leaseDurationSeconds ?? 0) &&
    (a.acquireTime ?? '') === (b.acquireTime ?? '') &&
    (a.renewTime ?? '') === (b.renewTime ?? '') &&
    (a.leaseTransitions ?? 0) === (b.leaseTransitions ?? 0)
  );
}

/** The observation after reading `record` at `nowMs`: the clock restarts only when the record changed. */
export function observe(previous: LeaseObservation | undefined, record: LeaseRecord, nowMs: number): LeaseObservation {
  if (previous && sameRecord(previous.record, record)) return previous;
  return { record, observedAtMs: nowMs };
}

/**
 * Another candidate holds the lease and may still be leading: it has not stood still for the
 * duration its holder declared (or `fallbackDurationSeconds` if it declared none).
 */
export function heldByAnother(observation: LeaseObservation, identity: string, nowMs: number, fallbackDurationSeconds: number): boolean {
  const holder = observation.record.holderIdentity ?? '';
  if (holder === '' || holder === identity) return false;
  const durationMs = (observation.record.leaseDurationSeconds || fallbackDurationSeconds) * 1000;
  return observation.observedAtMs + durationMs > nowMs;
}
