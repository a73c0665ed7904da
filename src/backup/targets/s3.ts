import { Agent } from 'node:https';
import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ObjectNotFoundError, assertSafeObjectName, type BackupStore, type StoredObject } from './store.js';

// Backups in an S3-compatible object store (AWS S3, MinIO, versitygw, Ceph RGW, ...), through the
// AWS SDK. Objects are uploaded with multipart upload from a stream of unknown length; an object
// becomes visible only when the upload completes, and a failed upload is aborted.

export interface S3StoreConfig {
  /** https:// endpoint of the store. */
  endpoint: string;
  bucket: string;
  /** Key prefix, without a trailing slash (the tenant name by default). */
  prefix: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** PEM of the CA that issued the endpoint's certificate, for private CAs. */
  caPem?: string;
}

/** 16 MiB parts: 10,000 parts (the S3 limit) cover backups up to ~156 GiB. */
const PART_SIZE = 16 * 1024 * 1024;

export class S3Store implements BackupStore {
  private readonly client: S3Client;

  constructor(private readonly config: S3StoreConfig) {
    if (!/^https:\/\//.test(config.endpoint)) throw new Error(`S3 endpoint must be https:// (backups travel only over TLS), got ${config.endpoint}`);
    this.client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      // Path-style requests work with every S3-compatible store and need no wildcard DNS.
      forcePathStyle: true,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ keepAlive: true, minVersion: 'TLSv1.2', ...(config.caPem ? { ca: config.caPem } : {}) }) }),
      // Only the checksums the S3 API requires: older S3-compatible stores reject the newer flexible
      // checksum headers, and end-to-end integrity comes from the backup's own tags and manifest.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  get description(): string {
    return `s3://${this.config.bucket}/${this.config.prefix}`;
  }

  private key(name: string): string {
    assertSafeObjectName(name);
    return this.config.prefix ? `${this.config.prefix}/${name}` : name;
  }

  async put(name: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: this.key(name), Body: body, ContentType: 'application/octet-stream' },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async get(name: string): Promise<Readable> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.key(name) }));
      if (!(result.Body instanceof Readable)) throw new Error(`unexpected body type for ${name}`);
      return result.Body;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') throw new ObjectNotFoundError(name, this.description);
      throw error;
    }
  }

  async list(): Promise<StoredObject[]> {
    const prefix = this.config.prefix ? `${this.config.prefix}/` : '';
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const item of page.Contents ?? []) {
        if (!item.Key) continue;
        const name = item.Key.slice(prefix.length);
        // Objects in "sub-folders" of the prefix are not ours.
        if (name.includes('/') || name === '') continue;
        out.push({ name, bytes: item.Size ?? 0, modifiedAt: item.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async remove(name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.key(name) }));
  }

  destroy(): void {
    this.client.destroy();
  }
}
