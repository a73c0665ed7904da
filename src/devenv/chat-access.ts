import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { tenantNamespace } from '../api/index.js';
import type { Json } from '../kube/client.js';
import { KubeClient } from '../kube/client.js';
import { KubeObjects } from '../kube/objects.js';
import { names, ports } from '../render/index.js';
import { setAccountPassword } from './accounts.js';

// What a person needs to chat on the local sample tenant once it is Ready: where its server answers
// from this host, the CA its certificate chains to, and two accounts. The passwords go to files only
// the user can read (and to nothing else: not the log, not the terminal).

export const SAMPLE_USERS = ['alice', 'bob'] as const;

export interface ChatAccount {
  jid: string;
  /** A go-sendxmpp configuration file (username, password, server), mode 0600. */
  configFile: string;
}

export interface ChatAccess {
  domain: string;
  /** The tenant Service's cluster IP: kube-proxy routes it from this host too. */
  address: string;
  startTlsPort: number;
  directTlsPort: number;
  caFile: string;
  /** Every account with its password, one per line, mode 0600. */
  accountsFile: string;
  accounts: ChatAccount[];
}

export async function prepareChatAccess(kubeConfig: KubeConfig, tenant: string, domain: string, dir: string): Promise<ChatAccess> {
  const objects = new KubeObjects(new KubeClient(kubeConfig, 'chat-tenant-operator/devenv'));
  const namespace = tenantNamespace(tenant);
  const tls = await objects.get<{ data?: Record<string, string> }>({ apiVersion: 'v1', kind: 'Secret', namespace, name: names.messaging.tlsSecret });
  const ca = tls?.data?.['ca.crt'];
  if (!ca) throw new Error(`Secret ${namespace}/${names.messaging.tlsSecret} has no ca.crt`);
  const service = await objects.get<{ spec?: Json }>({ apiVersion: 'v1', kind: 'Service', namespace, name: names.messaging.clientService });
  const address = service?.spec?.['clusterIP'];
  if (typeof address !== 'string') throw new Error(`Service ${namespace}/${names.messaging.clientService} has no cluster IP`);

  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const caFile = path.join(dir, 'ca.crt');
  await writeFile(caFile, Buffer.from(ca, 'base64'), { mode: 0o644 });
  const accounts: ChatAccount[] = [];
  const lines: string[] = [];
  for (const user of SAMPLE_USERS) {
    const password = randomBytes(18).toString('base64url');
    await setAccountPassword(kubeConfig, tenant, user, domain, password);
    const jid = `${user}@${domain}`;
    const configFile = path.join(dir, `${user}.sendxmpprc`);
    await writeSecretFile(configFile, `username: ${jid}\npassword: ${password}\njserver: ${address}:${ports.xmppClientStartTls}\n`);
    accounts.push({ jid, configFile });
    lines.push(`${jid} ${password}`);
  }
  const accountsFile = path.join(dir, 'accounts');
  await writeSecretFile(accountsFile, `${lines.join('\n')}\n`);
  return { domain, address, startTlsPort: ports.xmppClientStartTls, directTlsPort: ports.xmppClientDirectTls, caFile, accountsFile, accounts };
}

/** Created 0600 (not chmod'ed after the fact: the content is never readable by others, even briefly). */
async function writeSecretFile(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** What `run` prints once the sample tenant is Ready. Pure. */
export function chatAccessText(access: ChatAccess): string {
  const [first, second] = access.accounts;
  return [
    `The sample tenant is Ready. Its Pods run on the real node; chat on it from this host:`,
    `  XMPP domain  ${access.domain}`,
    `  server       ${access.address} port ${access.startTlsPort} (STARTTLS) or ${access.directTlsPort} (direct TLS); the certificate names the domain`,
    `  tenant CA    ${access.caFile}`,
    `  accounts     ${access.accountsFile} (readable by you only): ${access.accounts.map((a) => a.jid).join(', ')}`,
    ``,
    `With go-sendxmpp (apt-get install go-sendxmpp), which verifies the server against SSL_CERT_FILE:`,
    `  SSL_CERT_FILE=${access.caFile} go-sendxmpp --listen -f ${first!.configFile}`,
    `  echo 'Hello from bob' | SSL_CERT_FILE=${access.caFile} go-sendxmpp -f ${second!.configFile} ${first!.jid}`,
    `Any other XMPP client: log in as an account above, connect to the server address, trust the tenant CA.`,
    '',
  ].join('\n');
}
