import type { ChatTenant, OperatorSettings } from '../api/index.js';

/** Any Kubernetes object the renderer produces. Builders use client-node's model types for checking. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}

/** Certificates issued by the operator's per-tenant CA (tls.mode OperatorCA). */
export interface TenantCertificates {
  ca: KeyPairPem;
  messaging: KeyPairPem;
  database: KeyPairPem;
  /** Client certificate the messaging server and backup job may present to PostgreSQL. */
  databaseClient: KeyPairPem;
}

/**
 * Secret material of a tenant. The renderer never invents any: the controller reads what exists and
 * generates only what is missing (src/controller/material.ts), so a value is never regenerated.
 */
export interface TenantMaterial {
  erlangCookie: string;
  databaseSuperuserPassword: string;
  databaseAppPassword: string;
  /** Password per admin JID (username@domain). */
  adminPasswords: Record<string, string>;
  /** Base64 of the 32-byte AES-256-GCM key that encrypts this tenant's backups. */
  backupKey: string;
  /** Present with tls.mode OperatorCA. */
  certificates?: TenantCertificates;
  /**
   * With spec.identity.source Directory: the account ejabberd binds to the directory as, read from the
   * hospital's bind Secret (never generated; the controller refuses the tenant while it is missing).
   */
  directoryBind?: { bindDN: string; password: string };
  /**
   * With tls.mode Provided or CertManager: the certificates (tls.crt and ca.crt of each TLS Secret the
   * pods mount) as the controller read them, so that pods roll when the platform renews them.
   */
  platformCertificates?: string[];
}

/** What the cluster offers, observed by the controller (CRDs installed, StorageClass annotations). */
export interface ClusterCapabilities {
  cloudNativePG: boolean;
  certManager: boolean;
  prometheusOperator: boolean;
}

export interface RenderInput {
  tenant: ChatTenant;
  material: TenantMaterial;
  settings: OperatorSettings;
  capabilities: ClusterCapabilities;
}
