import type { ChatTenant, ChatTenantObject } from '../api/index.js';

// One S3 location holds one tenant's backups. Two tenants whose bucket and prefix overlap would see
// each other's backups in every listing (restore "latest", retention), and a recursive clean-up or
// a lifecycle rule on one prefix would reach the other's PHI. So, as with XMPP domains, the tenant
// created first keeps the location and a later one is refused. Pure: adoption.ts passes the rivals.

/** Where an S3 target puts objects, normalised so that equal places compare equal. */
export interface S3Location {
  /** Scheme, host (lower case, default port dropped) and path, without a trailing slash. */
  endpoint: string;
  bucket: string;
  /** The key prefix split at "/", as the runner uses it (leading and trailing slashes dropped). */
  segments: string[];
}

export interface BackupTargetConflict {
  /** The field of this ChatTenant that causes the refusal. */
  field: string;
  /** Starts with the field; says what to do. */
  message: string;
}

type OtherTenant = Pick<ChatTenantObject, 'metadata' | 'spec'>;

const PREFIX_FIELD = 'spec.backup.target.s3.prefix';

function normalEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    return endpoint.trim().toLowerCase().replace(/\/+$/, '');
  }
}

/** The runner strips slashes at both ends of the prefix (src/cli/backup.ts); the default is the tenant name. */
function prefixSegments(prefix: string): string[] {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/**
 * The S3 location of a tenant's backups, or undefined when it backs up elsewhere. Reads the spec
 * defensively: another tenant's object may be invalid, and a raw object has no defaults filled in.
 */
export function s3LocationOf(tenantName: string, spec: unknown): S3Location | undefined {
  const s3 = (spec as { backup?: { target?: { s3?: unknown } } } | undefined)?.backup?.target?.s3 as Record<string, unknown> | undefined;
  if (!s3 || typeof s3 !== 'object' || typeof s3['endpoint'] !== 'string' || typeof s3['bucket'] !== 'string') return undefined;
  const prefix = typeof s3['prefix'] === 'string' ? s3['prefix'] : tenantName;
  return { endpoint: normalEndpoint(s3['endpoint']), bucket: s3['bucket'], segments: prefixSegments(prefix) };
}

/** Same store and bucket, and one prefix is the other or lies inside it (whole path segments: "a" and "ab" do not overlap). */
export function locationsOverlap(a: S3Location, b: S3Location): boolean {
  if (a.endpoint !== b.endpoint || a.bucket !== b.bucket) return false;
  const [shorter, longer] = a.segments.length <= b.segments.length ? [a.segments, b.segments] : [b.segments, a.segments];
  return shorter.every((segment, i) => segment === longer[i]);
}

const locationText = (l: S3Location) => `s3://${l.bucket}/${l.segments.join('/')} at ${l.endpoint}`;

/** The first of `earlier` (tenants created before this one) whose backup location overlaps this tenant's. */
export function backupTargetConflict(tenant: ChatTenant, earlier: readonly OtherTenant[]): BackupTargetConflict | undefined {
  const mine = s3LocationOf(tenant.metadata.name, tenant.spec);
  if (!mine) return undefined;
  for (const rival of earlier) {
    const theirs = s3LocationOf(rival.metadata.name, rival.spec);
    if (!theirs || !locationsOverlap(mine, theirs)) continue;
    const depth = mine.segments.length - theirs.segments.length;
    const how = depth === 0 ? 'is the same place as' : depth < 0 ? 'contains' : 'lies inside';
    return {
      field: PREFIX_FIELD,
      message:
        `${PREFIX_FIELD}: ${locationText(mine)} ${how} ${locationText(theirs)}, where ChatTenant "${rival.metadata.name}" (created earlier) keeps its backups; ` +
        'give each tenant a prefix of its own that neither contains nor lies inside another tenant\'s',
    };
  }
  return undefined;
}
