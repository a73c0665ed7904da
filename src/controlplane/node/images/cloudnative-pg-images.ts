/**
 * CloudNativePG's two images, made here because no registry is reachable:
 *
 * - the operator: the manager binary (built from the Go module) where CloudNativePG's own
 *   Dockerfile puts it, /manager and /operator/manager_amd64 (every instance Pod's init container
 *   copies the instance manager out of this image);
 * - the operand: Debian trixie's postgresql-17 laid out as CloudNativePG expects of an operand
 *   image. Each line below answers a failure seen without it: initdb and pg_ctl on PATH, a passwd
 *   entry for uid/gid 26 (Debian's `tape` group holds gid 26 and moves aside), and a tag that starts
 *   with the major version, from which CloudNativePG reads it. No entrypoint: the instance manager
 *   is the container's command.
 */
import type { ImageRecipe } from "./recipes.js";
import { addUserLines } from "./recipes.js";
import { POSTGRES_MAJOR } from "./postgres-image.js";

/** The postgres user of CloudNativePG operand images (its Cluster's postgresUID/postgresGID default). */
export const CLOUDNATIVE_PG_OPERAND_UID = 26;
const OPERAND_BIN_DIR = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
/** The operator Deployment of the release manifest runs as this user. */
const OPERATOR_UID = 10001;

export function cloudNativePGOperatorImage(managerBinary: string, version: string): ImageRecipe {
  return {
    name: "cloudnative-pg",
    tag: version,
    rootfs: {
      kind: "files",
      files: [
        { path: "manager", mode: 0o755, hostFile: managerBinary },
        { path: "operator/manager_amd64", mode: 0o755, hostFile: managerBinary },
      ],
    },
    config: { Entrypoint: ["/manager"], User: `${OPERATOR_UID}:${OPERATOR_UID}` },
  };
}

export const CLOUDNATIVE_PG_OPERAND_IMAGE: ImageRecipe = {
  name: "cloudnative-pg-postgresql",
  tag: `${POSTGRES_MAJOR}-trixie`,
  rootfs: {
    kind: "debian",
    suite: "trixie",
    packages: [`postgresql-${POSTGRES_MAJOR}`],
    essentialHook: [
      // trixie writes it "tape:*:26:"; whatever its password field, only the gid moves.
      `sed -i 's/^\\(tape:[^:]*\\):${CLOUDNATIVE_PG_OPERAND_UID}:/\\1:2${CLOUDNATIVE_PG_OPERAND_UID}:/' "$1/etc/group"`,
      addUserLines("postgres", CLOUDNATIVE_PG_OPERAND_UID, "/var/lib/postgresql"),
    ].join("\n"),
    customizeHook: [
      "set -e",
      // Debian's package would set up a cluster of its own; CloudNativePG runs initdb itself.
      `rm -rf "$1/var/lib/postgresql/${POSTGRES_MAJOR}" "$1/etc/postgresql/${POSTGRES_MAJOR}"`,
      `mkdir -p "$1/var/lib/postgresql/data"`,
      `chown ${CLOUDNATIVE_PG_OPERAND_UID}:${CLOUDNATIVE_PG_OPERAND_UID} "$1/var/lib/postgresql" "$1/var/lib/postgresql/data"`,
      // The group file must hold exactly one entry for gid 26, or initdb cannot name its user.
      `test "$(awk -F: '$3 == ${CLOUDNATIVE_PG_OPERAND_UID}' "$1/etc/group" | wc -l)" = 1`,
    ].join("\n"),
  },
  config: {
    Env: [`PATH=${OPERAND_BIN_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, "LANG=C.UTF-8"],
    User: `${CLOUDNATIVE_PG_OPERAND_UID}:${CLOUDNATIVE_PG_OPERAND_UID}`,
  },
};
