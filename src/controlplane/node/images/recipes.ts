/**
 * What each image of the real node is made of, as data. An image's cache key is a hash of its
 * recipe (with the content of every file it copies), so changing a recipe builds a new archive and
 * an unchanged one is imported straight from the cache.
 */
import { EJABBERDCTL_WRAPPER, EJABBERD_IMAGE_HOME, EJABBERD_IMAGE_UID } from "./ejabberd-image.js";
import type { ImageRunConfig } from "./oci-archive.js";
import { PAUSE_C } from "./pause.js";
import { POSTGRES_BIN_DIR, POSTGRES_ENTRYPOINT, POSTGRES_IMAGE_UID, POSTGRES_MAJOR } from "./postgres-image.js";

/** Images are named under a registry host that does not exist: they can only come from an import. */
export const LOCAL_IMAGE_PREFIX = "localhost/chat-tenant-operator";

/** A file of a `files` root filesystem: literal content, a host file, or C source compiled statically. */
export type ImageFile =
  | { readonly path: string; readonly mode: number; readonly content: string }
  | { readonly path: string; readonly mode: number; readonly hostFile: string }
  | { readonly path: string; readonly mode: number; readonly staticC: string };

/** A Debian root filesystem made by `mmdebstrap --variant=minbase`. */
export interface DebianRootfs {
  readonly kind: "debian";
  readonly suite: "bookworm" | "trixie";
  readonly packages: readonly string[];
  /** Runs after the essential packages, before the others (users that packages must find). */
  readonly essentialHook?: string;
  /** Runs last; $1 is the root directory. */
  readonly customizeHook?: string;
}

export interface FilesRootfs {
  readonly kind: "files";
  readonly files: readonly ImageFile[];
}

export interface ImageRecipe {
  readonly name: string;
  readonly tag: string;
  readonly rootfs: DebianRootfs | FilesRootfs;
  readonly config: ImageRunConfig;
}

export function imageReference(recipe: ImageRecipe): string {
  return `${LOCAL_IMAGE_PREFIX}/${recipe.name}:${recipe.tag}`;
}

/** A user and group that packages installed later find already there (their postinst keeps it). */
export function addUserLines(name: string, id: number, home: string): string {
  return [
    `echo '${name}:x:${id}:' >> "$1/etc/group"`,
    `echo '${name}:x:${id}:${id}:${name}:${home}:/bin/sh' >> "$1/etc/passwd"`,
    `echo '${name}:*:19000:0:99999:7:::' >> "$1/etc/shadow"`,
  ].join("\n");
}

/** Writes a file into the root filesystem from a hook, without any quoting of its content. */
function writeFileLines(target: string, content: string, mode: string): string {
  const marker = "CHAT_TENANT_OPERATOR_EOF";
  if (content.includes(marker)) throw new Error(`file content contains the heredoc marker: ${target}`);
  return `cat > "$1${target}" <<'${marker}'\n${content}${marker}\nchmod ${mode} "$1${target}"`;
}

export const PAUSE_IMAGE: ImageRecipe = {
  name: "pause",
  tag: "3.10",
  rootfs: { kind: "files", files: [{ path: "pause", mode: 0o755, staticC: PAUSE_C }] },
  config: { Entrypoint: ["/pause"], User: "65535:65535" },
};

/** The bare Debian base: local-path-provisioner's helper Pods (sh, mkdir, rm) and test Pods. */
export const DEBIAN_IMAGE: ImageRecipe = {
  name: "debian",
  tag: "bookworm",
  rootfs: { kind: "debian", suite: "bookworm", packages: [] },
  config: { Cmd: ["/bin/sh"], Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
};

export const POSTGRES_IMAGE: ImageRecipe = {
  name: "postgres",
  // The tag starts with the major version, as image tags of PostgreSQL do. The major is the default
  // image's (17, from trixie; bookworm has 15): pg_restore 17 cannot restore into an older server (it
  // sets transaction_timeout, which 15 rejects), so the node runs what tenants run by default.
  tag: `${POSTGRES_MAJOR}-trixie`,
  rootfs: {
    kind: "debian",
    suite: "trixie",
    packages: [`postgresql-${POSTGRES_MAJOR}`],
    essentialHook: addUserLines("postgres", POSTGRES_IMAGE_UID, "/var/lib/postgresql"),
    customizeHook: [
      "set -e",
      // Debian's package would start a cluster of its own in /var/lib/postgresql/<major>/main.
      `rm -rf "$1/var/lib/postgresql/${POSTGRES_MAJOR}" "$1/etc/postgresql/${POSTGRES_MAJOR}"`,
      `mkdir -p "$1/run/postgresql" "$1/docker-entrypoint-initdb.d" "$1/var/lib/postgresql/data"`,
      `chown ${POSTGRES_IMAGE_UID}:${POSTGRES_IMAGE_UID} "$1/run/postgresql" "$1/var/lib/postgresql" "$1/var/lib/postgresql/data"`,
      `chmod 2775 "$1/run/postgresql"`,
      writeFileLines("/usr/local/bin/docker-entrypoint.sh", POSTGRES_ENTRYPOINT, "0755"),
    ].join("\n"),
  },
  config: {
    Entrypoint: ["/usr/local/bin/docker-entrypoint.sh"],
    Env: [`PATH=${POSTGRES_BIN_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, "PGDATA=/var/lib/postgresql/data", "LANG=C.UTF-8"],
    User: `${POSTGRES_IMAGE_UID}:${POSTGRES_IMAGE_UID}`,
    // As the official image: SIGINT is PostgreSQL's fast shutdown. SIGTERM (smart) waits for every client
    // session to end, and ejabberd's pooled connections never do: the Pod was killed at its grace period.
    StopSignal: "SIGINT",
  },
};

export const EJABBERD_IMAGE: ImageRecipe = {
  name: "ejabberd",
  tag: "23.01-bookworm",
  rootfs: {
    kind: "debian",
    suite: "bookworm",
    // Debian ships ejabberd's PostgreSQL driver apart (erlang-p1-pgsql); without it ejabberd cannot start
    // with sql_type pgsql ("no such file or directory: p1_pgsql.app").
    packages: ["ejabberd", "erlang-p1-pgsql", "tini"],
    essentialHook: addUserLines("ejabberd", EJABBERD_IMAGE_UID, EJABBERD_IMAGE_HOME),
    customizeHook: [
      "set -e",
      ...["conf", "database", "logs", "upload", "sql"].map((d) => `mkdir -p "$1${EJABBERD_IMAGE_HOME}/${d}"`),
      `mkdir -p "$1/run/ejabberd"`,
      `cp -a "$1/etc/ejabberd/." "$1${EJABBERD_IMAGE_HOME}/conf/"`,
      `cp -a "$1/usr/share/ejabberd/sql/." "$1${EJABBERD_IMAGE_HOME}/sql/"`,
      `chown -R ${EJABBERD_IMAGE_UID}:${EJABBERD_IMAGE_UID} "$1${EJABBERD_IMAGE_HOME}" "$1/run/ejabberd"`,
      writeFileLines("/usr/local/bin/ejabberdctl", EJABBERDCTL_WRAPPER, "0755"),
      // As in the official image: ports below 1024 without root, through a file capability.
      `setcap cap_net_bind_service=+ep "$1"/usr/lib/erlang/erts-*/bin/beam.smp`,
    ].join("\n"),
  },
  config: {
    Entrypoint: ["/usr/bin/tini", "--"],
    Cmd: ["ejabberdctl", "foreground"],
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", `HOME=${EJABBERD_IMAGE_HOME}`],
    User: `${EJABBERD_IMAGE_UID}:${EJABBERD_IMAGE_UID}`,
    WorkingDir: EJABBERD_IMAGE_HOME,
    Volumes: { [EJABBERD_IMAGE_HOME]: {} },
  },
};

/** CoreDNS as cluster DNS: the one static binary, configured by a ConfigMap mounted at /etc/coredns. */
export function corednsImage(binary: string, version: string): ImageRecipe {
  return {
    name: "coredns",
    tag: version,
    rootfs: { kind: "files", files: [{ path: "coredns", mode: 0o755, hostFile: binary }] },
    config: { Entrypoint: ["/coredns"], User: "65532:65532" },
  };
}
