/* Hashing one file as IMA hashes it: the regular file's contents, exactly the size the inode has
 * when it is opened (IMA hashes i_size bytes), read through a fixed buffer, never mapped or read
 * whole. A file that changes size while it is read is an error rather than a digest of neither
 * version. */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#define FILE_DIGEST_BUFFER (256u << 10)

struct file_hasher {
        EVP_MD *md;
        EVP_MD_CTX *ctx;
        uint8_t *buf;
        size_t digest_size;
};

/* -EINVAL for an algorithm vmattest cannot hash. */
int file_hasher_init(struct file_hasher *h, TPM2_ALG_ID alg);
void file_hasher_done(struct file_hasher *h);

/* Hashes the file `path` inside the tree `root_fd` (opened with open_beneath(): no symlink
 * followed). -ENOENT (no detail) when it is gone; any other failure is an error whose
 * detail names "/path": not a regular file (-EINVAL), a symlink on the way (-ELOOP), a file that
 * changed while read (-ESTALE), a read error. */
int file_hasher_digest_beneath(struct file_hasher *h, int root_fd, const char *path, uint8_t *digest);

/* The same for a file given on the command line (followed if it is a symlink: the user named it);
 * the detail names `path`. */
int file_hasher_digest_path(struct file_hasher *h, const char *path, uint8_t *digest);
