#include "agent/handover.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/state.h"
#include "agent/tpm.h"
#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/secret.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"

#define HANDOVER_MAGIC "vmattest-handover"
#define HANDOVER_LINE_MAX 128
#define HANDOVER_BLOB_LINE_MAX 1400 /* a name and a base64 TPM structure of at most 1024 bytes */
#define HANDOVER_BLOB_MAX 1024
#define PAYLOAD_KEY_BITS 2048

DEFINE_POINTER_CLEANUP(BIO, BIO_free)

/* The hand-over's directory, made if missing (its parents 0755, itself 0700) and given to
 * `owner`, who must be able to open the file and remove it. An existing directory is used as it
 * is for root; for another owner only when it already is that owner's: unlock gives away no
 * directory it did not make. */
int handover_prepare(const char *path, uid_t owner) {
        char copy[4096], dir[4096];
        struct stat st;

        if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
                return vm_error(-ENAMETOOLONG, "hand-over %s: path too long", path);
        snprintf(dir, sizeof(dir), "%s", dirname(copy));
        for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return vm_error(-errno, "hand-over %s: cannot create %s: %m", path, dir);
                *slash = '/';
        }
        if (mkdir(dir, 0700) == 0) {
                if (owner != 0 && chown(dir, owner, (gid_t)-1) < 0)
                        return vm_error(-errno, "hand-over %s: cannot give %s to uid %u (handover_user): %m", path, dir,
                                        (unsigned)owner);
                return 0;
        }
        if (errno != EEXIST)
                return vm_error(-errno, "hand-over %s: cannot create its directory: %m", path);
        if (owner == 0)
                return 0;
        if (lstat(dir, &st) < 0)
                return vm_error(-errno, "hand-over %s: %s: %m", path, dir);
        if (!S_ISDIR(st.st_mode) || st.st_uid != owner || (st.st_mode & 022))
                return vm_error(-EPERM,
                                "hand-over %s: %s exists and is not a directory of handover_user's (uid %u) that only it "
                                "may write to: give the hand-over a directory of its own",
                                path, dir, (unsigned)owner);
        return 0;
}

/* "NAME <base64 of the marshalled structure>\n" */
static int write_blob_line(BIO *mem, const char *name, const uint8_t *bytes, size_t size) {
        _cleanup_(freep) char *b64 = base64_encode(bytes, size);

        return b64 && BIO_printf(mem, "%s %s\n", name, b64) > 0 ? 0 : -ENOMEM;
}

static int write_tpm_key(BIO *mem, const struct handover *h) {
        uint8_t bytes[HANDOVER_BLOB_MAX];
        size_t size;
        int ret = tpm2b_public_marshal(&h->payload_parent, bytes, sizeof(bytes), &size);

        if (ret >= 0)
                ret = write_blob_line(mem, "payload_key_parent", bytes, size);
        if (ret >= 0)
                ret = tpm2b_public_marshal(&h->payload_public, bytes, sizeof(bytes), &size);
        if (ret >= 0)
                ret = write_blob_line(mem, "payload_key_public", bytes, size);
        if (ret >= 0)
                ret = tpm2b_private_marshal(&h->payload_private, bytes, sizeof(bytes), &size);
        if (ret >= 0)
                ret = write_blob_line(mem, "payload_key_private", bytes, size);
        return ret;
}

int handover_write(const char *path, const struct handover *h, uid_t owner) {
        /* the secure-heap BIO: the private keys' PEM never sits in ordinary, swappable memory */
        _cleanup_(BIO_freep) BIO *mem = BIO_new(BIO_s_secmem());
        char *data;
        long size;
        int ret;

        if (!mem)
                return -ENOMEM;
        if (BIO_printf(mem, "%s %d\nagent_id %s\nak_handle 0x%08x\n", HANDOVER_MAGIC, h->payload_in_tpm ? 2 : 1,
                       h->agent_id, h->ak_handle) <= 0 ||
            (h->payload_in_tpm ? write_tpm_key(mem, h) < 0
                               : !PEM_write_bio_PrivateKey(mem, h->payload_key, NULL, NULL, 0, NULL, NULL)) ||
            !PEM_write_bio_PrivateKey(mem, h->mtls_key, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(mem, h->mtls_cert))
                return vm_error(-ENOMEM, "hand-over %s: cannot encode the identity", path);
        ret = handover_prepare(path, owner);
        if (ret < 0)
                return ret;
        size = BIO_get_mem_data(mem, &data);
        return state_write_file_owned(path, data, (size_t)size, 0600, owner == 0 ? (uid_t)-1 : owner);
}

/* One header line "NAME VALUE" into value (NUL-terminated), exactly NAME. */
static int header_line(BIO *in, const char *name, char *value, size_t size) {
        char line[HANDOVER_BLOB_LINE_MAX];
        size_t name_len = strlen(name), len;
        int line_max = size > HANDOVER_LINE_MAX ? HANDOVER_BLOB_LINE_MAX : HANDOVER_LINE_MAX;
        int n = BIO_gets(in, line, line_max);

        if (n <= 0 || line[n - 1] != '\n')
                return vm_error(-EBADMSG, "no complete line \"%s\" (at most %d bytes)", name, line_max - 1);
        line[n - 1] = '\0';
        if (strlen(line) != (size_t)n - 1)
                return vm_error(-EBADMSG, "a NUL byte in the line \"%s\"", name);
        if (strncmp(line, name, name_len) != 0 || (line[name_len] != ' ' && line[name_len] != '\0'))
                return vm_error(-EBADMSG, "expected the line \"%s\", found \"%.40s\"", name, line);
        len = strlen(line + name_len + (line[name_len] == ' '));
        if (len >= size)
                return vm_error(-EBADMSG, "the value of \"%s\" is too long", name);
        memcpy(value, line + name_len + (line[name_len] == ' '), len + 1);
        return 0;
}

/* The header; *version is 1 or 2. */
static int parse_header(BIO *in, struct handover *h, int *version) {
        char value[HANDOVER_LINE_MAX];
        int ret = header_line(in, HANDOVER_MAGIC, value, sizeof(value));

        if (ret >= 0 && strcmp(value, "1") != 0 && strcmp(value, "2") != 0)
                ret = vm_error(-EBADMSG, "not a vmattest hand-over version 1 or 2");
        if (ret >= 0)
                *version = value[0] - '0';
        if (ret >= 0)
                ret = header_line(in, "agent_id", h->agent_id, sizeof(h->agent_id));
        if (ret >= 0 && !agent_id_valid(h->agent_id))
                ret = vm_error(-EBADMSG, "agent_id \"%s\" is not an agent id", h->agent_id);
        if (ret >= 0)
                ret = header_line(in, "ak_handle", value, sizeof(value));
        if (ret < 0)
                return ret;
        if (strncmp(value, "0x", 2) != 0 || !tpm_persistent_handle_parse(value, &h->ak_handle))
                return vm_error(-EBADMSG, "ak_handle \"%s\" is not a persistent handle 0x81xxxxxx", value);
        return 0;
}

/* One "NAME <base64>" line into bytes. */
static int blob_line(BIO *in, const char *name, uint8_t *bytes, size_t *size) {
        char value[HANDOVER_BLOB_LINE_MAX];
        _cleanup_(freep) uint8_t *decoded = NULL;
        int ret = header_line(in, name, value, sizeof(value));

        if (ret >= 0 && base64_decode(value, strlen(value), &decoded, size) < 0)
                ret = vm_error(-EBADMSG, "%s is not base64", name);
        if (ret >= 0 && (*size == 0 || *size > HANDOVER_BLOB_MAX))
                ret = vm_error(-EBADMSG, "%s: %zu bytes", name, *size);
        if (ret >= 0)
                memcpy(bytes, decoded, *size);
        return ret;
}

/* Version 2: the TPM key's parent template, public and private blob. */
static int parse_tpm_key(BIO *in, struct handover *h) {
        uint8_t bytes[HANDOVER_BLOB_MAX];
        size_t size;
        int ret = blob_line(in, "payload_key_parent", bytes, &size);

        if (ret >= 0 && tpm2b_public_unmarshal(bytes, size, &h->payload_parent) < 0)
                ret = vm_error(-EBADMSG, "payload_key_parent is not a TPM2B_PUBLIC");
        if (ret >= 0)
                ret = blob_line(in, "payload_key_public", bytes, &size);
        if (ret >= 0 && tpm2b_public_unmarshal(bytes, size, &h->payload_public) < 0)
                ret = vm_error(-EBADMSG, "payload_key_public is not a TPM2B_PUBLIC");
        if (ret >= 0 && (ret = tpmkey_check_payload_key(&h->payload_public.publicArea)) < 0)
                ret = vm_error(-EBADMSG, "payload_key_public is not a TPM payload key: %s", vm_error_detail(ret));
        if (ret >= 0)
                ret = blob_line(in, "payload_key_private", bytes, &size);
        if (ret >= 0 && tpm2b_private_unmarshal(bytes, size, &h->payload_private) < 0)
                ret = vm_error(-EBADMSG, "payload_key_private is not a TPM2B_PRIVATE");
        if (ret >= 0)
                h->payload_in_tpm = true;
        return ret;
}

int handover_parse(const void *data, size_t size, struct handover *h) {
        _cleanup_(BIO_freep) BIO *in = NULL;
        char rest[2];
        int ret, n, version = 0;

        memset(h, 0, sizeof(*h));
        if (size > HANDOVER_MAX)
                return vm_error(-EFBIG, "longer than %d bytes", HANDOVER_MAX);
        if (!(in = BIO_new_mem_buf(data, (int)size)))
                return -ENOMEM;
        ret = parse_header(in, h, &version);
        if (ret >= 0 && version == 2)
                ret = parse_tpm_key(in, h);
        else if (ret >= 0 && !(h->payload_key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)))
                ret = vm_error(-EBADMSG, "no payload key (PEM private key) after the header");
        if (ret >= 0 && version == 1 && (!EVP_PKEY_is_a(h->payload_key, "RSA") || EVP_PKEY_get_bits(h->payload_key) != PAYLOAD_KEY_BITS))
                ret = vm_error(-EBADMSG, "the payload key is not RSA-%d", PAYLOAD_KEY_BITS);
        if (ret >= 0 && !(h->mtls_key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)))
                ret = vm_error(-EBADMSG, "no mTLS key (PEM private key) after the payload key");
        if (ret >= 0 && !(h->mtls_cert = PEM_read_bio_X509(in, NULL, NULL, NULL)))
                ret = vm_error(-EBADMSG, "no mTLS certificate (PEM) after the mTLS key");
        if (ret >= 0 && X509_check_private_key(h->mtls_cert, h->mtls_key) != 1)
                ret = vm_error(-EBADMSG, "the mTLS key does not match the mTLS certificate");
        /* anything but a final newline after the certificate: not what `unlock` writes */
        while (ret >= 0 && (n = BIO_read(in, rest, 1)) > 0)
                if (rest[0] != '\n')
                        ret = vm_error(-EBADMSG, "unexpected bytes after the mTLS certificate");
        if (ret < 0)
                handover_free(h);
        return ret;
}

int handover_take(const char *path, struct handover *h) {
        _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        _cleanup_(secret_freep) struct secret *data = NULL;
        uid_t euid = geteuid();
        struct stat st;
        ssize_t n;
        int ret;

        memset(h, 0, sizeof(*h));
        if (fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (fd < 0 && errno == EACCES) {
                /* another user's file (or directory): useless to this agent, and removed when it can */
                char whose[48] = "in a directory this agent cannot enter";
                bool removed;

                if (lstat(path, &st) == 0)
                        snprintf(whose, sizeof(whose), "owned by uid %u", (unsigned)st.st_uid);
                removed = unlink(path) == 0;
                return vm_error(-EACCES, "hand-over %s: cannot open: Permission denied (%s; this agent runs as uid %u, "
                                "which unlock's handover_user must name)%s",
                                path, whose, (unsigned)euid, removed ? ": removed" : "");
        }
        if (fd < 0)
                return vm_error(-errno, "hand-over %s: cannot open: %m", path);
        /* whatever follows, the keys must not stay behind in /run */
        if (unlink(path) < 0)
                return vm_error(-errno, "hand-over %s: cannot remove: %m (its directory must be writable by uid %u, "
                                "handover_user)", path, (unsigned)euid);
        if (fstat(fd, &st) < 0)
                return vm_error(-errno, "hand-over %s: %m", path);
        /* only unlock (root) can have given this user a file; anyone else's is not unlock's */
        if (!S_ISREG(st.st_mode))
                return vm_error(-EPERM, "hand-over %s: not a regular file of ours with mode 0600: ignored and removed",
                                path);
        if (st.st_uid != euid)
                return vm_error(-EPERM,
                                "hand-over %s: not a regular file of ours with mode 0600 (owned by uid %u; this agent runs "
                                "as uid %u, which unlock's handover_user must name): ignored and removed",
                                path, (unsigned)st.st_uid, (unsigned)euid);
        if (st.st_mode & 077)
                return vm_error(-EPERM, "hand-over %s: not a regular file of ours with mode 0600 (mode %04o): ignored and removed",
                                path, (unsigned)(st.st_mode & 07777));
        if (st.st_size > HANDOVER_MAX)
                return vm_error(-EFBIG, "hand-over %s: longer than %d bytes", path, HANDOVER_MAX);
        data = secret_new((size_t)st.st_size + 1); /* one byte more: a file that grew is seen */
        if (!data)
                return -ENOMEM;
        n = read(fd, data->data, data->size);
        if (n < 0)
                ret = vm_error(-errno, "hand-over %s: cannot read: %m", path);
        else if (n != st.st_size)
                ret = vm_error(-EIO, "hand-over %s: changed while read", path);
        else
                ret = handover_parse(data->data, (size_t)n, h);
        if (ret < 0 && ret != -EIO && ret != -ENOMEM)
                return vm_error(ret, "hand-over %s: %s", path, vm_error_detail(ret));
        return ret;
}

void handover_free(struct handover *h) {
        EVP_PKEY_free(h->payload_key);
        EVP_PKEY_free(h->mtls_key);
        X509_free(h->mtls_cert);
        memset(h, 0, sizeof(*h));
}
