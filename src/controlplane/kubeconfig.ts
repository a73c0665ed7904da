/**
 * The admin kubeconfig for a local control plane: cluster CA and client certificate embedded,
 * so the file alone is enough for kubectl, @kubernetes/client-node and the components.
 */
import { writeFile } from "node:fs/promises";
import yaml from "js-yaml";

export interface AdminKubeconfigInput {
  readonly server: string;
  readonly caCertPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Used for the cluster, user and context names. */
  readonly name: string;
}

export function renderAdminKubeconfig(input: AdminKubeconfigInput): string {
  const b64 = (pem: string): string => Buffer.from(pem, "utf8").toString("base64");
  return yaml.dump({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: input.name, cluster: { server: input.server, "certificate-authority-data": b64(input.caCertPem) } }],
    users: [
      {
        name: `${input.name}-admin`,
        user: {
          "client-certificate-data": b64(input.clientCertPem),
          "client-key-data": b64(input.clientKeyPem),
        },
      },
    ],
    contexts: [{ name: input.name, context: { cluster: input.name, user: `${input.name}-admin` } }],
    "current-context": input.name,
    preferences: {},
  });
}

export async function writeAdminKubeconfig(file: string, input: AdminKubeconfigInput): Promise<void> {
  await writeFile(file, renderAdminKubeconfig(input), { mode: 0o600 });
}
