#include "agent/handover.h"

#include <fcntl.h>
#include <libgen.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/state.h"
#include "agent/tpm.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/secret.h"

#define HANDOVER_MAGIC "vmattest-handover 1"
#define HANDOVER_LINE_MAX 128
#define PAYLOAD_KEY_BITS 2048

DEFINE_POINTER_CLEANUP(BIO, BIO_free)

int handover_write(const char *path, const struct handover *h) {
        /* the secure-heap BIO: the private keys' PEM never sits in ordinary, swappable memory */
        _cleanup_(BIO_freep) BIO *mem = BIO_new(BIO_s_secmem());
        char dir[4096];
        char *data;
        long size;

        if (!mem)
                return -ENOMEM;
        if (BIO_printf(mem, "%s\nagent_id %s\nak_handle 0x%08x\n", HANDOVER_MAGIC, h->agent_id, h->ak_handle) <= 0 ||
            !PEM_write_bio_PrivateKey(mem, h->payload_key, NULL, NULL, 0, NULL, NULL) ||
            !PEM_write_bio_PrivateKey(mem, h->mtls_key, NULL, NULL, 0, NULL, NULL) || !PEM_write_bio_X509(mem, h->mtls_cert))
                return vm_error(-ENOMEM, "hand-over %s: cannot encode the identity", path);
        snprintf(dir, sizeof(dir), "%s", path);
        if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST)
                return vm_error(-errno, "hand-over %s: cannot create its directory: %m", path);
        size = BIO_get_mem_data(mem, &data);
        return state_write_file(path, data, (size_t)size, 0600);
}

/* One header line "NAME VALUE" into value (NUL-terminated), exactly NAME. */
static int header_line(BIO *in, const char *name, char *value, size_t size) {
        char line[HANDOVER_LINE_MAX];
        size_t name_len = strlen(name), len;
        int n = BIO_gets(in, line, sizeof(line));

        if (n <= 0 || line[n - 1] != '\n')
                return vm_error(-EBADMSG, "no complete line \"%s\" (at most %d bytes)", name, HANDOVER_LINE_MAX - 1);
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

static int parse_header(BIO *in, struct handover *h) {
        char value[HANDOVER_LINE_MAX];
        int ret = header_line(in, HANDOVER_MAGIC, value, sizeof(value));

        if (ret >= 0 && value[0])
                ret = vm_error(-EBADMSG, "not a vmattest hand-over version 1");
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

int handover_parse(const void *data, size_t size, struct handover *h) {
        _cleanup_(BIO_freep) BIO *in = NULL;
        char rest[2];
        int ret, n;

        memset(h, 0, sizeof(*h));
        if (size > HANDOVER_MAX)
                return vm_error(-EFBIG, "longer than %d bytes", HANDOVER_MAX);
        if (!(in = BIO_new_mem_buf(data, (int)size)))
                return -ENOMEM;
        ret = parse_header(in, h);
        if (ret >= 0 && !(h->payload_key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)))
                ret = vm_error(-EBADMSG, "no payload key (PEM private key) after the header");
        if (ret >= 0 && (!EVP_PKEY_is_a(h->payload_key, "RSA") || EVP_PKEY_get_bits(h->payload_key) != PAYLOAD_KEY_BITS))
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
        struct stat st;
        ssize_t n;
        int ret;

        memset(h, 0, sizeof(*h));
        if (fd < 0)
                return errno == ENOENT ? -ENOENT : vm_error(-errno, "hand-over %s: cannot open: %m", path);
        /* whatever follows, the keys must not stay behind in /run */
        if (unlink(path) < 0)
                return vm_error(-errno, "hand-over %s: cannot remove: %m", path);
        if (fstat(fd, &st) < 0)
                return vm_error(-errno, "hand-over %s: %m", path);
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
                return vm_error(-EPERM, "hand-over %s: not a regular file of ours with mode 0600: ignored and removed",
                                path);
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
