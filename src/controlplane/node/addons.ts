/**
 * The cluster add-ons the real node runs as Kubernetes objects: CoreDNS as `kube-dns` (so the
 * operator's DNS egress policy, which selects k8s-app=kube-dns in kube-system, matches real Pods),
 * and what local-path-provisioner reads: its namespace, the ServiceAccount of its helper Pods, its
 * ConfigMap and the default StorageClass. Pure: objects in, no I/O.
 */
import {
  CLUSTER_DNS_IP,
  CLUSTER_DOMAIN,
  LOCAL_PATH_CONFIG_MAP,
  LOCAL_PATH_NAMESPACE,
  LOCAL_PATH_PROVISIONER_NAME,
  LOCAL_PATH_SERVICE_ACCOUNT,
} from "./component-config.js";

export type AddonObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

export const LOCAL_PATH_STORAGE_CLASS = "local-path";
/** Volumes on the fscrypt-encrypted file system (encrypted-storage.ts). */
export const ENCRYPTED_STORAGE_CLASS = "encrypted-local-path";
/** The operator's default annotation for a StorageClass the platform vouches is encrypted at rest. */
export const ENCRYPTED_STORAGE_CLASS_ANNOTATION = "chat.tenant-operator.dev/encrypted";
const DNS_LABELS = { "k8s-app": "kube-dns" };

/** Cluster names only: no `forward`, so nothing in a Pod ever resolves through an outside server. */
export const COREFILE = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
    reload
}
`;

export function coreDnsObjects(image: string): AddonObject[] {
  const ns = "kube-system";
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "coredns", namespace: ns } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:coredns" },
      rules: [
        { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:coredns" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:coredns" },
      subjects: [{ kind: "ServiceAccount", name: "coredns", namespace: ns }],
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "coredns", namespace: ns }, data: { Corefile: COREFILE } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: ns, labels: DNS_LABELS },
      spec: {
        replicas: 1,
        selector: { matchLabels: DNS_LABELS },
        template: {
          metadata: { labels: DNS_LABELS },
          spec: {
            serviceAccountName: "coredns",
            priorityClassName: "system-cluster-critical",
            dnsPolicy: "Default",
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              seccompProfile: { type: "RuntimeDefault" },
              // Port 53 without any capability: a namespaced sysctl of this Pod alone.
              sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "53" }],
            },
            containers: [
              {
                name: "coredns",
                image,
                imagePullPolicy: "Never",
                args: ["-conf", "/etc/coredns/Corefile"],
                ports: [
                  { name: "dns", containerPort: 53, protocol: "UDP" },
                  { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                ],
                readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: "/health", port: 8080 }, periodSeconds: 10, failureThreshold: 5 },
                resources: { requests: { cpu: "50m", memory: "40Mi" }, limits: { memory: "170Mi" } },
                securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
              },
            ],
            volumes: [{ name: "config", configMap: { name: "coredns" } }],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kube-dns", namespace: ns, labels: DNS_LABELS },
      spec: {
        clusterIP: CLUSTER_DNS_IP,
        selector: DNS_LABELS,
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
        ],
      },
    },
  ];
}

export interface LocalPathDirs {
  /** Volumes of the default class. */
  readonly plain: string;
  /** Volumes of the encrypted class, if the node has one. */
  readonly encrypted?: string;
}

export function localPathObjects(dirs: LocalPathDirs, helperImage: string): AddonObject[] {
  const helperPod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "helper-pod" },
    spec: { containers: [{ name: "helper-pod", image: helperImage, imagePullPolicy: "Never" }] },
  };
  const paths = (dir: string) => ({ nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [dir] }] });
  const storageClassConfigs: Record<string, unknown> = { [LOCAL_PATH_STORAGE_CLASS]: paths(dirs.plain) };
  if (dirs.encrypted) storageClassConfigs[ENCRYPTED_STORAGE_CLASS] = paths(dirs.encrypted);
  const storageClass = (name: string, annotations: Record<string, string>): AddonObject => ({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name, annotations },
    provisioner: LOCAL_PATH_PROVISIONER_NAME,
    volumeBindingMode: "WaitForFirstConsumer",
    reclaimPolicy: "Delete",
  });
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: LOCAL_PATH_NAMESPACE } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: LOCAL_PATH_SERVICE_ACCOUNT, namespace: LOCAL_PATH_NAMESPACE } },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: LOCAL_PATH_CONFIG_MAP, namespace: LOCAL_PATH_NAMESPACE },
      data: {
        "config.json": JSON.stringify({ storageClassConfigs }),
        setup: '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
        teardown: '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n',
        "helperPod.yaml": JSON.stringify(helperPod),
      },
    },
    storageClass(LOCAL_PATH_STORAGE_CLASS, { "storageclass.kubernetes.io/is-default-class": "true" }),
    ...(dirs.encrypted ? [storageClass(ENCRYPTED_STORAGE_CLASS, { [ENCRYPTED_STORAGE_CLASS_ANNOTATION]: "true" })] : []),
  ];
}
