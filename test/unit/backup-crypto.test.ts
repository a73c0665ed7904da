import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BackupIntegrityError, BackupKey, DecryptingStream, EncryptingStream } from '../../src/backup/crypto.js';
import { TAG_BYTES, decodeHeader } from '../../src/backup/format.js';

const key = BackupKey.fromBytes(Buffer.alloc(32, 7));
const otherKey = BackupKey.fromBytes(Buffer.alloc(32, 8));
const meta = { backupId: 'clinic-20261123T020000Z', tenant: 'clinic', createdAt: '2026-11-23T02:00:00.000Z' };
const CHUNK = 64;

/** Feeds `data` in pieces of the given sizes, so chunking cannot depend on how input arrives. */
function pieces(data: Buffer, sizes: number[] = [data.length || 1]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  let i = 0;
  while (at < data.length) {
    const size = Math.max(1, sizes[i++ % sizes.length]!);
    out.push(data.subarray(at, at + size));
    at += size;
  }
  return out;
}

async function collect(source: Readable, transform: NodeJS.ReadWriteStream): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(source, transform, new Writable({ write: (chunk, _e, cb) => (out.push(chunk as Buffer), cb()) }));
  return Buffer.concat(out);
}

const encrypt = (plain: Buffer, options: { sizes?: number[]; salt?: Buffer; k?: BackupKey; chunkSize?: number } = {}) =>
  collect(Readable.from(pieces(plain, options.sizes)), new EncryptingStream({ key: options.k ?? key, meta, salt: options.salt ?? Buffer.alloc(32, 1), chunkSize: options.chunkSize ?? CHUNK }));

const decrypt = (sealed: Buffer, options: { sizes?: number[]; k?: BackupKey; expectedBackupId?: string } = {}) =>
  collect(Readable.from(pieces(sealed, options.sizes)), new DecryptingStream({ key: options.k ?? key, ...(options.expectedBackupId ? { expectedBackupId: options.expectedBackupId } : {}) }));

function headerLength(sealed: Buffer): number {
  return decodeHeader(sealed)!.length;
}

describe('backup encryption (format 1)', () => {
  it('round-trips any plaintext, however the input and the ciphertext are split', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5 * CHUNK + 3 }), fc.array(fc.integer({ min: 1, max: 3 * CHUNK }), { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 5 }), async (bytes, inSizes, outSizes) => {
        const plain = Buffer.from(bytes);
        const sealed = await encrypt(plain, { sizes: inSizes });
        expect(await decrypt(sealed, { sizes: outSizes })).toEqual(plain);
      }),
      { numRuns: 150 },
    );
  });

  it('writes full chunks and an always-present final chunk', async () => {
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK]) {
      const sealed = await encrypt(randomBytes(size));
      const body = sealed.length - headerLength(sealed);
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      expect(body, `plaintext of ${size} bytes`).toBe(size + chunks * TAG_BYTES);
    }
  });

  it('holds no plaintext, and the same plaintext encrypts differently under another salt', async () => {
    const plain = Buffer.from('patient Jane Roe, MRN 0042: allergic to penicillin. '.repeat(20));
    const a = await encrypt(plain, { salt: Buffer.alloc(32, 1) });
    const b = await encrypt(plain, { salt: Buffer.alloc(32, 2) });
    expect(a.includes(Buffer.from('penicillin'))).toBe(false);
    expect(a.subarray(headerLength(a))).not.toEqual(b.subarray(headerLength(b)));
  });

  it('rejects a flipped bit anywhere: header, ciphertext or tag', async () => {
    const sealed = await encrypt(randomBytes(2 * CHUNK + 10));
    for (let at = 0; at < sealed.length; at++) {
      const tampered = Buffer.from(sealed);
      tampered[at]! ^= 0x01;
      await expect(decrypt(tampered), `byte ${at}`).rejects.toThrow();
    }
  });

  it('rejects truncation at every length, including at chunk boundaries', async () => {
    const sealed = await encrypt(randomBytes(3 * CHUNK));
    for (let length = 0; length < sealed.length; length++) {
      await expect(decrypt(sealed.subarray(0, length)), `cut at ${length}`).rejects.toThrow(BackupIntegrityError);
    }
  });

  it('rejects reordered chunks and data after the final chunk', async () => {
    const sealed = await encrypt(randomBytes(3 * CHUNK + 5));
    const h = headerLength(sealed);
    const sealedChunk = CHUNK + TAG_BYTES;
    const chunk = (i: number) => sealed.subarray(h + i * sealedChunk, h + (i + 1) * sealedChunk);
    const swapped = Buffer.concat([sealed.subarray(0, h), chunk(1), chunk(0), sealed.subarray(h + 2 * sealedChunk)]);
    await expect(decrypt(swapped)).rejects.toThrow(/chunk 0.*reordered/);
    await expect(decrypt(Buffer.concat([sealed, Buffer.alloc(TAG_BYTES)]))).rejects.toThrow(BackupIntegrityError);
  });

  it('names a wrong key as such, before decrypting anything', async () => {
    const sealed = await encrypt(randomBytes(100));
    await expect(decrypt(sealed, { k: otherKey })).rejects.toThrow(/wrong key/);
  });

  it('refuses a file that holds another backup than the one asked for', async () => {
    const sealed = await encrypt(randomBytes(100));
    await expect(decrypt(sealed, { expectedBackupId: 'clinic-20261122T020000Z' })).rejects.toThrow(/holds backup "clinic-20261123T020000Z"/);
    expect((await decrypt(sealed, { expectedBackupId: meta.backupId })).length).toBe(100);
  });

  it('rejects a file that is not an encrypted backup', async () => {
    await expect(decrypt(Buffer.from('PGDMP custom archive, not encrypted'))).rejects.toThrow(/not an encrypted chat-tenant-operator backup/);
  });
});

describe('BackupKey', () => {
  const raw = randomBytes(32);

  it('reads the base64 text the Secret stores (with or without a trailing newline) and 32 raw bytes', () => {
    expect(BackupKey.fromFileContent(Buffer.from(raw.toString('base64'))).bytes).toEqual(raw);
    expect(BackupKey.fromFileContent(Buffer.from(`${raw.toString('base64')}\n`)).bytes).toEqual(raw);
    expect(BackupKey.fromFileContent(raw).bytes).toEqual(raw);
  });

  it('refuses anything else with a message that says what a key file holds', () => {
    expect(() => BackupKey.fromFileContent(Buffer.from('too short'))).toThrow(/base64 of 32 bytes/);
    expect(() => BackupKey.fromFileContent(randomBytes(16))).toThrow(/holds 16 bytes/);
    expect(() => BackupKey.fromFileContent(Buffer.from(randomBytes(24).toString('base64')))).toThrow(/base64 of 32 bytes/);
  });

  it('has an id that differs between keys and does not reveal the key', () => {
    expect(key.id).toHaveLength(8);
    expect(key.id).not.toEqual(otherKey.id);
    expect(key.bytes.includes(key.id)).toBe(false);
  });
});
