/**
 * CloudNativePG's release manifest made fit for a node without a registry, and nothing else
 * changed: the operator Deployment runs the locally imported image (never pulled), and
 * OPERATOR_IMAGE_NAME names the same image, because every instance Pod's init container copies
 * the instance manager out of it. Pure: text in, objects out.
 */
import yaml from "js-yaml";
import type { AddonObject } from "../addons.js";

export const CLOUDNATIVE_PG_NAMESPACE = "cnpg-system";
export const CLOUDNATIVE_PG_DEPLOYMENT = "cnpg-controller-manager";

type Container = { name: string; image?: string; imagePullPolicy?: string; env?: Array<{ name: string; value?: string }> };

export function cloudNativePGObjects(releaseManifest: string, operatorImage: string): AddonObject[] {
  const objects = yaml.loadAll(releaseManifest).filter((o): o is AddonObject => !!o && typeof o === "object");
  let replaced = 0;
  for (const object of objects) {
    if (object.kind !== "Deployment" || object.metadata.name !== CLOUDNATIVE_PG_DEPLOYMENT) continue;
    const containers = ((object as { spec?: { template?: { spec?: { containers?: Container[] } } } }).spec?.template?.spec?.containers ?? []);
    for (const container of containers) {
      container.image = operatorImage;
      container.imagePullPolicy = "Never";
      for (const env of container.env ?? []) if (env.name === "OPERATOR_IMAGE_NAME") env.value = operatorImage;
      replaced += 1;
    }
  }
  if (replaced === 0) throw new Error(`the release manifest has no Deployment ${CLOUDNATIVE_PG_DEPLOYMENT}`);
  return objects;
}
