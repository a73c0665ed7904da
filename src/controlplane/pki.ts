/**
 * Certificates and keys for a local control plane.
 *
 * Generated in-process with @peculiar/x509 over Node's WebCrypto rather than by shelling out
 * to openssl: no external tool to install or version-check, no temporary config files, and the
 * code states exactly which extensions each certificate carries.
 */
import { webcrypto } from "node:crypto";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
// Must precede @peculiar/x509: its dependency tsyringe checks for Reflect metadata at load time.
// @peculiar/x509 resolves its ASN.1 schemas through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

// @peculiar/x509 takes the WebCrypto provider explicitly, so no global state is changed.
const crypto = webcrypto;
const EC_KEY: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const EC_SIGNING: webcrypto.EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

/** Paths of the PEM files that the components are started with. */
export interface ControlPlanePki {
  readonly caCert: string;
  readonly caKey: string;
  /** Serving certificate for 127.0.0.1/localhost and the in-cluster kubernetes service names. */
  readonly servingCert: string;
  readonly servingKey: string;
  /** Client certificate in the system:masters group: full access through RBAC. */
  readonly adminCert: string;
  readonly adminKey: string;
  /** Service-account token signing key pair (RSA, the algorithm every token consumer accepts). */
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
  /** For a real node: the API server's client certificate towards kubelets (exec, logs, port-forward). */
  readonly kubeletClientCert?: string;
  readonly kubeletClientKey?: string;
  /** For a real node: the kubelet's own identity, system:node:<name> in system:nodes (Node authorizer). */
  readonly nodeCert?: string;
  readonly nodeKey?: string;
  /** PEM contents, for kubeconfigs and HTTPS health checks. */
  readonly pem: { readonly caCert: string; readonly adminCert: string; readonly adminKey: string };
}

export const ADMIN_USER = "chat-tenant-operator-admin";
export const ADMIN_GROUP = "system:masters";

/** First address of --service-cluster-ip-range=10.0.0.0/16: the `kubernetes` service's ClusterIP. */
export const KUBERNETES_SERVICE_IP = "10.0.0.1";

/** What a real node adds: its address in the serving certificate, and two client certificates. */
export interface RealNodePkiInput {
  readonly nodeName: string;
  readonly nodeIp: string;
}

export async function generateControlPlanePki(dir: string, realNode?: RealNodePkiInput): Promise<ControlPlanePki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const validity = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 365 * 86_400_000) };

  const caKeys = await generateEcKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: "CN=chat-tenant-operator local control plane CA",
      keys: caKeys,
      signingAlgorithm: EC_SIGNING,
      ...validity,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );

  const issue = async (subject: string, extensions: x509.Extension[]) => {
    const keys = await generateEcKeys();
    const cert = await x509.X509CertificateGenerator.create(
      {
        subject,
        issuer: ca.subject,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        signingAlgorithm: EC_SIGNING,
        ...validity,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          await x509.AuthorityKeyIdentifierExtension.create(ca, false, crypto),
          ...extensions,
        ],
      },
      crypto,
    );
    return { cert: cert.toString("pem"), key: await privateKeyPem(keys.privateKey) };
  };

  const serving = await issue("CN=localhost", [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      { type: "dns", value: "localhost" },
      { type: "dns", value: "kubernetes" },
      { type: "dns", value: "kubernetes.default" },
      { type: "dns", value: "kubernetes.default.svc" },
      { type: "dns", value: "kubernetes.default.svc.cluster.local" },
      { type: "ip", value: "127.0.0.1" },
      { type: "ip", value: KUBERNETES_SERVICE_IP },
      // Pods reach the API server through the `kubernetes` Service, whose endpoint is the node's address.
      ...(realNode ? [{ type: "ip" as const, value: realNode.nodeIp }] : []),
    ]),
  ]);
  const admin = await issue(`CN=${ADMIN_USER}, O=${ADMIN_GROUP}`, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);

  const clientAuth = [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])];
  const nodeFiles = realNode
    ? {
        kubeletClient: await issue(`CN=kube-apiserver-kubelet-client, O=${ADMIN_GROUP}`, clientAuth),
        node: await issue(`CN=system:node:${realNode.nodeName}, O=system:nodes`, clientAuth),
      }
    : undefined;

  const saKeys = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;

  const caCertPem = ca.toString("pem");
  const files = {
    caCert: caCertPem,
    caKey: await privateKeyPem(caKeys.privateKey),
    servingCert: serving.cert,
    servingKey: serving.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountKey: await privateKeyPem(saKeys.privateKey),
    serviceAccountPublicKey: x509.PemConverter.encode(
      await crypto.subtle.exportKey("spki", saKeys.publicKey),
      "PUBLIC KEY",
    ),
  };
  const names: Record<keyof typeof files, string> = {
    caCert: "ca.crt",
    caKey: "ca.key",
    servingCert: "serving.crt",
    servingKey: "serving.key",
    adminCert: "admin.crt",
    adminKey: "admin.key",
    serviceAccountKey: "service-account.key",
    serviceAccountPublicKey: "service-account.pub",
  };
  const paths = {} as Record<keyof typeof files, string>;
  for (const key of Object.keys(files) as (keyof typeof files)[]) {
    paths[key] = path.join(dir, names[key]);
    await writeFile(paths[key], ensureTrailingNewline(files[key]), { mode: 0o600 });
  }
  const nodePaths: Partial<ControlPlanePki> = {};
  if (nodeFiles) {
    const write = async (name: string, pem: string): Promise<string> => {
      await writeFile(path.join(dir, name), ensureTrailingNewline(pem), { mode: 0o600 });
      return path.join(dir, name);
    };
    Object.assign(nodePaths, {
      kubeletClientCert: await write("kubelet-client.crt", nodeFiles.kubeletClient.cert),
      kubeletClientKey: await write("kubelet-client.key", nodeFiles.kubeletClient.key),
      nodeCert: await write("node.crt", nodeFiles.node.cert),
      nodeKey: await write("node.key", nodeFiles.node.key),
    });
  }
  return { ...paths, ...nodePaths, pem: { caCert: caCertPem, adminCert: admin.cert, adminKey: admin.key } };
}

async function generateEcKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"])) as CryptoKeyPair;
}

/** PKCS#8 "PRIVATE KEY" PEM, which Go's keyutil (Kubernetes) and etcd both read. */
async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

function ensureTrailingNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
