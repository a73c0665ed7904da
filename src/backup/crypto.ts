import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  ALGORITHM_AES_256_GCM_HKDF_SHA256,
  BackupFormatError,
  DEFAULT_CHUNK_SIZE,
  FORMAT_VERSION,
  KEY_ID_BYTES,
  SALT_BYTES,
  TAG_BYTES,
  chunkNonce,
  decodeHeader,
  encodeHeader,
  type BackupHeader,
  type BackupHeaderMeta,
} from './format.js';

// Authenticated encryption of a backup stream (format.ts describes the layout). The tenant key never
// encrypts anything directly: every file gets its own key from HKDF over a random salt, so nonces
// can be plain chunk counters without ever repeating under one key.

export const KEY_BYTES = 32;
const DATA_KEY_INFO = 'chat-tenant-operator/backup/v1/data';
const MANIFEST_KEY_INFO = 'chat-tenant-operator/backup/v1/manifest';
const KEY_ID_INFO = 'chat-tenant-operator/backup/key-id';

/** A tenant backup key, checked for length. */
export class BackupKey {
  private constructor(readonly bytes: Buffer) {}

  static fromBytes(bytes: Buffer): BackupKey {
    if (bytes.length !== KEY_BYTES) throw new Error(`a backup key is ${KEY_BYTES} bytes, got ${bytes.length}`);
    return new BackupKey(Buffer.from(bytes));
  }

  /**
   * The Secret backup-encryption-key stores the key as base64 text (44 characters), which is what a
   * mounted key file holds; 32 raw bytes are accepted too (a key decoded by hand).
   */
  static fromFileContent(content: Buffer): BackupKey {
    const text = content.toString('latin1').trim();
    if (/^[A-Za-z0-9+/]{43}=$/.test(text)) return BackupKey.fromBytes(Buffer.from(text, 'base64'));
    // Random bytes that happen to look like base64 text are vanishingly rare; such text is a mistake.
    if (content.length === KEY_BYTES && !/^[A-Za-z0-9+/=\s]*$/.test(text)) return BackupKey.fromBytes(content);
    throw new Error(`the key file must hold the base64 of ${KEY_BYTES} bytes (44 characters, as in the Secret) or ${KEY_BYTES} raw bytes; it holds ${content.length} bytes`);
  }

  /** A public fingerprint of the key, stored in every backup, so a wrong key is named as such. */
  get id(): Buffer {
    return createHmac('sha256', this.bytes).update(KEY_ID_INFO).digest().subarray(0, KEY_ID_BYTES);
  }

  dataKey(salt: Buffer): Buffer {
    return Buffer.from(hkdfSync('sha256', this.bytes, salt, DATA_KEY_INFO, KEY_BYTES));
  }

  manifestKey(): Buffer {
    return Buffer.from(hkdfSync('sha256', this.bytes, Buffer.alloc(0), MANIFEST_KEY_INFO, KEY_BYTES));
  }
}

export class BackupIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupIntegrityError';
  }
}

export interface EncryptOptions {
  key: BackupKey;
  meta: BackupHeaderMeta;
  /** 32 random bytes; passed in so this module takes no hidden randomness. */
  salt: Buffer;
  chunkSize?: number;
}

/** Plaintext in, header and sealed chunks out. */
export class EncryptingStream extends Transform {
  private readonly header: Buffer;
  private readonly dataKey: Buffer;
  private readonly chunkSize: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;

  constructor(options: EncryptOptions) {
    super();
    if (options.salt.length !== SALT_BYTES) throw new Error(`salt must be ${SALT_BYTES} bytes`);
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const header: BackupHeader = { version: FORMAT_VERSION, algorithm: ALGORITHM_AES_256_GCM_HKDF_SHA256, chunkSize: this.chunkSize, salt: options.salt, keyId: options.key.id, meta: options.meta };
    this.header = encodeHeader(header);
    this.dataKey = options.key.dataKey(options.salt);
    this.push(this.header);
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(data);
    this.pendingBytes += data.length;
    // Keep back at least one byte: only flush knows which chunk is the final one.
    if (this.pendingBytes > this.chunkSize) {
      const all = Buffer.concat(this.pending);
      let at = 0;
      while (all.length - at > this.chunkSize) {
        this.push(this.seal(all.subarray(at, at + this.chunkSize), false));
        at += this.chunkSize;
      }
      this.pending = [all.subarray(at)];
      this.pendingBytes = all.length - at;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.push(this.seal(Buffer.concat(this.pending), true));
    this.pending = [];
    callback();
  }

  private seal(plaintext: Buffer, final: boolean): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, chunkNonce(this.index++, final), { authTagLength: TAG_BYTES });
    cipher.setAAD(this.header);
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }
}

export interface DecryptOptions {
  key: BackupKey;
  /** When given, the header must name this backup: a file swapped for another backup is refused. */
  expectedBackupId?: string;
}

/**
 * Header and sealed chunks in, verified plaintext out. A chunk's plaintext is released only after
 * its tag verified; any failure ends the stream with a BackupIntegrityError naming the chunk.
 */
export class DecryptingStream extends Transform {
  private buffered: Buffer = Buffer.alloc(0);
  private header: { header: BackupHeader; bytes: Buffer } | undefined;
  private dataKey: Buffer | undefined;
  private index = 0;
  private finished = false;

  constructor(private readonly options: DecryptOptions) {
    super();
  }

  /** The verified-so-far header (its authenticity is proven by the first chunk that decrypts). */
  get headerMeta(): BackupHeaderMeta | undefined {
    return this.header?.header.meta;
  }

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.buffered = this.buffered.length === 0 ? data : Buffer.concat([this.buffered, data]);
      if (!this.header && !this.readHeader()) return callback();
      const sealedChunk = this.header!.header.chunkSize + TAG_BYTES;
      // A full-size chunk followed by more data cannot be the final one.
      while (this.buffered.length > sealedChunk) {
        this.push(this.open(this.buffered.subarray(0, sealedChunk), false));
        this.buffered = this.buffered.subarray(sealedChunk);
      }
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.header) throw new BackupIntegrityError('the backup file is truncated: it ends inside the header');
      if (this.buffered.length < TAG_BYTES) throw new BackupIntegrityError(`the backup file is truncated: chunk ${this.index} is incomplete`);
      this.push(this.open(this.buffered, true));
      this.finished = true;
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private readHeader(): boolean {
    let decoded: ReturnType<typeof decodeHeader>;
    try {
      decoded = decodeHeader(this.buffered);
    } catch (error) {
      if (error instanceof BackupFormatError) throw new BackupIntegrityError(`the backup header is damaged or this is not a backup: ${error.message}`);
      throw error;
    }
    if (!decoded) return false;
    const { header, length } = decoded;
    const keyId = this.options.key.id;
    if (!header.keyId.equals(keyId)) {
      throw new BackupIntegrityError(`wrong key: this backup was encrypted with key ${header.keyId.toString('hex')}, the key given has id ${keyId.toString('hex')}`);
    }
    if (this.options.expectedBackupId !== undefined && header.meta.backupId !== this.options.expectedBackupId) {
      throw new BackupIntegrityError(`the file holds backup "${header.meta.backupId}", not "${this.options.expectedBackupId}"`);
    }
    this.header = { header, bytes: Buffer.from(this.buffered.subarray(0, length)) };
    this.dataKey = this.options.key.dataKey(header.salt);
    this.buffered = this.buffered.subarray(length);
    return true;
  }

  private open(sealed: Buffer, final: boolean): Buffer {
    if (this.finished) throw new BackupIntegrityError('data after the final chunk');
    const index = this.index++;
    const ciphertext = sealed.subarray(0, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.dataKey!, chunkNonce(index, final), { authTagLength: TAG_BYTES });
    decipher.setAAD(this.header!.bytes);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      const what = final
        ? 'the file was modified or truncated (its last chunk is not an intact final chunk)'
        : 'the file was modified, or its chunks reordered';
      throw new BackupIntegrityError(`authentication failed at chunk ${index}: ${what}`);
    }
  }
}

/** Counts bytes and computes SHA-256 of what passes through. */
export class DigestingStream extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  override _transform(data: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(data);
    this.bytes += data.length;
    callback(null, data);
  }

  /** Hex digest; call once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
