import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { placeholderMaterial } from '../../src/render/index.js';
import { SCRAM_HASH, renderEjabberdConfig } from '../../src/render/ejabberd/config.js';
import { ERLANG_MODULES } from '../../src/render/ejabberd/erlang-modules.js';
import { kubernetesEjabberdRuntime } from '../../src/render/ejabberd/pod-layout.js';
import type { EjabberdRuntime } from '../../src/render/ejabberd/runtime.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// ejabberd.yml as the renderer writes it. The debian-23.01 flavour is also started for real by the
// workload tests (ejabberd rejects unknown options at start); the official-image flavour cannot run
// here, so its option names are checked against the ejabberd 26.07 documentation.

const settings = defaultSettings();
type Config = Record<string, any>;

const tenant = (overrides: Parameters<typeof minimalSpec>[0] = {}) => tenantFixture('clinic', minimalSpec({ xmppDomains: ['chat.clinic.example', 'chat.clinic-two.example'], ...overrides }));
const official = (t = tenant()): EjabberdRuntime => kubernetesEjabberdRuntime(t, settings, placeholderMaterial(t));
const debian = (t = tenant()): EjabberdRuntime => ({ ...official(t), flavour: 'debian-23.01' });
const parse = (t = tenant(), runtime = official(t)): Config => yaml.load(renderEjabberdConfig(t, runtime)) as Config;

/** Top-level options of ejabberd 26.07 (docs.ejabberd.im, admin/configuration/toplevel), those this operator may use. */
const TOPLEVEL_26_07 = new Set([
  'access_rules', 'acl', 'acme', 'api_permissions', 'auth_method', 'auth_password_format', 'auth_scram_hash', 'auth_stored_password_types',
  'c2s_cafile', 'c2s_ciphers', 'c2s_dhfile', 'c2s_protocol_options', 'c2s_tls_compression', 'ca_file', 'certfiles', 'default_db', 'default_ram_db',
  'define_macro', 'disable_sasl_mechanisms', 'hide_sensitive_log_data', 'host_config', 'hosts', 'language', 'listen', 'log_rotate_count',
  'log_rotate_size', 'log_modules_fully', 'loglevel', 'max_fsm_queue', 'modules', 'negotiation_timeout', 's2s_access', 's2s_cafile',
  's2s_ciphers', 's2s_dhfile', 's2s_protocol_options', 's2s_tls_compression', 's2s_use_starttls', 'shaper', 'shaper_rules',
  'sql_connect_timeout', 'sql_database', 'sql_keepalive_interval', 'sql_password', 'sql_pool_size', 'sql_port', 'sql_prepared_statements',
  'sql_query_timeout', 'sql_schema_multihost', 'sql_server', 'sql_ssl', 'sql_ssl_cafile', 'sql_ssl_certfile', 'sql_ssl_verify', 'sql_start_interval',
  'sql_type', 'sql_username', 'update_sql_schema', 'update_sql_schema_timeout',
]);
/** Modules of ejabberd 26.07 (docs.ejabberd.im, admin/configuration/modules) this operator may load. */
const MODULES_26_07 = new Set([
  'mod_adhoc', 'mod_admin_extra', 'mod_announce', 'mod_blocking', 'mod_bosh', 'mod_caps', 'mod_carboncopy', 'mod_client_state', 'mod_configure',
  'mod_disco', 'mod_last', 'mod_mam', 'mod_muc', 'mod_offline', 'mod_ping', 'mod_privacy', 'mod_private', 'mod_pubsub', 'mod_roster',
  'mod_stream_mgmt', 'mod_vcard', 'mod_vcard_xupdate', 'mod_version',
]);
/** Options of those modules the renderer sets, as the 26.07 documentation lists them. */
const MODULE_OPTIONS_26_07: Record<string, string[]> = {
  mod_announce: ['access'],
  mod_mam: ['db_type', 'default', 'assume_mam_usage'],
  mod_muc: ['access', 'access_create', 'access_persistent', 'access_admin', 'default_room_options'],
  mod_offline: ['access_max_user_messages'],
  mod_ping: ['send_pings', 'ping_interval', 'ping_ack_timeout', 'timeout_action'],
  mod_pubsub: ['access_createnode', 'plugins', 'force_node_config'],
  mod_roster: ['versioning'],
  mod_stream_mgmt: ['resend_on_timeout'],
  mod_vcard: ['search'],
  mod_version: ['show_os'],
};

describe('ejabberd.yml, per flavour', () => {
  it('official image: only option and module names ejabberd 26.07 documents, plus the operator modules', () => {
    const config = parse();
    expect(Object.keys(config).filter((k) => !TOPLEVEL_26_07.has(k))).toEqual([]);
    const operatorModules = ERLANG_MODULES.map((m) => m.name);
    expect(Object.keys(config['modules']).filter((m) => !MODULES_26_07.has(m) && !operatorModules.includes(m))).toEqual([]);
    for (const [mod, options] of Object.entries(config['modules'] as Record<string, Record<string, unknown>>)) {
      if (operatorModules.includes(mod)) continue;
      expect(Object.keys(options).filter((o) => !(MODULE_OPTIONS_26_07[mod] ?? []).includes(o)), mod).toEqual([]);
    }
  });

  it('names the SQL schema option as each version does, and lets only 23.10+ manage its own schema', () => {
    const off = parse();
    expect(off['sql_schema_multihost']).toBe(true);
    expect(off['update_sql_schema']).toBe(true);
    expect(off).not.toHaveProperty('new_sql_schema');
    const deb = parse(tenant(), debian());
    expect(deb['new_sql_schema']).toBe(true);
    expect(deb).not.toHaveProperty('sql_schema_multihost');
    expect(deb).not.toHaveProperty('update_sql_schema');
  });

  it('renders the flavour the operator settings name for the messaging images', () => {
    const t = tenant();
    const debianSettings = defaultSettings({ ejabberdFlavour: 'debian-23.01' });
    expect(kubernetesEjabberdRuntime(t, settings, placeholderMaterial(t)).flavour).toBe('official-image');
    const rendered = yaml.load(renderEjabberdConfig(t, kubernetesEjabberdRuntime(t, debianSettings, placeholderMaterial(t)))) as Config;
    expect(rendered['new_sql_schema']).toBe(true);
    expect(rendered).not.toHaveProperty('sql_schema_multihost');
  });

  it('differs between the flavours in nothing else', () => {
    const strip = (c: Config) => {
      const { sql_schema_multihost: _a, update_sql_schema: _b, new_sql_schema: _c, ...rest } = c;
      return rest;
    };
    expect(strip(parse(tenant(), debian()))).toEqual(strip(parse()));
  });
});

describe('ejabberd.yml, from the spec', () => {
  it('serves the XMPP domains with the certificate from the tenant TLS Secret', () => {
    const config = parse();
    expect(config['hosts']).toEqual(['chat.clinic.example', 'chat.clinic-two.example']);
    expect(config['certfiles']).toEqual(['/etc/ejabberd-tls/tls.crt', '/etc/ejabberd-tls/tls.key', '/etc/ejabberd-tls/ca.crt']);
    expect(config['acme']).toEqual({ auto: false });
  });

  it('listens with STARTTLS required on 5222, TLS on 5223, BOSH and WebSocket on a TLS listener only, TLS 1.2+ without compression', () => {
    const listen = parse()['listen'] as Config[];
    expect(listen.map((l) => [l['port'], l['module']])).toEqual([
      [5222, 'ejabberd_c2s'],
      [5223, 'ejabberd_c2s'],
      [5443, 'ejabberd_http'],
    ]);
    expect(listen[0]).toMatchObject({ starttls_required: true });
    expect(listen[0]).not.toHaveProperty('tls');
    expect(listen[1]).toMatchObject({ tls: true });
    expect(listen[2]).toMatchObject({ tls: true, request_handlers: { '/bosh': 'mod_bosh', '/ws': 'ejabberd_http_ws' } });
    for (const l of listen) {
      expect(l['protocol_options']).toEqual(expect.arrayContaining(['no_sslv3', 'no_tlsv1', 'no_tlsv1_1', 'no_compression']));
      expect(l['tls_compression']).toBe(false);
    }
  });

  it('federation: no s2s listener and every remote server denied unless the spec asks for it', () => {
    const off = parse();
    expect((off['listen'] as Config[]).map((l) => l['module'])).not.toContain('ejabberd_s2s_in');
    expect(off['s2s_access']).toBe('s2s');
    expect(off['access_rules']['s2s']).toEqual({ deny: 'all' });
    const on = parse(tenant({ messaging: { federation: true } }));
    expect((on['listen'] as Config[]).find((l) => l['module'] === 'ejabberd_s2s_in')).toMatchObject({ port: 5269, protocol_options: expect.arrayContaining(['no_tlsv1']) });
    expect(on['access_rules']['s2s']).toEqual({ allow: 'all' });
    expect(on['s2s_use_starttls']).toBe('required');
  });

  it('authenticates against the tenant database with SCRAM-SHA-256 keys; no anonymous login, no registration, no upload', () => {
    const config = parse();
    expect(config['auth_method']).toEqual(['sql']);
    expect(config['auth_password_format']).toBe('scram');
    expect(config['auth_scram_hash']).toBe(SCRAM_HASH);
    expect(SCRAM_HASH).toBe('sha256');
    expect(config['disable_sasl_mechanisms']).toEqual(expect.arrayContaining(['ANONYMOUS', 'DIGEST-MD5']));
    expect(config['access_rules']['register']).toEqual({ deny: 'all' });
    expect(config['modules']).not.toHaveProperty('mod_register');
    expect(config['modules']).not.toHaveProperty('mod_http_upload');
    expect(JSON.stringify(config['listen'])).not.toMatch(/upload|admin|api/);
  });

  it('keeps everything in PostgreSQL over verified TLS, the archive included', () => {
    const t = tenant();
    const config = parse(t);
    expect(config).toMatchObject({
      sql_type: 'pgsql',
      sql_server: 'postgres.clinic.svc.cluster.local',
      sql_port: 5432,
      sql_ssl: true,
      sql_ssl_verify: true,
      sql_ssl_cafile: '/etc/ejabberd-db-ca/ca.crt',
      default_db: 'sql',
    });
    expect(config['modules']['mod_mam']).toMatchObject({ db_type: 'sql', default: 'always' });
    const cnpg = parse(tenantFixture('clinic', minimalSpec({ database: { provider: 'cloudnative-pg', storage: { storageClassName: 'x' } } })));
    expect(cnpg['sql_server']).toBe('postgres-rw.clinic.svc.cluster.local');
  });

  it('takes the admin ACL, the stanza limit and the idle timeout from the spec', () => {
    const config = parse(tenant({ messaging: { admins: [{ username: 'alice' }, { username: 'bob', domain: 'chat.clinic-two.example' }], maxStanzaSizeKiB: 64, idleSessionTimeoutMinutes: 7 } }));
    expect(config['acl']['admin']).toEqual({ user: ['alice@chat.clinic.example', 'bob@chat.clinic-two.example'] });
    for (const l of (config['listen'] as Config[]).filter((x) => x['module'] === 'ejabberd_c2s')) expect(l['max_stanza_size']).toBe(64 * 1024);
    // One largest stanza passes at once; sustained traffic is shaped.
    expect(config['shaper']['normal']['burst_size']).toBe(64 * 1024);
    expect(config['modules']['mod_idle_logoff']).toEqual({ timeout: 7 * 60 });
    expect(config['modules']['mod_admin_audit']).toEqual({});
  });

  it('logs at info: logins and audit lines, not stanza contents (debug)', () => {
    const config = parse();
    expect(config['loglevel']).toBe('info');
    expect(config['hide_sensitive_log_data']).toBe(false);
    expect(config).not.toHaveProperty('log_modules_fully');
  });
});
