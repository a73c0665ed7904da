// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KeyPairPem, TenantCertificates } from '../render/types.js';
import { memoizeStrings } from './memo.js';

// The per-tenant CA and the certificates it issues, with @peculiar/x509 over Node's WebCrypto.
// Each tenant gets its own CA (never shared), ECDSA P-256 keys, and leaf certificates that are
// reissued well before they expire or when the names they must cover change.

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3600 * 1000;
export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;

export interface LeafRequest {
  commonName: string;
  dnsNames: string[];
  /**
   * IP addresses for the SAN. ejabberd (processone/ejabberd#4180) checks PostgreSQL's certificate
   * against the address it connected to, not the host name, so the database certificate must name
   * the addresses ejabberd dials.
   */
  ipAddresses?: string[];
  /**
   * 'peer': both ends of a mutual-TLS link (serverAuth + clientAuth). ejabberd nodes present the
   * messaging certificate to each other over TLS Erlang distribution, as server and as client.
   */
  usage: 'server' | 'client' | 'peer';
}

const EXTENDED_KEY_USAGES: Record<LeafRequest['usage'], string[]> = {
  server: [x509.ExtendedKeyUsage.serverAuth],
  client: [x509.ExtendedKeyUsage.clientAuth],
  peer: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
};

function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = bytes[0]! & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKeyPem(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  if (!der) throw new Error('no key in PEM');
  return webcrypto.subtle.importKey('pkcs8', der, { name: ALGORITHM.name, namedCurve: ALGORITHM.namedCurve }, true, ['sign']);
}

/** Subject of a tenant's CA: it names the tenant, so a CA copied from another tenant is noticed. */
export function tenantCaSubject(tenantName: string): string {
  return `CN=${tenantName} tenant CA, O=chat-tenant-operator`;
}

export async function issueTenantCa(tenantName: string, now: Date, validityDays = CA_VALIDITY_DAYS): Promise<KeyPairPem> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: tenantCaSubject(tenantName),
    notBefore: new Date(now.getTime() - 5 * 60 * 1000),
    notAfter: new Date(now.getTime() + validityDays * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

export async function issueLeaf(ca: KeyPairPem, request: LeafRequest, now: Date, validityDays = LEAF_VALIDITY_DAYS): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await importKeyPem(ca.keyPem);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension(EXTENDED_KEY_USAGES[request.usage]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const altNames = [...request.dnsNames.map((value) => ({ type: 'dns' as const, value })), ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value }))];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${request.commonName}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 5 * 60 * 1000),
    notAfter: new Date(Math.min(now.getTime() + validityDays * DAY_MS, caCert.notAfter.getTime())),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

export interface CertificateFacts {
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  /** Extended key usage OIDs (empty when the certificate has no such extension). */
  extendedKeyUsages: string[];
}

// These three run on every reconcile for every certificate of the tenant: remembered by input (memo.ts).

const parseCertificate = memoizeStrings((pem: string): CertificateFacts => {
  const cert = new x509.X509Certificate(pem);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const dnsNames = san ? san.names.items.filter((n) => n.type === 'dns').map((n) => n.value) : [];
  const ipAddresses = san ? san.names.items.filter((n) => n.type === 'ip').map((n) => n.value) : [];
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const extendedKeyUsages = eku ? eku.usages.map(String) : [];
  return { subject: cert.subject, issuer: cert.issuer, notBefore: cert.notBefore, notAfter: cert.notAfter, dnsNames, ipAddresses, extendedKeyUsages };
});

/** Subject, issuer, validity and SANs of a certificate (a copy: the parsed facts are shared). */
export function inspectCertificate(pem: string): CertificateFacts {
  const f = parseCertificate(pem);
  return { ...f, notBefore: new Date(f.notBefore), notAfter: new Date(f.notAfter), dnsNames: [...f.dnsNames], ipAddresses: [...f.ipAddresses], extendedKeyUsages: [...f.extendedKeyUsages] };
}

/** True when the leaf chains to the CA by signature (not only by name). */
export const isSignedBy: (leafPem: string, caPem: string) => Promise<boolean> = memoizeStrings(async (leafPem: string, caPem: string) => {
  const leaf = new x509.X509Certificate(leafPem);
  const ca = new x509.X509Certificate(caPem);
  if (leaf.issuer !== ca.subject) return false;
  return leaf.verify({ publicKey: ca.publicKey, signatureOnly: true });
});

const keyMatches = memoizeStrings((certPem: string, keyPem: string): boolean => {
  try {
    const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    const fromCert = Buffer.from(new x509.X509Certificate(certPem).publicKey.rawData);
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
});

/** True when the private key belongs to the certificate (a Secret edited by hand may pair them wrong). */
export function keyMatchesCertificate(pair: KeyPairPem): boolean {
  return keyMatches(pair.certPem, pair.keyPem);
}

/** Why a certificate must be (re)issued, or undefined when it can stay. */
export async function renewalReason(pair: KeyPairPem | undefined, ca: KeyPairPem, request: LeafRequest, now: Date, renewBeforeDays: number): Promise<string | undefined> {
  if (!pair) return 'missing';
  let facts: CertificateFacts;
  try {
    facts = inspectCertificate(pair.certPem);
  } catch {
    return 'unreadable';
  }
  if (!keyMatchesCertificate(pair)) return 'key does not match';
  if (facts.notAfter.getTime() - now.getTime() < renewBeforeDays * DAY_MS) return 'expiring';
  if (!(await isSignedBy(pair.certPem, ca.certPem))) return 'issued by another CA';
  const want = [...request.dnsNames].sort().join(',');
  if ([...facts.dnsNames].sort().join(',') !== want) return 'names changed';
  if ([...facts.ipAddresses].sort().join(',') !== [...(request.ipAddresses ?? [])].sort().join(',')) return 'addresses changed';
  // A messaging certificate issued before TLS distribution lacks clientAuth: peers would refuse it.
  if (!EXTENDED_KEY_USAGES[request.usage].every((u) => facts.extendedKeyUsages.includes(u))) return 'usages changed';
  return undefined;
}

export interface CertificatePlan {
  certificates: TenantCertificates;
  /** What was issued this time and why, for Events (never key material). */
  issued: Array<{ name: keyof TenantCertificates; reason: string }>;
}

/**
 * Keeps what is valid, issues what is missing, expiring, or no longer matching. A new CA (only when
 * the old one is missing or expiring) reissues every leaf under it.
 */
export async function planCertificates(
  tenantName: string,
  existing: Partial<TenantCertificates>,
  requests: Record<'messaging' | 'database' | 'databaseClient', LeafRequest>,
  now: Date,
  renewBeforeDays: number,
): Promise<CertificatePlan> {
  const issued: CertificatePlan['issued'] = [];
  let ca = existing.ca;
  // The CA is renewed well ahead of its leaves (four times their margin), so leaves never outlive it.
  const caReason = !ca ? 'missing' : caRenewalReason(tenantName, ca, now, renewBeforeDays * 4);
  if (caReason) {
    ca = await issueTenantCa(tenantName, now);
    issued.push({ name: 'ca', reason: caReason });
  }
  const out: Partial<TenantCertificates> = { ca };
  for (const name of ['messaging', 'database', 'databaseClient'] as const) {
    const reason = await renewalReason(existing[name], ca!, requests[name], now, renewBeforeDays);
    if (reason) {
      out[name] = await issueLeaf(ca!, requests[name], now);
      issued.push({ name, reason });
    } else out[name] = existing[name]!;
  }
  return { certificates: out as TenantCertificates, issued };
}

function caRenewalReason(tenantName: string, ca: KeyPairPem, now: Date, renewBeforeDays: number): string | undefined {
  let facts: CertificateFacts;
  try {
    facts = inspectCertificate(ca.certPem);
  } catch {
    return 'unreadable';
  }
  if (facts.subject !== tenantCaSubject(tenantName)) return 'not this tenant\'s CA';
  if (!keyMatchesCertificate(ca)) return 'key does not match';
  return facts.notAfter.getTime() - now.getTime() < renewBeforeDays * DAY_MS ? 'expiring' : undefined;
}
