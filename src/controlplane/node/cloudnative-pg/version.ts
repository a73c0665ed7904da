/**
 * The CloudNativePG release the real node runs, in one place. v1.30.1 is the newest the module
 * proxy serves, but two of its dependencies (cloudnative-pg/machinery and barman-cloud v0.6.0) are
 * refused and the served v0.5.x do not compile with it; every dependency of v1.30.0 is served.
 * The renderer validates its Cluster against the same release (src/render/postgres/cnpg.ts).
 */
import type { GoComponent } from "../../versions.js";

export const CLOUDNATIVE_PG_VERSION = "1.30.0";

/** The one binary of the operator image: the controller, and the instance manager every instance Pod copies in. */
export const CLOUDNATIVE_PG_MANAGER: GoComponent = {
  name: "cloudnative-pg-manager",
  version: `v${CLOUDNATIVE_PG_VERSION}`,
  module: "github.com/cloudnative-pg/cloudnative-pg",
  moduleVersion: `v${CLOUDNATIVE_PG_VERSION}`,
  mainPackage: "github.com/cloudnative-pg/cloudnative-pg/cmd/manager",
};

/** The release manifest inside the module, as users install CloudNativePG (`kubectl apply --server-side -f`). */
export const CLOUDNATIVE_PG_RELEASE_MANIFEST = `releases/cnpg-${CLOUDNATIVE_PG_VERSION}.yaml`;
