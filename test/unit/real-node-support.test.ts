import { describe, expect, it } from 'vitest';
import { realNodeUnsupportedReason, type HostFacts } from '../../src/controlplane/node/host-support.js';

// `npm start` gets a real node only where it can run, and otherwise says in one line why not.

const capable: HostFacts = { platform: 'linux', uid: 0, filesystems: 'nodev\tsysfs\nnodev\toverlay\n\text4\n', ext4Encryption: true, apt: true };

describe('whether the real node can run here', () => {
  it('runs on Linux as root with overlayfs, ext4 encryption and apt', () => {
    expect(realNodeUnsupportedReason(capable)).toBeUndefined();
  });

  it.each<[string, Partial<HostFacts>, RegExp]>([
    ['another system', { platform: 'darwin' }, /needs Linux \(this is darwin\)/],
    ['a user that is not root', { uid: 1000 }, /needs root/],
    ['no overlay file system', { filesystems: 'nodev\tsysfs\n\text4\n' }, /no overlay file system/],
    ['no ext4 encryption', { ext4Encryption: false }, /no ext4 encryption/],
    ['no apt', { apt: false }, /no apt-get/],
  ])('says why not on %s', (_what, change, reason) => {
    expect(realNodeUnsupportedReason({ ...capable, ...change })).toMatch(reason);
  });
});
