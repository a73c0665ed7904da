import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { adminJids, names, renderCredentialSecrets, type TenantMaterial } from '../../src/render/index.js';
import { renderEjabberdConfigSecret, renderEjabberdStatefulSet } from '../../src/render/ejabberd/statefulset.js';
import { POD_PATHS } from '../../src/render/ejabberd/pod-layout.js';
import { CONFIG_FILES } from '../../src/render/ejabberd/runtime.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// Admin accounts are provisioned by the node script through ejabberd's own commands (check_account,
// then register), with passwords read from the mounted Secret xmpp-admin-credentials. The workload
// tests run it for real; these check the wiring between the rendered pieces.

const settings = defaultSettings();
type Json = Record<string, any>;

const tenant = tenantFixture('clinic', minimalSpec({ xmppDomains: ['chat.clinic.example', 'lab.clinic.example'], messaging: { admins: [{ username: 'alice' }, { username: 'cat_at_home', domain: 'lab.clinic.example' }] } }));
const material = (): TenantMaterial => ({
  erlangCookie: 'cookie',
  databaseSuperuserPassword: 'su',
  databaseAppPassword: 'app',
  adminPasswords: Object.fromEntries(adminJids(tenant).map((jid, i) => [jid, `admin-password-${i}-4c1d`])),
  backupKey: 'key',
});
const nodeScript = () => Buffer.from((renderEjabberdConfigSecret(tenant, settings, material())['data'] as Record<string, string>)[CONFIG_FILES.nodeScript]!, 'base64').toString();
const provisionLines = (script: string) => script.split('\n').filter((l) => /^\s+provision_admin '/.test(l)).map((l) => l.trim());

describe('admin provisioning', () => {
  it('provisions exactly the spec\'s admins, each from its key in the credentials Secret', () => {
    const adminSecret = renderCredentialSecrets(tenant, material()).find((s) => s.metadata.name === names.messaging.adminSecret)!;
    const keys = Object.keys(adminSecret.data);
    expect(provisionLines(nodeScript())).toEqual([
      `provision_admin 'alice' 'chat.clinic.example' '${POD_PATHS.adminSecretDir}/${keys.find((k) => k.startsWith('alice'))}' || return 1`,
      `provision_admin 'cat_at_home' 'lab.clinic.example' '${POD_PATHS.adminSecretDir}/${keys.find((k) => k.startsWith('cat_at_home'))}' || return 1`,
    ]);
  });

  it('mounts that Secret where the script reads it', () => {
    const sts = renderEjabberdStatefulSet(tenant, settings, renderEjabberdConfigSecret(tenant, settings, material())) as Json;
    const pod = sts['spec']['template']['spec'];
    const volume = pod['volumes'].find((v: Json) => v['secret']?.['secretName'] === names.messaging.adminSecret);
    expect(pod['containers'][0]['volumeMounts']).toContainEqual({ name: volume['name'], mountPath: POD_PATHS.adminSecretDir, readOnly: true });
  });

  it('checks an account exists before registering it, so a restart never changes a password', () => {
    const script = nodeScript();
    const body = script.slice(script.indexOf('provision_admin() {'), script.indexOf('provision_admins() {'));
    expect(body.indexOf('check_account')).toBeGreaterThan(-1);
    expect(body.indexOf('check_account')).toBeLessThan(body.indexOf(' register '));
    expect(body).not.toMatch(/change_password|set_password/);
  });

  it('puts no password in the node script, and the node is not ready until provisioning succeeded', () => {
    const script = nodeScript();
    for (const password of Object.values(material().adminPasswords)) expect(script).not.toContain(password);
    expect(script).toMatch(/retry "provisioning the admin accounts" provision_admins; then\n\s+touch "\$READY_FILE"/);
  });

  it('a tenant without admins provisions nothing', () => {
    const plain = tenantFixture('plain', minimalSpec());
    const script = Buffer.from((renderEjabberdConfigSecret(plain, settings, { ...material(), adminPasswords: {} })['data'] as Record<string, string>)[CONFIG_FILES.nodeScript]!, 'base64').toString();
    expect(provisionLines(script)).toEqual([]);
  });
});
