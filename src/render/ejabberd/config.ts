import yaml from 'js-yaml';
import type { ChatTenant } from '../../api/index.js';
import { adminJids } from '../secrets.js';

// ejabberd.yml, generated from the spec. The same function serves the cluster (paths inside the
// official image) and the tests (Debian's ejabberd on loopback ports): only EjabberdRuntime differs.

export type EjabberdFlavour = 'official-image' | 'debian-23.01';

export interface EjabberdRuntime {
  flavour: EjabberdFlavour;
  /** Address the listeners bind to: "::" in pods, "127.0.0.1" in tests. */
  bindAddress: string;
  ports: { c2sStartTls: number; c2sDirectTls: number; https: number; s2s: number };
  tls: { certFile: string; keyFile: string; caFile: string };
  sql: { server: string; port: number; database: string; username: string; password: string; caFile: string };
  /** Directory for HTTP uploads. */
  uploadDir: string;
}

/** TLS 1.2 and newer only, no compression, forward-secret ciphers first (OpenSSL names). */
export const TLS_PROTOCOL_OPTIONS = ['no_sslv2', 'no_sslv3', 'no_tlsv1', 'no_tlsv1_1', 'cipher_server_preference', 'no_compression'];
export const TLS_CIPHERS = 'ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!MD5:!RC4:!3DES';

export function renderEjabberdConfig(tenant: ChatTenant, runtime: EjabberdRuntime): string {
  const { spec } = tenant;
  const m = spec.messaging;
  const tlsListenerOptions = { protocol_options: TLS_PROTOCOL_OPTIONS, ciphers: TLS_CIPHERS };
  const maxStanza = m.maxStanzaSizeKiB * 1024;
  const listen: Array<Record<string, unknown>> = [
    {
      port: runtime.ports.c2sStartTls,
      ip: runtime.bindAddress,
      module: 'ejabberd_c2s',
      starttls_required: true,
      max_stanza_size: maxStanza,
      shaper: 'c2s_shaper',
      access: 'c2s',
      ...tlsListenerOptions,
    },
    {
      port: runtime.ports.c2sDirectTls,
      ip: runtime.bindAddress,
      module: 'ejabberd_c2s',
      tls: true,
      max_stanza_size: maxStanza,
      shaper: 'c2s_shaper',
      access: 'c2s',
      ...tlsListenerOptions,
    },
    {
      port: runtime.ports.https,
      ip: runtime.bindAddress,
      module: 'ejabberd_http',
      tls: true,
      ...tlsListenerOptions,
      request_handlers: { '/bosh': 'mod_bosh', '/ws': 'ejabberd_http_ws', '/upload': 'mod_http_upload' },
    },
  ];
  if (m.federation) {
    listen.push({ port: runtime.ports.s2s, ip: runtime.bindAddress, module: 'ejabberd_s2s_in', max_stanza_size: maxStanza, shaper: 's2s_shaper' });
  }
  const config: Record<string, unknown> = {
    hosts: spec.xmppDomains,
    loglevel: 'info',
    certfiles: [runtime.tls.certFile, runtime.tls.keyFile],
    ca_file: runtime.tls.caFile,
    c2s_protocol_options: TLS_PROTOCOL_OPTIONS,
    c2s_ciphers: TLS_CIPHERS,
    s2s_protocol_options: TLS_PROTOCOL_OPTIONS,
    s2s_ciphers: TLS_CIPHERS,
    s2s_use_starttls: 'required',
    s2s_access: m.federation ? 's2s' : 'none',
    listen,
    // Everything lives in the tenant's own PostgreSQL, over TLS with the server certificate verified.
    sql_type: 'pgsql',
    sql_server: runtime.sql.server,
    sql_port: runtime.sql.port,
    sql_database: runtime.sql.database,
    sql_username: runtime.sql.username,
    sql_password: runtime.sql.password,
    sql_ssl: true,
    sql_ssl_verify: true,
    sql_ssl_cafile: runtime.sql.caFile,
    sql_pool_size: 10,
    new_sql_schema: true,
    default_db: 'sql',
    auth_method: ['sql'],
    auth_password_format: 'scram',
    // No anonymous logins, no plaintext-equivalent mechanisms.
    disable_sasl_mechanisms: ['DIGEST-MD5', 'X-OAUTH2', 'ANONYMOUS'],
    shaper: { normal: { rate: 3000, burst_size: 20000 }, fast: 100000 },
    shaper_rules: {
      max_user_sessions: 10,
      max_user_offline_messages: 5000,
      c2s_shaper: { normal: 'all' },
      s2s_shaper: 'fast',
    },
    acl: {
      admin: { user: adminJids(tenant) },
      local: { user_regexp: '' },
      loopback: { ip: ['127.0.0.0/8', '::1/128'] },
    },
    access_rules: {
      local: { allow: 'local' },
      c2s: { deny: 'blocked', allow: 'all' },
      announce: { allow: 'admin' },
      configure: { allow: 'admin' },
      muc_create: { allow: 'local' },
      s2s: m.federation ? { allow: 'all' } : { deny: 'all' },
      // No in-band registration: accounts are provisioned by the tenant's admins.
      register: { deny: 'all' },
    },
    api_permissions: {
      'console commands': { from: ['ejabberd_ctl'], who: 'all', what: '*' },
    },
    modules: {
      mod_adhoc: {},
      mod_admin_extra: {},
      mod_announce: { access: 'announce' },
      mod_blocking: {},
      mod_caps: {},
      mod_carboncopy: {},
      mod_client_state: {},
      mod_configure: {},
      mod_disco: {},
      mod_bosh: {},
      mod_http_upload: { put_url: 'https://@HOST@:' + runtime.ports.https + '/upload', max_size: m.maxUploadSizeMiB * 1024 * 1024, docroot: runtime.uploadDir },
      mod_last: {},
      mod_mam: { db_type: 'sql', assume_mam_usage: true, default: 'always' },
      mod_muc: {
        access: 'all',
        access_create: 'muc_create',
        access_persistent: 'muc_create',
        access_admin: 'admin',
        default_room_options: { mam: true, persistent: true, public: false, members_only: true },
      },
      mod_offline: { access_max_user_messages: 'max_user_offline_messages' },
      // Dead connections are detected and closed; the idle-session timeout is enforced separately.
      mod_ping: { send_pings: true, ping_interval: 60, ping_ack_timeout: 30, timeout_action: 'kill' },
      mod_privacy: {},
      mod_private: {},
      mod_roster: { versioning: true },
      mod_stream_mgmt: { resend_on_timeout: 'if_offline' },
      mod_vcard: { search: false },
      mod_vcard_xupdate: {},
      mod_version: { show_os: false },
    },
  };
  return `# Generated by chat-tenant-operator for tenant ${tenant.metadata.name}. Do not edit: changes are overwritten.\n` + yaml.dump(config, { lineWidth: -1, noRefs: true, sortKeys: false });
}
