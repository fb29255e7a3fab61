/* handover: the file `unlock` writes for the runtime `serve`, round trip through a real file,
 * the checks on the file itself, and every truncation and mutation of a valid one; given to an
 * unprivileged `serve` (handover_user), taken over by it in a child running as nobody. Runs as
 * root. */
#include "tests/unit/unit.h"

#include <grp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/handover.h"

struct fixture {
        char dir[64];
        char path[128];
        struct handover h; /* keys made for the test */
};

static X509 *self_signed(EVP_PKEY *key) {
        X509 *cert = X509_new();

        assert_non_null(cert);
        X509_NAME_add_entry_by_NID(X509_get_subject_name(cert), NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)"unit-agent", -1, -1, 0);
        X509_set_issuer_name(cert, X509_get_subject_name(cert));
        X509_gmtime_adj(X509_getm_notBefore(cert), 0);
        X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
        X509_set_pubkey(cert, key);
        assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
        return cert;
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        strcpy(f->dir, "/tmp/vmattest-handover-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/run/handover", f->dir);
        strcpy(f->h.agent_id, "unit-agent");
        f->h.ak_handle = 0x81010002;
        f->h.payload_key = EVP_RSA_gen(2048);
        f->h.mtls_key = EVP_EC_gen("P-256");
        assert_non_null(f->h.payload_key);
        assert_non_null(f->h.mtls_key);
        f->h.mtls_cert = self_signed(f->h.mtls_key);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        char cmd[128];

        handover_free(&f->h);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static void round_trip(void **state) {
        struct fixture *f = *state;
        struct handover got;
        struct stat st;

        assert_int_equal(handover_write(f->path, &f->h, 0), 0);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(handover_take(f->path, &got), 0);
        assert_int_equal(access(f->path, F_OK), -1); /* taken: removed */
        assert_string_equal(got.agent_id, "unit-agent");
        assert_int_equal(got.ak_handle, 0x81010002);
        assert_int_equal(EVP_PKEY_eq(got.payload_key, f->h.payload_key), 1);
        assert_int_equal(EVP_PKEY_eq(got.mtls_key, f->h.mtls_key), 1);
        assert_int_equal(X509_cmp(got.mtls_cert, f->h.mtls_cert), 0);
        handover_free(&got);
        assert_int_equal(handover_take(f->path, &got), -ENOENT);
}

static void not_ours(void **state) {
        struct fixture *f = *state;
        struct handover got;

        assert_int_equal(handover_write(f->path, &f->h, 0), 0);
        assert_int_equal(chmod(f->path, 0640), 0);
        assert_error(handover_take(f->path, &got), -EPERM, "mode 0600");
        assert_int_equal(access(f->path, F_OK), -1); /* refused, and still removed */
        assert_null(got.payload_key);
        assert_int_equal(handover_write(f->path, &f->h, 0), 0);
        unlink(f->path);
        assert_int_equal(symlink("/etc/hostname", f->path), 0);
        assert_error(handover_take(f->path, &got), -ELOOP, "cannot open");
        unlink(f->path);
}

/* The file's bytes, as written. */
static char *written(struct fixture *f, size_t *size) {
        char *data;

        assert_int_equal(handover_write(f->path, &f->h, 0), 0);
        data = (char *)read_vector(f->path, size);
        unlink(f->path);
        return data;
}

static void every_truncation_refused(void **state) {
        struct fixture *f = *state;
        struct handover got;
        size_t size;
        char *data = written(f, &size);

        assert_int_equal(handover_parse(data, size, &got), 0);
        handover_free(&got);
        /* the last byte is the certificate's final newline: without it the file still parses */
        for (size_t cut = 0; cut + 1 < size; cut++) {
                if (handover_parse(data, cut, &got) == 0)
                        fail_msg("a hand-over cut at %zu of %zu bytes parsed", cut, size);
                assert_null(got.payload_key);
                assert_null(got.mtls_cert);
        }
        free(data);
}

static void hostile_headers(void **state) {
        struct handover got;
        static const char *const bad[][2] = {
                { "vmattest-handover 3\n", "not a vmattest hand-over version 1 or 2" },
                { "vmattest-handover 2\nagent_id x\nak_handle 0x81010002\n", "no complete line \"payload_key_parent\"" },
                { "vmattest-handover 1 x\n", "not a vmattest hand-over version 1" },
                { "vmattest-handover 1\nagent_id a/b\n", "is not an agent id" },
                { "vmattest-handover 1\nagentid x\n", "expected the line \"agent_id\"" },
                { "vmattest-handover 1\nagent_id x\nak_handle 0x01000000\n", "not a persistent handle" },
                { "vmattest-handover 1\nagent_id x\nak_handle 81010002\n", "not a persistent handle" },
                { "vmattest-handover 1\nagent_id x\nak_handle 0x81010002zz\n", "not a persistent handle" },
                { "vmattest-handover 1\nagent_id x\nak_handle 0x81010002\n", "no payload key" },
                { "vmattest-handover 1\nagent_id xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
                  "no complete line" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_error(handover_parse(bad[i][0], strlen(bad[i][0]), &got), -EBADMSG, bad[i][1]);
        assert_error(handover_parse("vmattest-handover 1\0\n", 21, &got), -EBADMSG, "NUL byte");
        assert_error(handover_parse("x", HANDOVER_MAX + 1, &got), -EFBIG, "longer than");
}

static void wrong_keys_refused(void **state) {
        struct fixture *f = *state;
        struct handover got, other = f->h;
        EVP_PKEY *small = EVP_RSA_gen(1024), *stranger = EVP_EC_gen("P-256");
        size_t size;
        char *data;

        /* a payload key that is not RSA-2048 */
        other.payload_key = small;
        assert_int_equal(handover_write(f->path, &other, 0), 0);
        assert_error(handover_take(f->path, &got), -EBADMSG, "not RSA-2048");
        /* an mTLS key that does not match the certificate */
        other = f->h;
        other.mtls_key = stranger;
        assert_int_equal(handover_write(f->path, &other, 0), 0);
        assert_error(handover_take(f->path, &got), -EBADMSG, "does not match");
        /* trailing bytes */
        data = written(f, &size);
        data = realloc(data, size + 4);
        memcpy(data + size, "junk", 4);
        assert_error(handover_parse(data, size + 4, &got), -EBADMSG, "unexpected bytes");
        free(data);
        EVP_PKEY_free(small);
        EVP_PKEY_free(stranger);
}

/* Version 2 (payload_key = tpm): the TPM key's blobs, here made up, round trip; the file holds
 * one private key, the mTLS key; a public area that is not a TPM payload key is refused. */
static void tpm_key_round_trip(void **state) {
        struct fixture *f = *state;
        struct handover got, h = f->h;
        size_t size;
        char *data;

        h.payload_key = NULL;
        h.payload_in_tpm = true;
        h.payload_parent.publicArea = (TPMT_PUBLIC){
                .type = TPM2_ALG_ECC,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT,
                .parameters.eccDetail = { .symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128,
                                                         .mode.aes = TPM2_ALG_CFB },
                                          .scheme.scheme = TPM2_ALG_NULL, .curveID = TPM2_ECC_NIST_P256,
                                          .kdf.scheme = TPM2_ALG_NULL },
        };
        h.payload_public.publicArea = (TPMT_PUBLIC){
                .type = TPM2_ALG_RSA,
                .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_DECRYPT,
                .parameters.rsaDetail = { .symmetric.algorithm = TPM2_ALG_NULL, .scheme.scheme = TPM2_ALG_NULL,
                                          .keyBits = 2048 },
                .unique.rsa.size = 256,
        };
        memset(h.payload_public.publicArea.unique.rsa.buffer, 0xa5, 256);
        h.payload_private.size = 222;
        memset(h.payload_private.buffer, 0x5a, 222);
        assert_int_equal(handover_write(f->path, &h, 0), 0);
        data = (char *)read_vector(f->path, &size);
        assert_int_equal(strncmp(data, "vmattest-handover 2\n", 20), 0);
        /* one private key, the mTLS key's */
        assert_non_null(strstr(data, "BEGIN PRIVATE KEY"));
        assert_null(strstr(strstr(data, "BEGIN PRIVATE KEY") + 1, "BEGIN PRIVATE KEY"));
        assert_null(strstr(data, "RSA PRIVATE KEY"));
        free(data);
        assert_int_equal(handover_take(f->path, &got), 0);
        assert_true(got.payload_in_tpm);
        assert_null(got.payload_key);
        assert_memory_equal(&got.payload_parent.publicArea, &h.payload_parent.publicArea, sizeof(TPMT_PUBLIC));
        assert_memory_equal(&got.payload_public.publicArea, &h.payload_public.publicArea, sizeof(TPMT_PUBLIC));
        assert_int_equal(got.payload_private.size, 222);
        assert_memory_equal(got.payload_private.buffer, h.payload_private.buffer, 222);
        assert_int_equal(EVP_PKEY_eq(got.mtls_key, f->h.mtls_key), 1);
        handover_free(&got);
        /* a key that may leave its TPM, or sign */
        h.payload_public.publicArea.objectAttributes &= ~TPMA_OBJECT_FIXEDTPM;
        assert_int_equal(handover_write(f->path, &h, 0), 0);
        assert_error(handover_take(f->path, &got), -EBADMSG, "payload_key_public is not a TPM payload key");
        assert_false(got.payload_in_tpm);
}

#define NOBODY 65534

/* handover_take in a child running as uid/gid NOBODY, as an unprivileged `serve`: its result,
 * and whether it took the identity (agent id and payload key); the detail on stderr. */
static int take_as_nobody(const struct fixture *f, bool *took) {
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                struct handover got;
                int ret;

                if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
                        _exit(100);
                ret = handover_take(f->path, &got);
                if (ret < 0)
                        fprintf(stderr, "# as nobody: %s\n", vm_error_detail(ret));
                if (ret == 0 && strcmp(got.agent_id, "unit-agent") == 0 && EVP_PKEY_eq(got.payload_key, f->h.payload_key) == 1)
                        ret = 1;
                handover_free(&got);
                _exit(ret == 1 ? 0 : ret == -ENOENT ? 2 : ret == -EPERM ? 3 : ret == -EACCES ? 4 : 5);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        *took = WEXITSTATUS(status) == 0;
        return WEXITSTATUS(status);
}

static void given_to_serve_user(void **state) {
        struct fixture *f = *state;
        struct handover got;
        struct stat st;
        char dir[128];
        bool took;

        assert_int_equal(chmod(f->dir, 0711), 0); /* nobody may pass through the test's directory */
        snprintf(dir, sizeof(dir), "%s/run", f->dir);
        /* without handover_user: root's file in root's 0700 directory, out of nobody's reach */
        assert_int_equal(handover_write(f->path, &f->h, 0), 0);
        assert_int_equal(take_as_nobody(f, &took), 4); /* EACCES */
        assert_int_equal(access(f->path, F_OK), 0);
        assert_int_equal(unlink(f->path), 0);
        assert_int_equal(rmdir(dir), 0);
        /* handover_user nobody: the directory and the file are nobody's, 0700 and 0600 */
        assert_int_equal(handover_write(f->path, &f->h, NOBODY), 0);
        assert_int_equal(lstat(dir, &st), 0);
        assert_int_equal(st.st_uid, NOBODY);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(lstat(f->path, &st), 0);
        assert_int_equal(st.st_uid, NOBODY);
        assert_int_equal(st.st_mode & 07777, 0600);
        /* root (a serve that runs as another user than handover_user) refuses it, and removes it */
        assert_error(handover_take(f->path, &got), -EPERM, "owned by uid 65534; this agent runs as uid 0");
        assert_int_equal(access(f->path, F_OK), -1);
        /* nobody takes it over and removes it */
        assert_int_equal(handover_write(f->path, &f->h, NOBODY), 0);
        assert_int_equal(take_as_nobody(f, &took), 0);
        assert_true(took);
        assert_int_equal(access(f->path, F_OK), -1);
        /* a file of root's in nobody's directory is not unlock's for nobody: refused and removed */
        assert_int_equal(handover_write(f->path, &f->h, NOBODY), 0);
        assert_int_equal(chown(f->path, 0, 0), 0);
        assert_int_equal(take_as_nobody(f, &took), 4); /* EACCES: it cannot even read it */
        assert_false(took);
        assert_int_equal(access(f->path, F_OK), -1);
}

static void directory_not_given_away(void **state) {
        struct fixture *f = *state;
        char dir[128];

        /* an existing directory of root's is not handed to handover_user */
        snprintf(dir, sizeof(dir), "%s/run", f->dir);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_error(handover_prepare(f->path, NOBODY), -EPERM, "not a directory of handover_user's (uid 65534)");
        assert_error(handover_write(f->path, &f->h, NOBODY), -EPERM, "give the hand-over a directory of its own");
        assert_int_equal(access(f->path, F_OK), -1);
        /* nor one of nobody's that others may write to */
        assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
        assert_int_equal(chmod(dir, 0777), 0);
        assert_error(handover_prepare(f->path, NOBODY), -EPERM, "that only it may write to");
        assert_int_equal(chmod(dir, 0700), 0);
        assert_int_equal(handover_prepare(f->path, NOBODY), 0);
        /* nor a symlink to one */
        assert_int_equal(rename(dir, "/tmp/vmattest-handover-elsewhere") == 0 ? 0 : -1, 0);
        assert_int_equal(symlink("/tmp/vmattest-handover-elsewhere", dir), 0);
        assert_error(handover_prepare(f->path, NOBODY), -EPERM, "not a directory");
        assert_int_equal(rmdir("/tmp/vmattest-handover-elsewhere"), 0);
        /* root's hand-over keeps any directory, as it always did */
        assert_int_equal(handover_prepare(f->path, 0), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(not_ours, setup, teardown),
                cmocka_unit_test_setup_teardown(every_truncation_refused, setup, teardown),
                cmocka_unit_test(hostile_headers),
                cmocka_unit_test_setup_teardown(wrong_keys_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(tpm_key_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(given_to_serve_user, setup, teardown),
                cmocka_unit_test_setup_teardown(directory_not_given_away, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
