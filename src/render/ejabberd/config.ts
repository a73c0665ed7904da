import yaml from 'js-yaml';
import { directoryOf, type ChatTenant } from '../../api/index.js';
import { ACCOUNT_LIFECYCLE_MODULE } from './account-lifecycle-module.js';
import { adminJids } from '../secrets.js';
import { authOptions, directoryModules } from './directory.js';
import { ERLANG_MODULES, OPTIONAL_ERLANG_MODULES } from './erlang-modules.js';
import type { EjabberdRuntime } from './runtime.js';

export type { EjabberdFlavour, EjabberdRuntime } from './runtime.js';

// ejabberd.yml, generated from the spec. The same function serves the cluster (the official image)
// and the workload tests (Debian's ejabberd 23.01 on loopback ports): only EjabberdRuntime differs,
// and where the two ejabberd versions name an option differently the flavour decides.

/** TLS 1.2 and newer only (OpenSSL options, as ejabberd's fast_tls takes them), no TLS compression. */
export const TLS_PROTOCOL_OPTIONS = ['no_sslv2', 'no_sslv3', 'no_tlsv1', 'no_tlsv1_1', 'cipher_server_preference', 'no_compression'];
/** Forward-secret AEAD suites only for TLS 1.2 (TLS 1.3 suites are all of that kind already). */
export const TLS_CIPHERS = 'ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL:!MD5:!RC4:!3DES';

/** Two years, as Mozilla's intermediate profile sets it. */
export const HSTS_HEADER = { 'Strict-Transport-Security': 'max-age=63072000' };

/**
 * Stored password format: SCRAM with SHA-256. The server keeps only salted SCRAM keys, never a
 * password or a plain hash. SHA-256 rather than SHA-1 because it is what current guidance asks of
 * new password storage and every maintained client speaks SCRAM-SHA-256 (Conversations, Monal, Gajim,
 * Dino, Converse.js/Strophe, Smack). Clients that only know SCRAM-SHA-1 (xmpp.js up to 0.14, old
 * libpurple) still log in with PLAIN inside the mandatory TLS channel; the server checks it against
 * the SHA-256 keys. SHA-512 is left out: too few clients speak it. Changing this later locks out every
 * existing account (ejabberd can only verify the hash it stored), so it is a constant, not a knob.
 */
export const SCRAM_HASH = 'sha256';

/** The c2s shaper lets one largest-allowed stanza through at once, then this many bytes a second. */
export const C2S_RATE_BYTES_PER_SECOND = 10_000;

type Yaml = Record<string, unknown>;

function tlsListenerOptions(): Yaml {
  return { protocol_options: TLS_PROTOCOL_OPTIONS, ciphers: TLS_CIPHERS, tls_compression: false };
}

function listeners(tenant: ChatTenant, runtime: EjabberdRuntime): Yaml[] {
  const m = tenant.spec.messaging;
  const c2s = { ip: runtime.bindAddress, module: 'ejabberd_c2s', max_stanza_size: m.maxStanzaSizeKiB * 1024, shaper: 'c2s_shaper', access: 'c2s', ...tlsListenerOptions() };
  const out: Yaml[] = [
    // 5222: nothing but STARTTLS and stream errors before TLS is up.
    { port: runtime.ports.c2sStartTls, ...c2s, starttls_required: true },
    // 5223: direct TLS (XEP-0368).
    { port: runtime.ports.c2sDirectTls, ...c2s, tls: true },
    // WebSocket and BOSH exist on this TLS listener only. No web admin, no HTTP API, no upload.
    // HSTS: a browser that once reached BOSH/WebSocket here never tries plain HTTP for the host again.
    { port: runtime.ports.https, ip: runtime.bindAddress, module: 'ejabberd_http', tls: true, ...tlsListenerOptions(), custom_headers: HSTS_HEADER, request_handlers: { '/bosh': 'mod_bosh', '/ws': 'ejabberd_http_ws' } },
  ];
  if (m.federation) {
    out.push({ port: runtime.ports.s2s, ip: runtime.bindAddress, module: 'ejabberd_s2s_in', max_stanza_size: m.maxStanzaSizeKiB * 1024, shaper: 's2s_shaper', ...tlsListenerOptions() });
  }
  return out;
}

/** Options whose name or existence differs between the two ejabberd versions. */
function flavourOptions(runtime: EjabberdRuntime): Yaml {
  if (runtime.flavour === 'official-image') {
    return {
      // Renamed from new_sql_schema in 25.10.
      sql_schema_multihost: true,
      // 23.10+: ejabberd creates and migrates its own tables, so an image upgrade carries its schema.
      update_sql_schema: true,
    };
  }
  // 23.01 has no update_sql_schema: the schema (pg.new.sql) is loaded before the first start.
  return { new_sql_schema: true };
}

function sqlOptions(runtime: EjabberdRuntime): Yaml {
  const { sql } = runtime;
  return {
    sql_type: 'pgsql',
    sql_server: sql.server,
    sql_port: sql.port,
    sql_database: sql.database,
    sql_username: sql.username,
    sql_password: sql.password,
    // TLS to PostgreSQL with the server certificate verified: it must chain to the tenant CA and name
    // sql_server (Erlang's ssl checks the host name; the workload tests watch it refuse a mismatch).
    sql_ssl: true,
    sql_ssl_verify: true,
    sql_ssl_cafile: sql.caFile,
    sql_pool_size: 10,
    // Seconds before a lost connection is opened again (30 by default). A database failover closes
    // every pooled connection; until they reopen, archive writes wait or fail, so this wait adds
    // itself to the recovery time (docs/operations.md, failover).
    sql_start_interval: 1,
    ...flavourOptions(runtime),
    // Everything persistent lives in PostgreSQL: accounts, rosters, archive, offline messages, rooms.
    default_db: 'sql',
  };
}

function accessOptions(tenant: ChatTenant): Yaml {
  const federation = tenant.spec.messaging.federation;
  return {
    acl: {
      admin: { user: adminJids(tenant) },
      local: { user_regexp: '' },
    },
    access_rules: {
      local: { allow: 'local' },
      c2s: { allow: 'all' },
      announce: { allow: 'admin' },
      configure: { allow: 'admin' },
      muc_create: { allow: 'local' },
      pubsub_createnode: { allow: 'local' },
      s2s: federation ? { allow: 'all' } : { deny: 'all' },
      // No in-band registration: accounts are created by the tenant's admins.
      register: { deny: 'all' },
    },
    // ejabberdctl is the only command interface; reaching it takes the tenant's Erlang cookie.
    api_permissions: { 'console commands': { from: ['ejabberd_ctl'], who: 'all', what: '*' } },
  };
}

function shaperOptions(tenant: ChatTenant): Yaml {
  const maxStanza = tenant.spec.messaging.maxStanzaSizeKiB * 1024;
  return {
    shaper: { normal: { rate: C2S_RATE_BYTES_PER_SECOND, burst_size: maxStanza }, fast: 100_000 },
    shaper_rules: {
      max_user_sessions: 10,
      max_user_offline_messages: 5000,
      c2s_shaper: { none: 'admin', normal: 'all' },
      s2s_shaper: 'fast',
    },
  };
}

function modules(tenant: ChatTenant): Yaml {
  const m = tenant.spec.messaging;
  const operatorModules = Object.fromEntries(ERLANG_MODULES.filter((mod) => !OPTIONAL_ERLANG_MODULES.has(mod.name)).map((mod) => [mod.name, {}]));
  return {
    mod_adhoc: {},
    mod_admin_extra: {},
    mod_announce: { access: 'announce' },
    mod_blocking: {},
    mod_bosh: {},
    mod_caps: {},
    mod_carboncopy: {},
    mod_client_state: {},
    mod_configure: {},
    mod_disco: {},
    mod_last: {},
    mod_mam: { db_type: 'sql', default: 'always', assume_mam_usage: true },
    mod_muc: {
      access: 'all',
      access_create: 'muc_create',
      access_persistent: 'muc_create',
      access_admin: 'configure',
      // Rooms are closed by default: members only, not listed, archived.
      default_room_options: { mam: true, persistent: true, public: false, members_only: true },
    },
    mod_offline: { access_max_user_messages: 'max_user_offline_messages' },
    // Finds dead connections; the idle-session logoff is mod_idle_logoff's job.
    mod_ping: { send_pings: true, ping_interval: 60, ping_ack_timeout: 30, timeout_action: 'kill' },
    mod_privacy: {},
    mod_private: {},
    // PEP: OMEMO keys, avatars and bookmarks live here.
    mod_pubsub: { access_createnode: 'pubsub_createnode', plugins: ['flat', 'pep'], force_node_config: { 'storage:bookmarks': { access_model: 'whitelist' } } },
    mod_roster: { versioning: true },
    mod_stream_mgmt: { resend_on_timeout: 'if_offline' },
    mod_vcard: { search: false },
    mod_vcard_xupdate: {},
    mod_version: { show_os: false },
    // HTTP upload is deliberately absent: files would sit on one pod's disk, outside PostgreSQL, its
    // encryption and its backups, and a download could land on another replica. See docs/messaging.md.
    ...operatorModules,
    mod_idle_logoff: { timeout: m.idleSessionTimeoutMinutes * 60 },
    ...directoryModules(tenant),
    // Accounts of a directory tenant live in the directory: the account commands exist for internal ones only.
    ...(directoryOf(tenant.spec.identity) ? {} : { [ACCOUNT_LIFECYCLE_MODULE]: {} }),
  };
}

export function renderEjabberdConfig(tenant: ChatTenant, runtime: EjabberdRuntime): string {
  const { spec } = tenant;
  const config: Yaml = {
    hosts: spec.xmppDomains,
    // info records logins (with address and mechanism), failed logins, session ends, the operator's
    // audit lines and automatic logoffs; stanza contents only appear at debug, which is never set.
    loglevel: 'info',
    hide_sensitive_log_data: false,
    // Logs go to stdout; these bound the copy ejabberd also writes into its logs directory.
    log_rotate_size: 10 * 1024 * 1024,
    log_rotate_count: 1,
    certfiles: [runtime.tls.certFile, runtime.tls.keyFile, runtime.tls.caFile],
    // The certificates come from the tenant's TLS Secret; never ask Let's Encrypt for one.
    acme: { auto: false },
    c2s_protocol_options: TLS_PROTOCOL_OPTIONS,
    c2s_ciphers: TLS_CIPHERS,
    c2s_tls_compression: false,
    s2s_protocol_options: TLS_PROTOCOL_OPTIONS,
    s2s_ciphers: TLS_CIPHERS,
    s2s_tls_compression: false,
    s2s_use_starttls: 'required',
    s2s_access: 's2s',
    listen: listeners(tenant, runtime),
    ...sqlOptions(runtime),
    ...authOptions(tenant, runtime.directory),
    auth_password_format: 'scram',
    auth_scram_hash: SCRAM_HASH,
    // Only SCRAM and PLAIN-inside-TLS remain; anonymous login is not an auth method here at all.
    disable_sasl_mechanisms: ['DIGEST-MD5', 'X-OAUTH2', 'ANONYMOUS'],
    ...shaperOptions(tenant),
    ...accessOptions(tenant),
    modules: modules(tenant),
  };
  return `# Generated by chat-tenant-operator for tenant ${tenant.metadata.name}. Do not edit: changes are overwritten.\n` + yaml.dump(config, { lineWidth: -1, noRefs: true, sortKeys: false });
}
