// The on-disk format of an encrypted backup (format version 1), in one place.
//
//   header   magic "CTOBKENC" | version u8 | algorithm u8 | chunkSize u32 | salt[32] | keyId[8] | metaLen u16 | meta (JSON)
//   chunks   ciphertext || 16-byte GCM tag, one per chunk of `chunkSize` plaintext bytes
//
// Every chunk but the last carries exactly chunkSize plaintext bytes; the last carries 1..chunkSize
// (0 only when the whole plaintext is empty) and is always present. Each chunk's
// nonce holds its index and a "final" flag, and its additional data is the whole header (the STREAM
// construction of Hoang, Reyhanitabar, Rogaway and Vizár): a reordered chunk fails on its index, a
// truncated file fails because its last chunk is not marked final, a changed header or byte fails the
// tag, and bytes after the final chunk are rejected.

export const MAGIC = Buffer.from('CTOBKENC', 'ascii');
export const FORMAT_VERSION = 1;
/** AES-256-GCM under a per-file key derived with HKDF-SHA-256 from the tenant key and the salt. */
export const ALGORITHM_AES_256_GCM_HKDF_SHA256 = 1;
export const ALGORITHM_NAME = 'AES-256-GCM (per-file key: HKDF-SHA-256)';
export const TAG_BYTES = 16;
export const NONCE_BYTES = 12;
export const SALT_BYTES = 32;
export const KEY_ID_BYTES = 8;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
/** Upper bound so a corrupted header cannot make the reader allocate gigabytes. */
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024;
const FIXED_HEADER_BYTES = MAGIC.length + 1 + 1 + 4 + SALT_BYTES + KEY_ID_BYTES + 2;
const MAX_META_BYTES = 4096;

/** What the header says about the backup; authenticated with every chunk. */
export interface BackupHeaderMeta {
  backupId: string;
  tenant: string;
  createdAt: string;
}

export interface BackupHeader {
  version: number;
  algorithm: number;
  chunkSize: number;
  salt: Buffer;
  keyId: Buffer;
  meta: BackupHeaderMeta;
}

export class BackupFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFormatError';
  }
}

export function encodeHeader(header: BackupHeader): Buffer {
  if (header.salt.length !== SALT_BYTES) throw new Error(`salt must be ${SALT_BYTES} bytes`);
  if (header.keyId.length !== KEY_ID_BYTES) throw new Error(`key id must be ${KEY_ID_BYTES} bytes`);
  if (!Number.isInteger(header.chunkSize) || header.chunkSize < 1 || header.chunkSize > MAX_CHUNK_SIZE) throw new Error(`chunk size must be 1..${MAX_CHUNK_SIZE}`);
  const meta = Buffer.from(JSON.stringify({ backupId: header.meta.backupId, tenant: header.meta.tenant, createdAt: header.meta.createdAt }), 'utf8');
  if (meta.length > MAX_META_BYTES) throw new Error('header metadata too long');
  const fixed = Buffer.alloc(FIXED_HEADER_BYTES);
  let at = MAGIC.copy(fixed, 0);
  at = fixed.writeUInt8(header.version, at);
  at = fixed.writeUInt8(header.algorithm, at);
  at = fixed.writeUInt32BE(header.chunkSize, at);
  at += header.salt.copy(fixed, at);
  at += header.keyId.copy(fixed, at);
  fixed.writeUInt16BE(meta.length, at);
  return Buffer.concat([fixed, meta]);
}

/**
 * Parses a header from the start of `data`. Returns undefined while more bytes are needed, else the
 * header and its length in bytes (the header bytes themselves are the chunks' additional data).
 */
export function decodeHeader(data: Buffer): { header: BackupHeader; length: number } | undefined {
  if (data.length >= MAGIC.length && !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupFormatError('not an encrypted chat-tenant-operator backup (bad magic bytes)');
  }
  if (data.length < FIXED_HEADER_BYTES) return undefined;
  let at = MAGIC.length;
  const version = data.readUInt8(at++);
  if (version !== FORMAT_VERSION) throw new BackupFormatError(`unsupported backup format version ${version} (this runner reads version ${FORMAT_VERSION})`);
  const algorithm = data.readUInt8(at++);
  if (algorithm !== ALGORITHM_AES_256_GCM_HKDF_SHA256) throw new BackupFormatError(`unsupported encryption algorithm id ${algorithm}`);
  const chunkSize = data.readUInt32BE(at);
  at += 4;
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) throw new BackupFormatError(`invalid chunk size ${chunkSize} in header`);
  const salt = Buffer.from(data.subarray(at, at + SALT_BYTES));
  at += SALT_BYTES;
  const keyId = Buffer.from(data.subarray(at, at + KEY_ID_BYTES));
  at += KEY_ID_BYTES;
  const metaLength = data.readUInt16BE(at);
  at += 2;
  if (metaLength > MAX_META_BYTES) throw new BackupFormatError('header metadata too long');
  if (data.length < at + metaLength) return undefined;
  let meta: BackupHeaderMeta;
  try {
    const parsed = JSON.parse(data.subarray(at, at + metaLength).toString('utf8')) as Partial<BackupHeaderMeta>;
    if (typeof parsed.backupId !== 'string' || typeof parsed.tenant !== 'string' || typeof parsed.createdAt !== 'string') throw new Error('fields missing');
    meta = { backupId: parsed.backupId, tenant: parsed.tenant, createdAt: parsed.createdAt };
  } catch (error) {
    throw new BackupFormatError(`unreadable header metadata: ${(error as Error).message}`);
  }
  return { header: { version, algorithm, chunkSize, salt, keyId, meta }, length: at + metaLength };
}

/** Nonce of chunk `index`: the index (64-bit big-endian), three zero bytes, and the final flag. */
export function chunkNonce(index: number, final: boolean): Buffer {
  if (!Number.isSafeInteger(index) || index < 0) throw new Error('chunk index out of range');
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeBigUInt64BE(BigInt(index), 0);
  nonce.writeUInt8(final ? 1 : 0, NONCE_BYTES - 1);
  return nonce;
}
