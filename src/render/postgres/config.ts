// PostgreSQL configuration the operator stands behind: TLS only (1.2+), SCRAM only, and a pg_hba
// that accepts hostssl + scram-sha-256 and rejects everything else. Shared by the standalone
// StatefulSet, the CloudNativePG Cluster (as parameters) and the tests (Debian's PostgreSQL).

export interface PostgresTlsPaths {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/**
 * Mozilla's "intermediate" profile for TLS 1.2 (ssl-config.mozilla.org, guidelines 5.7): forward
 * secrecy and AEAD only. PostgreSQL's default (HIGH:MEDIUM:+3DES:!aNULL) also accepts CBC suites
 * with SHA-1 and SHA-2 MACs. TLS 1.3 suites are set apart by OpenSSL and are all AEAD.
 */
export const MOZILLA_INTERMEDIATE_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * Parameters that hold in every provider. The standalone server accepts TLS 1.2 and up (the
 * design's floor); CloudNativePG's own default is TLS 1.3 and the Cluster keeps it (cnpg.ts).
 */
export function securityParameters(minTls: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.2'): Record<string, string> {
  return {
    ssl_min_protocol_version: minTls,
    // ssl_ciphers governs TLS 1.2 and older only; under a TLS 1.3 floor it has nothing to choose.
    ...(minTls === 'TLSv1.2' ? { ssl_ciphers: MOZILLA_INTERMEDIATE_TLS12_CIPHERS, ssl_prefer_server_ciphers: 'on' } : {}),
    password_encryption: 'scram-sha-256',
    log_connections: 'on',
    log_disconnections: 'on',
    // Audit trail of who changed what, without logging row data.
    log_statement: 'ddl',
    log_line_prefix: '%m [%p] user=%u db=%d host=%h app=%a ',
  };
}

export function renderPostgresqlConf(tls: PostgresTlsPaths, extra: Record<string, string> = {}): string {
  const params: Record<string, string> = {
    listen_addresses: "'*'",
    ssl: 'on',
    ssl_cert_file: `'${tls.certFile}'`,
    ssl_key_file: `'${tls.keyFile}'`,
    ssl_ca_file: `'${tls.caFile}'`,
    ...Object.fromEntries(Object.entries(securityParameters()).map(([k, v]) => [k, /^[a-z0-9.-]+$/i.test(v) ? v : `'${v}'`])),
    ...extra,
  };
  return Object.entries(params).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n';
}

/**
 * Only TLS with SCRAM gets in. The one local rule lets the postgres OS user (the container's own
 * process: init scripts, probes) in over the Unix socket by peer identity; it cannot be used from
 * the network.
 */
export function renderPgHba(): string {
  return [
    '# TYPE   DATABASE  USER      ADDRESS    METHOD',
    'local    all       postgres             peer',
    'local    all       all                  reject',
    'hostssl  all       all       0.0.0.0/0  scram-sha-256',
    'hostssl  all       all       ::/0       scram-sha-256',
    'host     all       all       0.0.0.0/0  reject',
    'host     all       all       ::/0       reject',
    '',
  ].join('\n');
}

/**
 * pg_hba lines for CloudNativePG. CloudNativePG writes its fixed rules first (local peer access
 * for its instance manager; certificate-only TLS for streaming_replica and its pooler user), then
 * these, then its default `host all all all scram-sha-256`, which would also accept connections
 * without TLS. Rejecting every non-TLS connection here, before that default, leaves TLS + SCRAM as
 * the only way in; the default line is never reached.
 */
export function cloudNativePGHbaRules(): string[] {
  return ['hostnossl all all all reject', 'hostssl all all all scram-sha-256', 'host all all all reject'];
}
