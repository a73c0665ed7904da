/**
 * The tenants the node's tenant tests share: the operator installed by its chart, and two tenants
 * Ready from their own Pods. Each test file asks for them in its beforeAll; the first asks, the
 * others find them there (so a file also runs on its own).
 */
import { installOperatorChart } from "./operator-chart.js";
import { applyTenant, nodeTenant, waitForTenantReady } from "./tenants.js";

/** The namespace label that makes a namespace a tenant's client namespace (spec.network.clientNamespaces). */
export const CLIENTS_OF_LABEL = "chat.example/clients-of";

/** Two ejabberd replicas (a cluster across Pods) on a standalone database. */
export const ALPHA = { name: "node-alpha", domain: "chat.alpha.example", replicas: 2 } as const;
/** A second tenant beside it: one replica. */
export const BETA = { name: "node-beta", domain: "chat.beta.example", replicas: 1 } as const;

/** Each tenant admits the namespaces labelled as its clients, as a hospital admits its ingress controller. */
const clientNamespacesOf = (tenant: string) => ({ network: { clientNamespaces: [{ matchLabels: { [CLIENTS_OF_LABEL]: tenant } }] } });

export async function tenantsReady(): Promise<void> {
  await installOperatorChart();
  for (const t of [ALPHA, BETA]) await applyTenant(nodeTenant(t.name, t.domain, t.replicas, clientNamespacesOf(t.name)));
  await Promise.all([ALPHA, BETA].map((t) => waitForTenantReady(t.name)));
}
