/**
 * Server-side apply of the node's add-on objects (CoreDNS, local-path, CloudNativePG's release
 * manifest). The kinds are few and fixed, so their REST paths come from a table instead of discovery.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../../kube/client.js";
import type { AddonObject } from "./addons.js";

const FIELD_MANAGER = "chat-tenant-operator-node";

const RESOURCES: Readonly<Record<string, { readonly plural: string; readonly namespaced: boolean }>> = {
  "v1/Namespace": { plural: "namespaces", namespaced: false },
  "v1/ServiceAccount": { plural: "serviceaccounts", namespaced: true },
  "v1/ConfigMap": { plural: "configmaps", namespaced: true },
  "v1/Service": { plural: "services", namespaced: true },
  "apps/v1/Deployment": { plural: "deployments", namespaced: true },
  "rbac.authorization.k8s.io/v1/ClusterRole": { plural: "clusterroles", namespaced: false },
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": { plural: "clusterrolebindings", namespaced: false },
  "storage.k8s.io/v1/StorageClass": { plural: "storageclasses", namespaced: false },
  "apiextensions.k8s.io/v1/CustomResourceDefinition": { plural: "customresourcedefinitions", namespaced: false },
  "admissionregistration.k8s.io/v1/MutatingWebhookConfiguration": { plural: "mutatingwebhookconfigurations", namespaced: false },
  "admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration": { plural: "validatingwebhookconfigurations", namespaced: false },
};

export function objectPath(object: AddonObject): string {
  const resource = RESOURCES[`${object.apiVersion}/${object.kind}`];
  if (!resource) throw new Error(`no REST path known for ${object.apiVersion} ${object.kind}`);
  const group = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const scope = resource.namespaced ? `/namespaces/${object.metadata.namespace ?? "default"}` : "";
  return `${group}${scope}/${resource.plural}/${encodeURIComponent(object.metadata.name)}`;
}

export async function applyAddonObjects(kc: KubeConfig, objects: readonly AddonObject[]): Promise<void> {
  const client = new KubeClient(kc, FIELD_MANAGER);
  for (const object of objects) {
    await client.request("PATCH", objectPath(object), {
      body: object,
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: FIELD_MANAGER, force: true },
    });
  }
}
