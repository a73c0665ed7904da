import { chatTenantManifest, validateChatTenant, type ChatTenant, type ChatTenantSpecInput } from '../../src/api/index.js';

/** A valid spec input with the fewest fields; tests override what they exercise. */
export function minimalSpec(overrides: Partial<ChatTenantSpecInput> = {}): ChatTenantSpecInput {
  return {
    displayName: 'Test Clinic',
    xmppDomains: ['chat.test-clinic.example'],
    database: { provider: 'standalone', storage: { storageClassName: 'encrypted-ssd' } },
    ...overrides,
  };
}

/** A validated tenant as the API server would hand it over (with a uid and generation). */
export function tenantFixture(name = 'test-clinic', spec: ChatTenantSpecInput = minimalSpec(), uid = `uid-${name}`): ChatTenant {
  const result = validateChatTenant({ ...chatTenantManifest(name, spec), metadata: { name, uid, generation: 1 } });
  if (!result.ok) throw new Error(`fixture is invalid: ${JSON.stringify(result.problems)}`);
  return result.tenant;
}

/** A directory-backed identity (Active Directory style) that tests override field by field. */
export function directoryIdentity(overrides: Record<string, unknown> = {}): ChatTenantSpecInput['identity'] {
  return {
    source: 'Directory',
    directory: {
      servers: ['dc1.hospital.example', 'dc2.hospital.example'],
      encryption: 'LDAPS',
      caSecret: { name: 'directory-ca' },
      bindSecret: { name: 'directory-bind' },
      baseDN: 'OU=Staff,DC=hospital,DC=example',
      uidAttribute: 'sAMAccountName',
      accessFilter: '(memberOf=CN=Chat Users,OU=Groups,DC=hospital,DC=example)',
      cidrs: ['10.40.0.10/32', '10.40.0.11/32'],
      ...overrides,
    } as never,
  };
}
