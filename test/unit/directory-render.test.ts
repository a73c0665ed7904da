import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { names, placeholderMaterial, renderNetworkPolicies, renderTenant, type KubeObject } from '../../src/render/index.js';
import { renderEjabberdConfig } from '../../src/render/ejabberd/config.js';
import { DIRECTORY_CA_DIR, DIRECTORY_CA_FILE } from '../../src/render/ejabberd/directory.js';
import { kubernetesEjabberdRuntime } from '../../src/render/ejabberd/pod-layout.js';
import type { EjabberdRuntime } from '../../src/render/ejabberd/runtime.js';
import { directoryIdentity, minimalSpec, tenantFixture } from '../support/tenants.js';

// A directory-backed tenant, as rendered: ejabberd's LDAP options in both flavours, the CA mounted
// from the hospital's Secret, the bind password only inside the config Secret, egress to the
// directory's addresses on its port only. The same options run for real in
// test/workload/ejabberd-directory.test.ts against OpenLDAP.

const settings = defaultSettings();
type Config = Record<string, any>;
const capabilities = { cloudNativePG: true, certManager: true, prometheusOperator: false };
const BIND = { bindDN: 'CN=svc-chat,OU=Service,DC=hospital,DC=example', password: 'bind-password-7f3a' };

const directoryTenant = (overrides: Record<string, unknown> = {}) => tenantFixture('clinic', minimalSpec({ identity: directoryIdentity(overrides) }));
const material = (t = directoryTenant()) => ({ ...placeholderMaterial(t), directoryBind: BIND });
const official = (t = directoryTenant()): EjabberdRuntime => kubernetesEjabberdRuntime(t, settings, material(t));
const parse = (t = directoryTenant(), runtime = official(t)): Config => yaml.load(renderEjabberdConfig(t, runtime)) as Config;

/** LDAP and auth-cache options of ejabberd 26.07 (docs.ejabberd.im, toplevel); 23.01 has the same. */
const LDAP_OPTIONS_26_07 = new Set([
  'ldap_servers', 'ldap_port', 'ldap_encrypt', 'ldap_tls_verify', 'ldap_tls_cacertfile', 'ldap_rootdn', 'ldap_password', 'ldap_base',
  'ldap_uids', 'ldap_filter', 'auth_use_cache', 'auth_cache_life_time', 'auth_cache_missed',
]);

describe('ejabberd.yml of a directory tenant', () => {
  it.each(['official-image', 'debian-23.01'] as const)('%s: LDAPS with hard verification against the mounted CA, the bind account, base, uid and access filter', (flavour) => {
    const t = directoryTenant();
    const config = parse(t, { ...official(t), flavour });
    expect(config).toMatchObject({
      auth_method: ['sql', 'ldap'],
      ldap_servers: ['dc1.hospital.example', 'dc2.hospital.example'],
      ldap_port: 636,
      ldap_encrypt: 'tls',
      ldap_tls_verify: 'hard',
      ldap_tls_cacertfile: DIRECTORY_CA_FILE,
      ldap_rootdn: BIND.bindDN,
      ldap_password: BIND.password,
      ldap_base: 'OU=Staff,DC=hospital,DC=example',
      ldap_uids: { sAMAccountName: '%u' },
      ldap_filter: '(memberOf=CN=Chat Users,OU=Groups,DC=hospital,DC=example)',
      auth_use_cache: true,
      auth_cache_life_time: 60,
      auth_cache_missed: false,
    });
    expect(config['modules']['mod_directory_leavers']).toEqual({ interval: 60 });
  });

  it('never renders anything but LDAPS: one ldap_encrypt line, and it says tls', () => {
    const text = renderEjabberdConfig(directoryTenant(), official());
    expect(text.split('\n').filter((l) => l.includes('ldap_encrypt'))).toEqual(['ldap_encrypt: tls']);
  });

  it('every directory option is one ejabberd 26.07 documents', () => {
    const config = parse();
    const added = Object.keys(config).filter((k) => k.startsWith('ldap_') || k.startsWith('auth_cache') || k === 'auth_use_cache');
    expect(added.filter((k) => !LDAP_OPTIONS_26_07.has(k))).toEqual([]);
  });

  it('cacheSeconds 0 turns the auth cache off; the leaver window follows cacheSeconds and sessionCheckSeconds', () => {
    expect(parse(directoryTenant({ cacheSeconds: 0 }))).toMatchObject({ auth_use_cache: false });
    expect(parse(directoryTenant({ cacheSeconds: 30 }))['auth_cache_life_time']).toBe(30);
    expect(parse(directoryTenant({ sessionCheckSeconds: 15 }))['modules']['mod_directory_leavers']).toEqual({ interval: 15 });
  });

  it('an internal tenant has SQL accounts only, no LDAP option and no leaver sweep', () => {
    const t = tenantFixture('clinic', minimalSpec());
    const config = yaml.load(renderEjabberdConfig(t, kubernetesEjabberdRuntime(t, settings, placeholderMaterial(t)))) as Config;
    expect(config['auth_method']).toEqual(['sql']);
    expect(Object.keys(config).filter((k) => k.startsWith('ldap_'))).toEqual([]);
    expect(config['modules']['mod_directory_leavers']).toBeUndefined();
  });

  it('refuses to render a directory tenant without bind credentials rather than an LDAP config without a password', () => {
    const t = directoryTenant();
    const { directoryBind: _, ...withoutBind } = material(t);
    expect(() => renderEjabberdConfig(t, kubernetesEjabberdRuntime(t, settings, withoutBind))).toThrow(/bind credentials/);
  });
});

describe('objects of a directory tenant', () => {
  const t = directoryTenant();
  const objects = renderTenant({ tenant: t, material: material(t), settings, capabilities });
  const statefulSet = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === names.messaging.statefulSet) as KubeObject & Record<string, any>;
  const pod = statefulSet['spec'].template.spec;

  it('mounts the CA from the hospital\'s Secret (its key as ca.crt), read-only', () => {
    expect(pod.volumes).toContainEqual({ name: 'directory-ca', secret: { secretName: 'directory-ca', defaultMode: 0o440, items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'directory-ca', mountPath: DIRECTORY_CA_DIR, readOnly: true });
  });

  it('the bind password is in the config Secret only: not in any env, argument, ConfigMap or other object', () => {
    const decoded = (o: KubeObject) => JSON.stringify(o) + Object.values((o['data'] ?? {}) as Record<string, string>).map((v) => Buffer.from(v, 'base64').toString('utf8')).join('');
    const holders = objects.filter((o) => decoded(o).includes(BIND.password)).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(holders).toEqual([`Secret/${names.messaging.configMap}`]);
  });

  it('the bind password rolls the pods when it changes (config checksum)', () => {
    const other = renderTenant({ tenant: t, material: { ...material(t), directoryBind: { ...BIND, password: 'rotated' } }, settings, capabilities });
    const checksum = (list: KubeObject[]) => (list.find((o) => o.kind === 'StatefulSet' && o.metadata.name === names.messaging.statefulSet) as Record<string, any>)['spec'].template.metadata.annotations['chat.tenant-operator.dev/config-checksum'];
    expect(checksum(other)).not.toBe(checksum(objects));
  });

  it('ejabberd pods may reach the directory CIDRs on the directory port, and nothing else new', () => {
    const egress = renderNetworkPolicies(t, settings).find((p) => p.metadata.name === names.network.messagingEgress)!;
    const internal = renderNetworkPolicies(tenantFixture('clinic', minimalSpec()), settings).find((p) => p.metadata.name === names.network.messagingEgress)!;
    const added = egress.spec.egress!.filter((r) => !internal.spec.egress!.some((i) => JSON.stringify(i) === JSON.stringify(r)));
    expect(added).toEqual([{ to: [{ ipBlock: { cidr: '10.40.0.10/32' } }, { ipBlock: { cidr: '10.40.0.11/32' } }], ports: [{ protocol: 'TCP', port: 636 }] }]);
  });

  it('a directory on another port gets that port only', () => {
    const custom = directoryTenant({ port: 3269 });
    const egress = renderNetworkPolicies(custom, settings).find((p) => p.metadata.name === names.network.messagingEgress)!;
    expect(egress.spec.egress!.flatMap((r) => r.ports.map((p) => p.port))).toContain(3269);
    expect(egress.spec.egress!.flatMap((r) => r.ports.map((p) => p.port))).not.toContain(636);
  });
});
