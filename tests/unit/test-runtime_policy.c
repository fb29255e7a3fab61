/* lib/runtime_policy.c: Keylime's runtime policy (docs/protocol.md §7), loaded from JSON text and
 * applied to parsed IMA entries: digests by path, excludes, ima-buf, keyrings, boot_aggregate, and
 * the refusal of every malformed policy with a detail naming the member. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <time.h>

#include "lib/imalog.h"
#include "lib/runtime_policy.h"

#define TEMPLATE_HASH "1111111111111111111111111111111111111111" /* policy checks do not read it */
#define ZERO_HASH "0000000000000000000000000000000000000000"
#define BASH_SHA256 "a6b1a4c3d0e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f"
#define BASH_OLD "b6b1a4c3d0e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f"
#define LIBC_SHA1 "0123456789abcdef0123456789abcdef01234567"
#define OTHER_SHA256 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

/* Shaped like what keylime-policy create runtime writes, one member of each kind. */
static const char keylime_policy[] =
        "{\n"
        "  \"meta\": {\"version\": 1, \"generator\": 3, \"timestamp\": \"2025-01-01 00:00:00.000000\"},\n"
        "  \"release\": 0,\n"
        "  \"digests\": {\n"
        "    \"/usr/bin/bash\": [\"" BASH_OLD "\", \"" BASH_SHA256 "\"],\n"
        "    \"/usr/lib/x86_64-linux-gnu/libc.so.6\": [\"" LIBC_SHA1 "\"],\n"
        "    \"/usr/bin/UPPER\": [\"A6B1A4C3D0E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F\"],\n"
        "    \"/usr/bin/nothing\": [],\n"
        "    \"boot_aggregate\": [\"" OTHER_SHA256 "\"]\n"
        "  },\n"
        "  \"excludes\": [\"/tmp/\", \"/var/log/.*\\\\.journal$\", \"[a-z]+\\\\.pyc$\"],\n"
        "  \"keyrings\": {\".ima\": [\"" OTHER_SHA256 "\"]},\n"
        "  \"ima\": {\"ignored_keyrings\": [\".builtin_trusted_keys\"], \"log_hash_alg\": \"sha1\", \"dm_policy\": null},\n"
        "  \"ima-buf\": {\"kernel_version\": [\"" BASH_SHA256 "\"]},\n"
        "  \"verification-keys\": \"\"\n"
        "}\n";

struct fixture {
        struct runtime_policy *policy;
        char line[4 * IMA_DATA_MAX];
        struct ima_entry entry;
        struct runtime_policy_refusal refusal;
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        assert_int_equal(runtime_policy_parse(keylime_policy, strlen(keylime_policy), &f->policy), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        runtime_policy_free(f->policy);
        free(f);
        return 0;
}

/* Parses `line` into f->entry (the entry points into f->line). */
static struct ima_entry *entry_of(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static struct ima_entry *entry_of(struct fixture *f, const char *fmt, ...) {
        va_list ap;
        int len;

        va_start(ap, fmt);
        len = vsnprintf(f->line, sizeof(f->line), fmt, ap);
        va_end(ap);
        assert_true(len > 0 && (size_t)len < sizeof(f->line));
        assert_int_equal(ima_entry_parse(f->line, (size_t)len, &f->entry), 0);
        return &f->entry;
}

static int check(struct fixture *f, const uint8_t *boot_aggregate) {
        return runtime_policy_check(f->policy, &f->entry, boot_aggregate, &f->refusal);
}

static void to_hex(const uint8_t *data, size_t size, char *out) {
        for (size_t i = 0; i < size; i++)
                sprintf(out + 2 * i, "%02x", data[i]);
        out[2 * size] = '\0';
}

/* ---- checks ---- */

static void test_allowed(void **state) {
        struct fixture *f = *state;

        /* either listed digest */
        entry_of(f, "10 " TEMPLATE_HASH " ima-sig sha256:" BASH_SHA256 " /usr/bin/bash ");
        assert_int_equal(check(f, NULL), 0);
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" BASH_OLD " /usr/bin/bash");
        assert_int_equal(check(f, NULL), 0);
        /* sha1 digests are listed as 40 hex digits */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha1:" LIBC_SHA1 " /usr/lib/x86_64-linux-gnu/libc.so.6");
        assert_int_equal(check(f, NULL), 0);
        /* the policy's upper-case hex is the same digest */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" BASH_SHA256 " /usr/bin/UPPER");
        assert_int_equal(check(f, NULL), 0);
        /* a signature does not matter: the digest does */
        entry_of(f, "10 " TEMPLATE_HASH " ima-sig sha256:" BASH_SHA256 " /usr/bin/bash 030204aabbccdd");
        assert_int_equal(check(f, NULL), 0);
}

static void test_wrong_digest(void **state) {
        struct fixture *f = *state;

        entry_of(f, "10 " TEMPLATE_HASH " ima-sig sha256:" OTHER_SHA256 " /usr/bin/bash ");
        assert_error(check(f, NULL), -EPERM,
                     "\"/usr/bin/bash\" sha256:" OTHER_SHA256 ": digest not allowed (digests allows " BASH_OLD
                     ", " BASH_SHA256 ")");
        assert_string_equal(f->refusal.reason, "digest not allowed");
        assert_string_equal(f->refusal.allowed, BASH_OLD ", " BASH_SHA256);
        /* an empty list allows nothing */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" BASH_SHA256 " /usr/bin/nothing");
        assert_error(check(f, NULL), -EPERM, "digest not allowed (digests allows no digest)");
}

/* Digests match by length and value: a sha1 digest never matches a sha256 one that starts with
 * the same bytes. */
static void test_digest_length(void **state) {
        struct fixture *f = *state;

        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha1:%.40s /usr/bin/bash", BASH_SHA256);
        assert_error(check(f, NULL), -EPERM, "\"/usr/bin/bash\" sha1:a6b1a4c3d0e5f60718293a4b5c6d7e8f90a1b2c3: digest not allowed");
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" LIBC_SHA1 "012345678901234567890123 "
                    "/usr/lib/x86_64-linux-gnu/libc.so.6");
        assert_error(check(f, NULL), -EPERM, "digest not allowed");
        /* sm3 has the size of sha256: the policy does not say which algorithm it meant */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sm3:" BASH_SHA256 " /usr/bin/bash");
        assert_int_equal(check(f, NULL), 0);
}

static void test_not_in_policy(void **state) {
        struct fixture *f = *state;

        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" BASH_SHA256 " /usr/local/bin/dropper");
        assert_error(check(f, NULL), -EPERM,
                     "\"/usr/local/bin/dropper\" sha256:" BASH_SHA256 ": not in the runtime policy's digests");
        assert_string_equal(f->refusal.allowed, "");
        /* a prefix or an extension of a listed path is another path */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" BASH_SHA256 " /usr/bin/bas");
        assert_error(check(f, NULL), -EPERM, "not in the runtime policy's digests");
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" BASH_SHA256 " /usr/bin/bash2");
        assert_error(check(f, NULL), -EPERM, "not in the runtime policy's digests");
}

/* Excludes are anchored at the start of the path, as Python's re.match is in Keylime. */
static void test_excludes(void **state) {
        struct fixture *f = *state;

        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " /tmp/build/a.out");
        assert_int_equal(check(f, NULL), 0);
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " /var/log/journal/abc/system.journal");
        assert_int_equal(check(f, NULL), 0);
        /* "/tmp/" does not match in the middle of a path */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " /home/u/tmp/a.out");
        assert_error(check(f, NULL), -EPERM, "\"/home/u/tmp/a.out\"");
        /* "[a-z]+\.pyc$" matches from the start only: not "/usr/lib/x.pyc" */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " /usr/lib/x.pyc");
        assert_error(check(f, NULL), -EPERM, "not in the runtime policy's digests");
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " abc.pyc");
        assert_int_equal(check(f, NULL), 0);
        /* an excluded listed path passes with any digest */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " /tmp/");
        assert_int_equal(check(f, NULL), 0);
}

/* Excludes are Python regexes (Keylime's re.match), read as Python reads them: POSIX regcomp
 * read "\d" as "d" (so "[^\d]" refused "d" and let digits through) and had no "(?i)". */
static void test_excludes_in_python_syntax(void **state) {
        static const char policy_text[] =
                "{\"meta\":{\"version\":1},\"digests\":{},"
                "\"excludes\":[\"/proc/\\\\d+/\",\"(?i)/TMP/\",\"/var/cache/[^\\\\d]\",\"/run/\\\\w+\\\\.pid$\"]}";
        static const struct {
                const char *path;
                bool excluded; /* Python: re.match(exclude, path) for one of the excludes */
        } paths[] = {
                { "/proc/42/maps", true },     { "/proc/self/maps", false }, { "/tmp/a.out", true },
                { "/Tmp/A.OUT", true },        { "/var/cache/a", true },     { "/var/cache/5", false },
                { "/run/sshd.pid", true },     { "/run/ssh-d.pid", false },  { "/run/d\xc3\xa9mon.pid", true },
        };
        struct fixture *f = *state;

        runtime_policy_free(f->policy);
        assert_int_equal(runtime_policy_parse(policy_text, strlen(policy_text), &f->policy), 0);
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                int ret;

                entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " %s", paths[i].path);
                vm_error_clear();
                ret = check(f, NULL);
                if (paths[i].excluded ? ret != 0 : ret != -EPERM)
                        fail_msg("%s: %d (%s), Python %s", paths[i].path, ret, vm_error_detail(ret),
                                 paths[i].excluded ? "excludes it" : "does not");
        }
}

/* A regex that backtracks catastrophically on the path an agent sent gives up within its
 * bounds: nothing is excluded, the path must be listed, and the refusal says why. */
static void test_exclude_backtracking_bounded(void **state) {
        static const char policy_text[] = "{\"meta\":{\"version\":1},\"digests\":{},\"excludes\":[\"/x/(a+)+$\"]}";
        char path[IMA_PATH_MAX - 64];
        struct fixture *f = *state;
        struct timespec start, end;

        runtime_policy_free(f->policy);
        assert_int_equal(runtime_policy_parse(policy_text, strlen(policy_text), &f->policy), 0);
        memcpy(path, "/x/", 3);
        memset(path + 3, 'a', sizeof(path) - 5);
        path[sizeof(path) - 2] = 'b';
        path[sizeof(path) - 1] = '\0';
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " %s", path);
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_error(check(f, NULL), -EPERM, "an exclude regex gave up on the name");
        clock_gettime(CLOCK_MONOTONIC, &end);
        assert_true((double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9 < 0.5);
        /* the same regex on a path it matches */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " /x/aaaa");
        assert_int_equal(check(f, NULL), 0);
}

/* A violation's line is bound to nothing (the kernel extends PCR 10 with 0xff for it): one
 * rewritten to a listed path and digest, an excluded path, an allowed ima-buf event, an ignored
 * keyring or boot_aggregate's digest is refused like any other, without its claimed path in
 * the detail; the verifier's switch alone lets violations pass. */
static void test_violation(void **state) {
        struct fixture *f = *state;
        uint8_t aggregate[32];
        char lines[6][1024];

        memset(aggregate, 0x42, sizeof(aggregate));
        snprintf(lines[0], sizeof(lines[0]), "10 " ZERO_HASH " ima-sig sha256:%064d /var/log/journal/x/user.journal ", 0);
        snprintf(lines[1], sizeof(lines[1]), "10 " ZERO_HASH " ima-sig sha256:" BASH_SHA256 " /usr/bin/bash ");
        snprintf(lines[2], sizeof(lines[2]), "10 " ZERO_HASH " ima-ng sha256:" OTHER_SHA256 " /tmp/x");
        snprintf(lines[3], sizeof(lines[3]), "10 " ZERO_HASH " ima-buf sha256:" BASH_SHA256 " kernel_version 352e31");
        snprintf(lines[4], sizeof(lines[4]), "10 " ZERO_HASH " ima-ng sha256:%s boot_aggregate",
                 "4242424242424242424242424242424242424242424242424242424242424242");
        snprintf(lines[5], sizeof(lines[5]), "10 " ZERO_HASH " ima-sig sha256:%064d /etc/shadow ", 0);
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                char name[256];

                entry_of(f, "%s", lines[i]);
                snprintf(name, sizeof(name), "%.*s", (int)f->entry.name_len, f->entry.name);
                assert_true(f->entry.violation);
                assert_error(check(f, aggregate), -EPERM, "a violation (a file measured while open for write");
                assert_detail_contains(-EPERM, "its path and digest are unsigned text the quote does not cover");
                assert_detail_contains(-EPERM, "ima_violations = allow");
                assert_null(strstr(vm_error_detail(-EPERM), name));
                assert_string_equal(f->refusal.reason, "a violation");
                assert_string_equal(f->refusal.allowed, "");
        }
        /* a listed, non-violation entry of the same text still passes */
        entry_of(f, "10 " TEMPLATE_HASH " ima-sig sha256:" BASH_SHA256 " /usr/bin/bash ");
        assert_int_equal(check(f, NULL), 0);

        runtime_policy_allow_violations(f->policy, true);
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                entry_of(f, "%s", lines[i]);
                assert_int_equal(check(f, aggregate), 0);
        }
        /* the switch is about violations only */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " /etc/shadow");
        assert_error(check(f, NULL), -EPERM, "not in the runtime policy's digests");
        runtime_policy_allow_violations(f->policy, false);
        entry_of(f, "%s", lines[1]);
        assert_error(check(f, NULL), -EPERM, "a violation");
}

static void test_ima_buf(void **state) {
        struct fixture *f = *state;

        entry_of(f, "10 " TEMPLATE_HASH " ima-buf sha256:" BASH_SHA256 " kernel_version 352e31302e30");
        assert_int_equal(check(f, NULL), 0);
        entry_of(f, "10 " TEMPLATE_HASH " ima-buf sha256:" OTHER_SHA256 " kernel_version 352e31302e31");
        assert_error(check(f, NULL), -EPERM,
                     "\"kernel_version\" sha256:" OTHER_SHA256 ": digest not allowed (ima-buf allows " BASH_SHA256 ")");
        entry_of(f, "10 " TEMPLATE_HASH " ima-buf sha256:" BASH_SHA256 " kexec-cmdline 726f6f743d2f6465762f736461");
        assert_error(check(f, NULL), -EPERM, "\"kexec-cmdline\" sha256:" BASH_SHA256 ": not in the runtime policy's ima-buf");
        /* a path's digests do not allow a buffer of the same name */
        entry_of(f, "10 " TEMPLATE_HASH " ima-buf sha256:" BASH_SHA256 " /usr/bin/bash 00");
        assert_error(check(f, NULL), -EPERM, "not in the runtime policy's ima-buf");
        /* excludes apply to buffer names too */
        entry_of(f, "10 " TEMPLATE_HASH " ima-buf sha256:" BASH_SHA256 " /tmp/x 00");
        assert_int_equal(check(f, NULL), 0);
}

/* DER SubjectPublicKeyInfo of a fresh P-256 key, or a self-signed X.509 certificate of it. */
static size_t make_key_der(bool certificate, uint8_t *out, size_t cap) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        unsigned char *p = out;
        int len;

        assert_non_null(key);
        if (certificate) {
                X509 *cert = X509_new();

                assert_non_null(cert);
                assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
                assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(cert), 1), 1);
                assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), 0));
                assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), 3600));
                assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                                                            (const unsigned char *)"ima key", -1, -1, 0),
                                 1);
                assert_int_equal(X509_set_issuer_name(cert, X509_get_subject_name(cert)), 1);
                assert_int_equal(X509_set_pubkey(cert, key), 1);
                assert_true(X509_sign(cert, key, EVP_sha256()) > 0);
                assert_true(i2d_X509(cert, NULL) <= (int)cap);
                len = i2d_X509(cert, &p);
                X509_free(cert);
        } else {
                assert_true(i2d_PUBKEY(key, NULL) <= (int)cap);
                len = i2d_PUBKEY(key, &p);
        }
        EVP_PKEY_free(key);
        assert_true(len > 0);
        return (size_t)len;
}

static struct ima_entry *key_entry(struct fixture *f, const char *keyring, bool certificate, char *digest_hex) {
        uint8_t der[2048], digest[32];
        char der_hex[2 * sizeof(der) + 1];
        size_t size = make_key_der(certificate, der, sizeof(der));

        assert_int_equal(EVP_Digest(der, size, digest, NULL, EVP_sha256(), NULL), 1);
        to_hex(digest, 32, digest_hex);
        to_hex(der, size, der_hex);
        return entry_of(f, "10 " TEMPLATE_HASH " ima-buf sha256:%s %s %s", digest_hex, keyring, der_hex);
}

static void test_keyrings(void **state) {
        struct fixture *f = *state;
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = NULL;
        char digest_hex[65], text[1024];
        int len;

        /* a key on .ima: its digest must be listed under keyrings */
        key_entry(f, ".ima", false, digest_hex);
        assert_error(check(f, NULL), -EPERM, "\".ima\" sha256:");
        assert_detail_contains(-EPERM, "digest not allowed (keyrings allows " OTHER_SHA256 ")");
        /* on a keyring the policy does not name */
        key_entry(f, ".evm", true, digest_hex);
        assert_error(check(f, NULL), -EPERM, "a key on a keyring not in the runtime policy's keyrings");
        /* on an ignored keyring, anything goes */
        key_entry(f, ".builtin_trusted_keys", true, digest_hex);
        assert_int_equal(check(f, NULL), 0);
        /* not a key, though on an ignored keyring's name: an ordinary ima-buf entry */
        entry_of(f, "10 " TEMPLATE_HASH " ima-buf sha256:" BASH_SHA256 " .builtin_trusted_keys 3082");
        assert_error(check(f, NULL), -EPERM, "not in the runtime policy's ima-buf");

        /* listed, and "*" ignoring every keyring */
        key_entry(f, ".ima", true, digest_hex);
        len = snprintf(text, sizeof(text),
                       "{\"meta\":{\"version\":1},\"digests\":{},\"keyrings\":{\".ima\":[\"%s\"]}}", digest_hex);
        assert_int_equal(runtime_policy_parse(text, (size_t)len, &policy), 0);
        assert_int_equal(runtime_policy_check(policy, &f->entry, NULL, &f->refusal), 0);
        runtime_policy_free(TAKE_PTR(policy));
        len = snprintf(text, sizeof(text), "{\"meta\":{\"version\":1},\"digests\":{},\"ima\":{\"ignored_keyrings\":[\"*\"]}}");
        assert_int_equal(runtime_policy_parse(text, (size_t)len, &policy), 0);
        key_entry(f, ".anything", false, digest_hex);
        assert_int_equal(runtime_policy_check(policy, &f->entry, NULL, &f->refusal), 0);
}

static void test_boot_aggregate(void **state) {
        struct fixture *f = *state;
        uint8_t aggregate[32];

        memset(aggregate, 0x42, sizeof(aggregate));
        /* with the quoted PCRs' aggregate, only that digest passes, whatever the policy lists */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " boot_aggregate");
        assert_error(check(f, aggregate), -EPERM,
                     "\"boot_aggregate\" sha256:" OTHER_SHA256 ": not the SHA-256 of the quoted PCRs 0-9 (the quote "
                     "allows 4242424242");
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:%s boot_aggregate",
                 "4242424242424242424242424242424242424242424242424242424242424242");
        assert_int_equal(check(f, aggregate), 0);
        /* a SHA-1 aggregate (a kernel without the SHA-256 bank) is not the SHA-256 one */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha1:%s boot_aggregate", "4242424242424242424242424242424242424242");
        assert_error(check(f, aggregate), -EPERM, "not the SHA-256 of the quoted PCRs 0-9");
        /* without the quoted PCRs, the policy's list decides */
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" OTHER_SHA256 " boot_aggregate");
        assert_int_equal(check(f, NULL), 0);
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:" BASH_SHA256 " boot_aggregate");
        assert_error(check(f, NULL), -EPERM, "digest not allowed");
}

/* ---- loading ---- */

static void test_keylime_policy_members(void **state) {
        struct fixture *f = *state;

        assert_int_equal(runtime_policy_log_hash_alg(f->policy), TPM2_ALG_SHA1);
}

static void test_minimal_and_null_members(void **state) {
        static const char *const valid[] = {
                "{\"meta\":{\"version\":1},\"digests\":{}}",
                ("{\"meta\":{\"version\":1,\"generator\":null},\"digests\":{},\"excludes\":null,\"keyrings\":null,"
                 "\"ima\":null,\"ima-buf\":null,\"verification-keys\":null,\"release\":null}"),
                "{\"meta\":{\"version\":1},\"digests\":{},\"ima\":{\"log_hash_alg\":\"sha256\"}}",
                "{\"meta\":{\"version\":1},\"digests\":{},\"release\":1.5,\"rules\":\"x\",\"unknown\":[1,2]}",
                "  {\"meta\":{\"version\":1},\"digests\":{\"\":[]}}  \n\t\r\n",
                "{\"meta\":{\"version\":1},\"digests\":{},\"verification-keys\":\"[{\\\"key\\\":1}]\"}",
                "{\"meta\":{\"version\":1},\"digests\":{},\"excludes\":[\"\\\\.so$\",\"a{1,3}\",\"\\\\w+\\\\s\",\"(a|b)\\\\1\"]}",
                /* Python syntax POSIX regcomp lacked, and regexes whose matching is bounded */
                ("{\"meta\":{\"version\":1},\"digests\":{},\"excludes\":[\"/tmp/\\\\d+\",\"a\\\\tb\",\"(?i)/tmp\","
                 "\"(?:/usr)?/lib\",\"((((((((a+)+)+)+)+)+)+)+)\",\"(a{9}){9}\",\"a{256}\"]}"),
        };

        for (size_t i = 0; i < ELEMENTSOF(valid); i++) {
                _cleanup_(runtime_policy_freep) struct runtime_policy *policy = NULL;

                if (runtime_policy_parse(valid[i], strlen(valid[i]), &policy) != 0)
                        fail_msg("policy %zu refused: %s", i, vm_error_detail(-EBADMSG));
        }
}

static void test_log_hash_alg(void **state) {
        static const char text[] = "{\"meta\":{\"version\":1},\"digests\":{},\"ima\":{\"log_hash_alg\":\"sha256\"}}";
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = NULL;

        assert_int_equal(runtime_policy_parse(text, strlen(text), &policy), 0);
        assert_int_equal(runtime_policy_log_hash_alg(policy), TPM2_ALG_SHA256);
}

static void test_bad_policies(void **state) {
#define META "\"meta\":{\"version\":1}"
        static const struct {
                const char *text;
                int code;
                const char *detail;
        } bad[] = {
                { "", -EBADMSG, "runtime policy: not JSON: unexpected end" },
                { "{\"meta\":", -EBADMSG, "not JSON: unexpected end" },
                { "{meta:1}", -EBADMSG, "not JSON" },
                { "[]", -EBADMSG, "the policy is array, not a JSON object" },
                { "\"x\"", -EBADMSG, "the policy is string, not a JSON object" },
                { "null", -EBADMSG, "not JSON: unexpected end at offset 4" },
                { "null ", -EBADMSG, "the policy is null, not a JSON object" },
                { "{" META ",\"digests\":{}} {}", -EBADMSG, "trailing data after the JSON object at offset" },
                { "{" META ",\"digests\":{}}x", -EBADMSG, "trailing data" },
                { "{}", -EBADMSG, "meta is missing" },
                { "{\"meta\":[],\"digests\":{}}", -EBADMSG, "meta is array, not an object" },
                { "{\"meta\":{},\"digests\":{}}", -EBADMSG, "meta.version is missing or not an integer" },
                { "{\"meta\":{\"version\":\"1\"},\"digests\":{}}", -EBADMSG, "meta.version is missing or not an integer" },
                { "{\"meta\":{\"version\":1.0},\"digests\":{}}", -EBADMSG, "meta.version is missing or not an integer" },
                { "{\"meta\":{\"version\":2},\"digests\":{}}", -EBADMSG, "meta.version 2 is not 1" },
                { "{\"meta\":{\"version\":1,\"generator\":\"x\"},\"digests\":{}}", -EBADMSG,
                  "meta.generator is string, not an integer" },
                { "{\"meta\":{\"version\":1,\"timestamp\":5},\"digests\":{}}", -EBADMSG, "meta.timestamp is int" },
                { "{" META ",\"release\":\"0\",\"digests\":{}}", -EBADMSG, "release is string, not a number" },
                { "{" META "}", -EBADMSG, "digests is missing" },
                { "{" META ",\"digests\":null}", -EBADMSG, "digests is missing" },
                { "{" META ",\"digests\":[]}", -EBADMSG, "digests is array, not an object of digest lists" },
                { "{" META ",\"digests\":{\"/a\":\"" BASH_SHA256 "\"}}", -EBADMSG,
                  "digests[\"/a\"] is string, not an array of hex digests" },
                { "{" META ",\"digests\":{\"/a\":[1]}}", -EBADMSG, "digests[\"/a\"][0] is int, not a hex string" },
                { "{" META ",\"digests\":{\"/a\":[\"" BASH_SHA256 "\",null]}}", -EBADMSG,
                  "digests[\"/a\"][1] is null, not a hex string" },
                { "{" META ",\"digests\":{\"/a\":[\"a6b1zz\"]}}", -EBADMSG,
                  "digests[\"/a\"][0]: hex: invalid digit at offset 4" },
                { "{" META ",\"digests\":{\"/a\":[\"a6b\"]}}", -EBADMSG, "digests[\"/a\"][0]: hex: odd length 3" },
                { "{" META ",\"digests\":{\"/a\":[\"\"]}}", -EBADMSG, "digests[\"/a\"][0]: 0 bytes is no digest size" },
                { "{" META ",\"digests\":{\"/a\":[\"00112233445566778899\"]}}", -EBADMSG,
                  "digests[\"/a\"][0]: 10 bytes is no digest size (16, 20, 28, 32, 48 or 64)" },
                { "{" META ",\"digests\":{\"/a\":[\"" BASH_SHA256 BASH_SHA256 "00\"]}}", -EBADMSG,
                  "digests[\"/a\"][0]: 130 hex digits, at most 128" },
                { "{" META ",\"digests\":{},\"keyrings\":{\".ima\":[\"x\"]}}", -EBADMSG, "keyrings[\".ima\"][0]: hex" },
                { "{" META ",\"digests\":{},\"keyrings\":[]}", -EBADMSG, "keyrings is array" },
                { "{" META ",\"digests\":{},\"ima-buf\":{\"k\":[\"" BASH_SHA256 "0\"]}}", -EBADMSG,
                  "ima-buf[\"k\"][0]: hex: odd length 65" },
                { "{" META ",\"digests\":{},\"excludes\":{}}", -EBADMSG, "excludes is object, not an array of regexes" },
                { "{" META ",\"digests\":{},\"excludes\":[\"/tmp\",3]}", -EBADMSG, "excludes[1] is int, not a string" },
                { "{" META ",\"digests\":{},\"excludes\":[\"(\"]}", -EBADMSG, "excludes[0] \"(\": " },
                { "{" META ",\"digests\":{},\"excludes\":[\"a)|(b\"]}", -EBADMSG, "excludes[0] \"a)|(b\": " },
                { "{" META ",\"digests\":{},\"excludes\":[\"[a-\"]}", -EBADMSG, "excludes[0] \"[a-\": " },
                { "{" META ",\"digests\":{},\"excludes\":[\"a\\u0000b\"]}", -EBADMSG, "excludes[0] holds a NUL" },
                /* Python syntax PCRE2 would read another way (lib/python_regex.h) */
                { "{" META ",\"digests\":{},\"excludes\":[\"ok\",\"/tmp/[[:digit:]]\"]}", -EBADMSG,
                  "excludes[1] \"/tmp/[[:digit:]]\": at offset 6: \"[:\" in a class" },
                { "{" META ",\"digests\":{},\"excludes\":[\"/tmp/(?i)x\"]}", -EBADMSG,
                  "excludes[0] \"/tmp/(?i)x\": at offset 5: global flags not at the start" },
                { "{" META ",\"digests\":{},\"excludes\":[\"\\\\e\"]}", -EBADMSG, "\\e is not a Python regex escape" },
                { "{" META ",\"digests\":{},\"excludes\":[\"/li+++++b\"]}", -EBADMSG, "excludes[0] \"/li+++++b\": " },
                { "{" META ",\"digests\":{},\"ima\":[]}", -EBADMSG, "ima is array, not an object" },
                { "{" META ",\"digests\":{},\"ima\":{\"ignored_keyrings\":\".ima\"}}", -EBADMSG,
                  "ima.ignored_keyrings is string, not an array of strings" },
                { "{" META ",\"digests\":{},\"ima\":{\"ignored_keyrings\":[1]}}", -EBADMSG,
                  "ima.ignored_keyrings[0] is int, not a string" },
                { "{" META ",\"digests\":{},\"ima\":{\"log_hash_alg\":\"md5\"}}", -EBADMSG,
                  "ima.log_hash_alg \"md5\" is not sha1, sha256, sha384 or sha512" },
                { "{" META ",\"digests\":{},\"ima\":{\"log_hash_alg\":1}}", -EBADMSG,
                  "ima.log_hash_alg is int, not a string" },
                { "{" META ",\"digests\":{},\"ima\":{\"dm_policy\":{\"version\":1}}}", -EOPNOTSUPP,
                  "ima.dm_policy (device-mapper rules) is not supported" },
                { "{" META ",\"digests\":{},\"verification-keys\":[]}", -EBADMSG, "verification-keys is array, not a string" },
                { "{" META ",\"digests\":{},\"x\":[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]}", -EBADMSG, "not JSON: nesting too deep" },
        };
#undef META

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct runtime_policy *policy = (struct runtime_policy *)&policy;
                int ret;

                vm_error_clear();
                ret = runtime_policy_parse(bad[i].text, strlen(bad[i].text), &policy);
                if (ret != bad[i].code || !strstr(vm_error_detail(ret), bad[i].detail))
                        fail_msg("policy %zu (%s): %d \"%s\", expected %d \"%s\"", i, bad[i].text, ret,
                                 vm_error_detail(ret), bad[i].code, bad[i].detail);
                assert_null(policy);
        }
}

static void test_too_many_excludes(void **state) {
        size_t cap = 16 + (RUNTIME_POLICY_MAX_EXCLUDES + 1) * 5 + 64, used;
        _cleanup_(freep) char *text = malloc(cap);
        struct runtime_policy *policy;

        assert_non_null(text);
        used = (size_t)snprintf(text, cap, "{\"meta\":{\"version\":1},\"digests\":{},\"excludes\":[");
        for (int i = 0; i <= RUNTIME_POLICY_MAX_EXCLUDES; i++)
                used += (size_t)snprintf(text + used, cap - used, "%s\"a\"", i ? "," : "");
        used += (size_t)snprintf(text + used, cap - used, "]}");
        assert_true(used < cap);
        assert_error(runtime_policy_parse(text, used, &policy), -EBADMSG, "excludes has 1025 regexes, at most 1024");
}

static void test_text_too_long(void **state) {
        struct runtime_policy *policy;

        /* refused on its size, before a byte is read */
        assert_error(runtime_policy_parse("{}", (size_t)RUNTIME_POLICY_TEXT_MAX + 1, &policy), -EBADMSG,
                     "runtime policy: 67108865 bytes, at most 67108864");
}

static void test_from_json(void **state) {
        json_object *obj = json_tokener_parse("{\"meta\":{\"version\":1},\"digests\":{\"/a\":[\"" BASH_SHA256 "\"]}}");
        json_object *array = json_object_new_array();
        struct runtime_policy *policy;

        assert_non_null(obj);
        assert_int_equal(runtime_policy_from_json(obj, &policy), 0);
        runtime_policy_free(policy);
        assert_error(runtime_policy_from_json(array, &policy), -EBADMSG, "the policy is array");
        assert_error(runtime_policy_from_json(NULL, &policy), -EBADMSG, "the policy is null");
        json_object_put(obj);
        json_object_put(array);
}

/* 100k paths, each with one digest: every one is found, with its own digest only. */
static void test_large_policy(void **state) {
        const size_t paths = 100000;
        size_t cap = paths * 140 + 64, used;
        _cleanup_(freep) char *text = malloc(cap);
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = NULL;
        struct fixture *f = *state;

        assert_non_null(text);
        used = (size_t)snprintf(text, cap, "{\"meta\":{\"version\":1},\"digests\":{");
        for (size_t i = 0; i < paths; i++)
                used += (size_t)snprintf(text + used, cap - used, "%s\"/usr/lib/x86_64-linux-gnu/libfoo-%06zu.so.1\":[\"%064zx\"]",
                                         i ? "," : "", i, i);
        used += (size_t)snprintf(text + used, cap - used, "}}");
        assert_true(used < cap);
        assert_int_equal(runtime_policy_parse(text, used, &policy), 0);
        for (size_t i = 0; i < paths; i += 7) {
                entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:%064zx /usr/lib/x86_64-linux-gnu/libfoo-%06zu.so.1", i, i);
                assert_int_equal(runtime_policy_check(policy, &f->entry, NULL, &f->refusal), 0);
                entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:%064zx /usr/lib/x86_64-linux-gnu/libfoo-%06zu.so.1", i + 1, i);
                assert_int_equal(runtime_policy_check(policy, &f->entry, NULL, &f->refusal), -EPERM);
        }
        entry_of(f, "10 " TEMPLATE_HASH " ima-ng sha256:%064d /usr/lib/x86_64-linux-gnu/libfoo-100000.so.1", 0);
        assert_error(runtime_policy_check(policy, &f->entry, NULL, &f->refusal), -EPERM, "not in the runtime policy's digests");
}

/* Seeded mutations of the Keylime-shaped policy: refused cleanly or loaded, never a crash. */
static void test_mutated_policies(void **state) {
        uint64_t prng = FUZZ_SEED;
        size_t size = strlen(keylime_policy);
        char text[sizeof(keylime_policy)];

        for (unsigned n = 0; n < FUZZ_ITERATIONS / 4; n++) {
                struct runtime_policy *policy;
                int ret;

                memcpy(text, keylime_policy, size);
                prng_mutate(&prng, (uint8_t *)text, size);
                ret = runtime_policy_parse(text, size, &policy);
                assert_true(ret == 0 || ret == -EBADMSG || ret == -EOPNOTSUPP);
                assert_true((ret == 0) == (policy != NULL));
                runtime_policy_free(policy);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_allowed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wrong_digest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_digest_length, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_in_policy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_excludes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_excludes_in_python_syntax, setup, teardown),
                cmocka_unit_test_setup_teardown(test_exclude_backtracking_bounded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_violation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ima_buf, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keyrings, setup, teardown),
                cmocka_unit_test_setup_teardown(test_boot_aggregate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keylime_policy_members, setup, teardown),
                cmocka_unit_test(test_minimal_and_null_members),
                cmocka_unit_test(test_log_hash_alg),
                cmocka_unit_test(test_bad_policies),
                cmocka_unit_test(test_too_many_excludes),
                cmocka_unit_test(test_text_too_long),
                cmocka_unit_test(test_from_json),
                cmocka_unit_test_setup_teardown(test_large_policy, setup, teardown),
                cmocka_unit_test(test_mutated_policies),
        };

        return cmocka_run_group_tests_name("runtime_policy", tests, NULL, NULL);
}
