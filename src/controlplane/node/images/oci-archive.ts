/**
 * Writes an OCI image archive (an `oci-layout` directory in a tar file, what `ctr images import`
 * reads) from one uncompressed layer tar and an image configuration.
 *
 * Written directly rather than through buildah: one layer needs no image store, so building an
 * image changes nothing on the host (buildah keeps containers/storage under /var/lib/containers),
 * and the archive's content follows from its inputs alone.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { link, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The part of an OCI image configuration that says how containers run. */
export interface ImageRunConfig {
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Env?: readonly string[];
  /** A numeric uid (or uid:gid), so runAsNonRoot can check it without reading /etc/passwd. */
  readonly User?: string;
  readonly WorkingDir?: string;
  readonly Volumes?: Readonly<Record<string, Record<string, never>>>;
  /** The signal the runtime stops the container with (containerd's CRI reads it); SIGTERM if unset. */
  readonly StopSignal?: string;
}

export interface OciArchiveInput {
  /** Full reference containerd will list, e.g. localhost/chat-tenant-operator/pause:3.10. */
  readonly reference: string;
  /** An uncompressed tar of the root filesystem (the only layer). */
  readonly layerTar: string;
  readonly config: ImageRunConfig;
  /** The archive to write; written beside it first and renamed by the caller. */
  readonly output: string;
  /** Scratch space on the same file system as layerTar (the layer is hard-linked, not copied). */
  readonly workDir: string;
}

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Record<string, string>;
}

export async function writeOciArchive(input: OciArchiveInput): Promise<void> {
  const layout = await mkdtemp(path.join(input.workDir, "oci-layout-"));
  try {
    const blobs = path.join(layout, "blobs", "sha256");
    await mkdir(blobs, { recursive: true });
    const layerDigest = await sha256File(input.layerTar);
    await link(input.layerTar, path.join(blobs, layerDigest));
    const layer: Descriptor = {
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: `sha256:${layerDigest}`,
      size: (await stat(input.layerTar)).size,
    };
    const config = await writeBlob(blobs, "application/vnd.oci.image.config.v1+json", {
      architecture: "amd64",
      os: "linux",
      config: input.config,
      // Uncompressed: the layer's digest is its diff id.
      rootfs: { type: "layers", diff_ids: [layer.digest] },
    });
    const manifest = await writeBlob(blobs, "application/vnd.oci.image.manifest.v1+json", {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config,
      layers: [layer],
    });
    const tag = input.reference.slice(input.reference.lastIndexOf(":") + 1);
    const index = {
      schemaVersion: 2,
      manifests: [
        {
          ...manifest,
          // Without a platform, `ctr images import` (which imports the host's platform only) skips it.
          platform: { architecture: "amd64", os: "linux" },
          // containerd names the image by the first; other tools by the second.
          annotations: { "io.containerd.image.name": input.reference, "org.opencontainers.image.ref.name": tag },
        },
      ],
    };
    await writeFile(path.join(layout, "index.json"), JSON.stringify(index));
    await writeFile(path.join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await run("tar", ["--create", "--file", input.output, "--directory", layout, "--numeric-owner", "oci-layout", "index.json", "blobs"]);
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}

async function writeBlob(dir: string, mediaType: string, value: unknown): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = createHash("sha256").update(bytes).digest("hex");
  await writeFile(path.join(dir, digest), bytes);
  return { mediaType, digest: `sha256:${digest}`, size: bytes.length };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
