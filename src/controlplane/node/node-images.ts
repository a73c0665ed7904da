/**
 * The images a real node imports: what the node itself runs (pause, CoreDNS, the helper shell)
 * and the workload images the operator's tenants run (PostgreSQL, ejabberd, and CloudNativePG with
 * its operand).
 */
import { CLOUDNATIVE_PG_OPERAND_IMAGE, cloudNativePGOperatorImage } from "./images/cloudnative-pg-images.js";
import { ensureNodeImages, type ImageArchive } from "./images/build.js";
import { corednsImage, DEBIAN_IMAGE, EJABBERD_IMAGE, PAUSE_IMAGE, POSTGRES_IMAGE, type ImageRecipe } from "./images/recipes.js";
import type { NodeImages } from "./node.js";
import { COREDNS_VERSION } from "./versions.js";

export interface EnsureRealNodeImagesOptions {
  readonly cacheDir: string;
  /** The cached CoreDNS binary (binaries.ts). */
  readonly corednsBinary: string;
  /** Also the PostgreSQL and ejabberd images (minutes on a cold cache). */
  readonly workloadImages: boolean;
  /** Also CloudNativePG's operator image (from this manager binary) and its PostgreSQL operand image. */
  readonly cloudNativePG?: { readonly manager: string; readonly version: string };
  readonly log?: (line: string) => void;
}

export const WORKLOAD_IMAGE_RECIPES: readonly ImageRecipe[] = [POSTGRES_IMAGE, EJABBERD_IMAGE];

export async function ensureRealNodeImages(options: EnsureRealNodeImagesOptions): Promise<NodeImages> {
  const recipes = [PAUSE_IMAGE, DEBIAN_IMAGE, corednsImage(options.corednsBinary, `v${COREDNS_VERSION}`)];
  if (options.workloadImages) recipes.push(...WORKLOAD_IMAGE_RECIPES);
  if (options.cloudNativePG) recipes.push(cloudNativePGOperatorImage(options.cloudNativePG.manager, options.cloudNativePG.version), CLOUDNATIVE_PG_OPERAND_IMAGE);
  const archives: ImageArchive[] = await ensureNodeImages({ cacheDir: options.cacheDir, recipes, log: options.log });
  const [pause, helper, coredns, ...others] = archives;
  return { pause: pause!, helper: helper!, coredns: coredns!, others };
}

/** The reference of an image among `archives` by its name: localhost/chat-tenant-operator/<name>:<tag>. */
export function imageReferenceNamed(archives: readonly ImageArchive[], name: string): string {
  const found = archives.find((i) => i.reference.includes(`/${name}:`));
  if (!found) throw new Error(`no ${name} image among ${archives.map((i) => i.reference).join(", ")}`);
  return found.reference;
}
