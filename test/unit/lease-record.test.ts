import { describe, expect, it } from 'vitest';
import { heldByAnother, observe, sameRecord, type LeaseRecord } from '../../src/kube/lease-record.js';

// Expiry of a Lease as a standby judges it: by how long the record has stood still on the standby's
// own clock, whatever the holder wrote in renewTime.

const record = (over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holderIdentity: 'leader',
  leaseDurationSeconds: 15,
  acquireTime: '2026-11-29T09:00:00.000000Z',
  renewTime: '2026-11-29T09:00:00.000000Z',
  leaseTransitions: 3,
  ...over,
});

describe('observe', () => {
  it('keeps the time of the first sighting while the record stays the same', () => {
    const first = observe(undefined, record(), 1_000);
    expect(observe(first, record(), 9_000)).toEqual({ record: record(), observedAtMs: 1_000 });
  });

  it('restarts the clock when any field of the record changes', () => {
    const first = observe(undefined, record(), 1_000);
    const changes = [{ renewTime: '2026-11-29T09:00:02.000000Z' }, { holderIdentity: 'other' }, { leaseTransitions: 4 }, { leaseDurationSeconds: 1 }];
    for (const change of changes) {
      expect(observe(first, record(change), 9_000).observedAtMs).toBe(9_000);
    }
  });

  it('treats fields the server left out as empty', () => {
    expect(sameRecord({ holderIdentity: '' }, {})).toBe(true);
  });
});

describe('heldByAnother', () => {
  it('a renewTime far in the past (the holder clock is behind) does not expire a record that just changed', () => {
    const seen = observe(undefined, record({ renewTime: '2001-01-01T00:00:00.000000Z' }), 50_000);
    expect(heldByAnother(seen, 'standby', 50_000 + 14_999, 15)).toBe(true);
  });

  it('a renewTime in the future (the holder clock is ahead) does not keep alive a record that stood still', () => {
    const seen = observe(undefined, record({ renewTime: '2099-01-01T00:00:00.000000Z' }), 50_000);
    expect(heldByAnother(seen, 'standby', 50_000 + 15_000, 15)).toBe(false);
  });

  it('a standby that sees a lease for the first time waits a whole lease duration, however old renewTime is', () => {
    const seen = observe(undefined, record(), 1_000_000);
    expect(heldByAnother(seen, 'standby', 1_000_000, 15)).toBe(true);
  });

  it('uses the duration the holder declared, else the fallback', () => {
    const seen = observe(undefined, record({ leaseDurationSeconds: 4 }), 0);
    expect(heldByAnother(seen, 'standby', 4_000, 15)).toBe(false);
    const undeclared = observe(undefined, record({ leaseDurationSeconds: undefined }), 0);
    expect(heldByAnother(undeclared, 'standby', 4_000, 15)).toBe(true);
  });

  it('an empty holder (a released lease) and our own identity are never held by another', () => {
    expect(heldByAnother(observe(undefined, record({ holderIdentity: '' }), 0), 'standby', 0, 15)).toBe(false);
    expect(heldByAnother(observe(undefined, record({ holderIdentity: 'standby' }), 0), 'standby', 0, 15)).toBe(false);
  });
});
