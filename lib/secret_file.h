/* Secrets in memory: OpenSSL's secure heap (locked in memory so that it is never swapped, left
 * out of core dumps, wiped when freed), and the files that hold secrets read straight into it.
 * stdio would leave a copy of a key's text in its own buffer, freed without being wiped; these
 * read with read(2) into the secure heap and wipe what they are done with. */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define SECRET_PEM_MAX (16 * 1024) /* a PEM private key: RSA-8192 is about 6.5 KiB */

/* Sets up OpenSSL's secure heap of `size` bytes (a power of two), once per process: 0 when it
 * is set up and locked in memory; -EPERM when it exists but could not be locked (mlock: the
 * memory lock limit, RLIMIT_MEMLOCK or systemd's LimitMEMLOCK=, is too low and the process
 * lacks CAP_IPC_LOCK) or kept out of core dumps; -ENOMEM when it could not be made (or another
 * part of the process made it first). Called again, it returns its first answer (with the same
 * detail); `size` is then ignored. Until it is set up, OPENSSL_secure_malloc is plain malloc. */
int secret_heap_setup(size_t size);

/* The whole of a file (a regular file, or a pipe) of at most `max` bytes in the secure heap,
 * NUL-terminated, read with read(2). *data: free with OPENSSL_secure_clear_free(*data,
 * *alloc_size). -ENOENT, -EFBIG, -EINVAL (a directory), -EIO; the detail names the file. */
int secret_file_read(const char *path, size_t max, uint8_t **data, size_t *size, size_t *alloc_size);

/* All of what an open descriptor gives (stdin: a pipe, a file, a terminal until end of file),
 * at most `max` bytes, as a secret. -EFBIG when more follows, -EIO; the detail names `name`. */
struct secret;
int secret_fd_read(int fd, const char *name, size_t max, struct secret **out);

/* An unencrypted PEM private key (PKCS#8, or OpenSSL's traditional RSA or EC form), its text
 * read with secret_file_read() and wiped once parsed; an encrypted key is refused, not asked a
 * passphrase for. -ENOENT, -EFBIG, or -EINVAL with a detail naming the file. */
int secret_private_key_load(const char *path, EVP_PKEY **out);
