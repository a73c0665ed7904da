/**
 * A small C program that encrypts a directory with the kernel's own file encryption (fscrypt, ext4):
 * it adds a raw 64-byte key, read from stdin, to the file system's keyring and sets a v2 policy
 * (AES-256-XTS contents, AES-256-CTS names) on an empty directory, so everything created below it
 * is encrypted on disk. Written here instead of using Debian's `fscrypt` tool, which needs a global
 * /etc/fscrypt.conf and metadata directories (host changes), and because `fscryptctl` is not in
 * bookworm. Compiled statically with gcc, like the pause program.
 */
export const FSCRYPT_DIR_C = `#include <fcntl.h>
#include <linux/fscrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KEY_SIZE 64

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s MOUNTPOINT EMPTY_DIR < 64-byte-key\\n", argv[0]); return 2; }
  struct fscrypt_add_key_arg *arg = calloc(1, sizeof(*arg) + KEY_SIZE);
  if (!arg) return 1;
  size_t have = 0;
  while (have < KEY_SIZE) {
    ssize_t n = read(0, arg->raw + have, KEY_SIZE - have);
    if (n <= 0) { fprintf(stderr, "need %d key bytes on stdin\\n", KEY_SIZE); return 1; }
    have += (size_t)n;
  }
  arg->key_spec.type = FSCRYPT_KEY_SPEC_TYPE_IDENTIFIER;
  arg->raw_size = KEY_SIZE;
  int mount = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (mount < 0 || ioctl(mount, FS_IOC_ADD_ENCRYPTION_KEY, arg) != 0) { perror("add key"); return 1; }
  struct fscrypt_policy_v2 policy = {
    .version = FSCRYPT_POLICY_V2,
    .contents_encryption_mode = FSCRYPT_MODE_AES_256_XTS,
    .filenames_encryption_mode = FSCRYPT_MODE_AES_256_CTS,
    .flags = FSCRYPT_POLICY_FLAGS_PAD_32,
  };
  memcpy(policy.master_key_identifier, arg->key_spec.u.identifier, FSCRYPT_KEY_IDENTIFIER_SIZE);
  memset(arg->raw, 0, KEY_SIZE);
  int dir = open(argv[2], O_RDONLY | O_DIRECTORY);
  if (dir < 0 || ioctl(dir, FS_IOC_SET_ENCRYPTION_POLICY, &policy) != 0) { perror("set policy"); return 1; }
  for (int i = 0; i < FSCRYPT_KEY_IDENTIFIER_SIZE; i++) printf("%02x", policy.master_key_identifier[i]);
  printf("\\n");
  return 0;
}
`;
