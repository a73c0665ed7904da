import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { readAccountTenant, whoAmI } from '../../src/accounts/tenant-target.js';
import { KubeClient } from '../../src/kube/client.js';
import { directoryIdentity, minimalSpec, tenantFixture } from '../support/tenants.js';

// What the account command asks the API server before it acts, against a stand-in API server: the
// tenant's domains and identity source, and who the caller is (SelfSubjectReview, or the kubeconfig's
// user name where the API has none).

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function apiServer(routes: Record<string, (body: string) => [number, unknown]>): Promise<KubeClient> {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const route = routes[`${req.method} ${req.url}`];
      const [status, payload] = route ? route(body) : [404, { kind: 'Status', code: 404, reason: 'NotFound' }];
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'oncall-entry' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'oncall-entry' }],
    currentContext: 'x',
  });
  return new KubeClient(kc);
}

const tenantPath = 'GET /apis/chat.tenant-operator.dev/v1alpha1/chattenants/clinic';

describe('account command: the tenant and the caller', () => {
  it('reads the domains of an internal tenant, and refuses a directory tenant with the reason', async () => {
    const internal = tenantFixture('clinic', minimalSpec({ xmppDomains: ['chat.clinic.example', 'im.clinic.example'] }));
    let client = await apiServer({ [tenantPath]: () => [200, internal] });
    expect(await readAccountTenant(client, 'clinic')).toEqual({ domains: ['chat.clinic.example', 'im.clinic.example'] });
    server!.close();
    client = await apiServer({ [tenantPath]: () => [200, tenantFixture('clinic', minimalSpec({ identity: directoryIdentity() }))] });
    expect((await readAccountTenant(client, 'clinic')).notInternal).toMatch(/spec\.identity\.source Directory/);
  });

  it('fails on a tenant that does not exist', async () => {
    const client = await apiServer({});
    await expect(readAccountTenant(client, 'clinic')).rejects.toThrow(/404|NotFound|not found/i);
  });

  it('names the caller as the API server authenticated them, or by the kubeconfig entry, marked as such', async () => {
    let sent = '';
    let client = await apiServer({
      'POST /apis/authentication.k8s.io/v1/selfsubjectreviews': (body) => {
        sent = body;
        return [201, { kind: 'SelfSubjectReview', status: { userInfo: { username: 'oidc:jane doe@hospital.example' } } }];
      },
    });
    expect(await whoAmI(client, 'oncall-entry')).toBe('kube:oidc:jane_doe@hospital.example');
    expect(JSON.parse(sent)).toMatchObject({ kind: 'SelfSubjectReview' });
    server!.close();
    client = await apiServer({});
    expect(await whoAmI(client, 'oncall-entry')).toBe('kubeconfig-user:oncall-entry');
  });
});
