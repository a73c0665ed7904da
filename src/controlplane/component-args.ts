/**
 * Command lines of the control plane components, as pure functions of ports and file paths.
 * Kept apart from process handling so the flags can be read (and reviewed) in one place.
 */
import type { ControlPlanePki } from "./pki.js";

// A /16: a benchmark of 1,000 tenants needs thousands of ClusterIPs (a /24 runs out near 100 tenants).
export const SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/16";
/** Pod IPs that kwok hands out; apart from the service range so addresses never look alike. */
export const FAKE_POD_CIDR = "10.244.0.0/16";
/** Annotation that tells our kwok instance which Nodes it simulates. */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const KWOK_NODE_ANNOTATION_VALUE = "fake";

export interface EtcdPorts {
  readonly client: number;
  readonly peer: number;
}

export function etcdArgs(dataDir: string, ports: EtcdPorts): string[] {
  const client = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  return [
    "--name=controlplane",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=controlplane=${peer}`,
    "--initial-cluster-state=new",
    // A throwaway test store: durability across power loss buys nothing and fsync costs seconds.
    "--unsafe-no-fsync=true",
    "--log-level=warn",
  ];
}

export interface ApiServerInput {
  readonly etcdClientPort: number;
  readonly securePort: number;
  readonly certDir: string;
  readonly pki: ControlPlanePki;
  /** Audit policy and log: every write request, with its user agent, for tests that count writes. */
  readonly audit?: { readonly policyFile: string; readonly logFile: string };
  /** Serve a real node (kubelet, Pods): listen on and advertise the node's address. */
  readonly realNode?: { readonly nodeIp: string; readonly kubeletClientCert: string; readonly kubeletClientKey: string };
}

/**
 * What a real node needs of the API server: Pods reach it through the `kubernetes` Service, whose
 * endpoint the default (lease) reconciler sets to the advertised address; exec, logs and
 * port-forward go to the kubelet by its InternalIP (the node name is not in any DNS here).
 */
function realNodeApiServerArgs(realNode: NonNullable<ApiServerInput["realNode"]>): string[] {
  return [
    `--bind-address=${realNode.nodeIp}`,
    `--advertise-address=${realNode.nodeIp}`,
    "--endpoint-reconciler-type=lease",
    `--kubelet-client-certificate=${realNode.kubeletClientCert}`,
    `--kubelet-client-key=${realNode.kubeletClientKey}`,
    "--kubelet-preferred-address-types=InternalIP,Hostname",
  ];
}

const LOOPBACK_ONLY_API_SERVER_ARGS = [
  "--bind-address=127.0.0.1",
  "--advertise-address=127.0.0.1",
  // The `kubernetes` Service would get 127.0.0.1 endpoints, which validation rejects (loopback).
  "--endpoint-reconciler-type=none",
];

/**
 * Audit policy of the local control plane: metadata of every write, and of every read too when
 * asked (a benchmark counting all requests by verb). Tests count writes only and would rather not
 * log every controller's reads.
 */
export function auditPolicyYaml(options: { readonly reads: boolean }): string {
  return `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection${options.reads ? ', get, list, watch' : ''}]
  - level: None
`;
}

export function apiServerArgs(input: ApiServerInput): string[] {
  const { pki } = input;
  return [
    `--etcd-servers=http://127.0.0.1:${input.etcdClientPort}`,
    ...(input.realNode ? realNodeApiServerArgs(input.realNode) : LOOPBACK_ONLY_API_SERVER_ARGS),
    `--secure-port=${input.securePort}`,
    `--cert-dir=${input.certDir}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    "--authorization-mode=RBAC,Node",
    // PodSecurity is on by default since 1.25; naming it makes the dependency explicit.
    "--enable-admission-plugins=NodeRestriction,PodSecurity",
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    "--allow-privileged=true",
    // On SIGTERM, drain ordinary requests and then give open watches 2s instead of the 60s
    // request timeout, so a restart under running clients takes seconds, not a minute.
    "--shutdown-send-retry-after=true",
    // One file, never rotated: tests and benchmarks read it whole (0 would mean lumberjack's 100 MB, which a
    // benchmark of 1,000 tenants passes several times).
    ...(input.audit ? [`--audit-policy-file=${input.audit.policyFile}`, `--audit-log-path=${input.audit.logFile}`, "--audit-log-format=json", "--audit-log-mode=blocking", "--audit-log-maxsize=1000000"] : []),
  ];
}

export interface SecureComponentInput {
  readonly kubeconfig: string;
  readonly securePort: number;
  readonly pki: ControlPlanePki;
}

/** Flags shared by kube-controller-manager and kube-scheduler for their own HTTPS endpoint. */
function secureServingArgs(input: SecureComponentInput): string[] {
  return [
    `--kubeconfig=${input.kubeconfig}`,
    `--authentication-kubeconfig=${input.kubeconfig}`,
    `--authorization-kubeconfig=${input.kubeconfig}`,
    "--leader-elect=false",
    "--bind-address=127.0.0.1",
    `--secure-port=${input.securePort}`,
    `--tls-cert-file=${input.pki.servingCert}`,
    `--tls-private-key-file=${input.pki.servingKey}`,
    `--client-ca-file=${input.pki.caCert}`,
  ];
}

export function controllerManagerArgs(input: SecureComponentInput): string[] {
  return [
    ...secureServingArgs(input),
    // All default controllers: garbage collector, namespace, workloads, jobs, endpoints, SA tokens, ...
    "--controllers=*",
    "--use-service-account-credentials=false",
    `--service-account-private-key-file=${input.pki.serviceAccountKey}`,
    `--root-ca-file=${input.pki.caCert}`,
    `--cluster-signing-cert-file=${input.pki.caCert}`,
    `--cluster-signing-key-file=${input.pki.caKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
  ];
}

export function schedulerArgs(input: SecureComponentInput): string[] {
  return secureServingArgs(input);
}

export interface KwokInput {
  readonly kubeconfig: string;
  readonly stagesFile: string;
  readonly serverPort: number;
}

export function kwokArgs(input: KwokInput): string[] {
  return [
    `--kubeconfig=${input.kubeconfig}`,
    // Always an explicit config: otherwise kwok reads ~/.kwok/kwok.yaml from the user's home.
    `--config=${input.stagesFile}`,
    "--manage-all-nodes=false",
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
    `--server-address=127.0.0.1:${input.serverPort}`,
    // Heartbeats through Leases, like a real kubelet (the node-heartbeat-with-lease Stage).
    "--node-lease-duration-seconds=40",
    `--cidr=${FAKE_POD_CIDR}`,
  ];
}
