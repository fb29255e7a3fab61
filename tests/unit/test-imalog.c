/* lib/imalog.c: the IMA ASCII measurement list (docs/protocol.md §7). Known answers come from three
 * sides: lines a kernel printed (kept as published in Keylime's test data: ima-ng, ima-sig with an
 * EC signature and without one, ima-buf), a real boot's log with the TPM's PCRs
 * (tests/fixtures/boot: Debian 6.1, OVMF, swtpm), and a synthetic log built here with its own
 * template-data writer and OpenSSL, independently of lib/, whose PCR 10 is replayed here too. */
#include "tests/unit/unit.h"

#include <openssl/evp.h>

#include "lib/imalog.h"
#include "lib/runtime_policy.h"

/* Printed by a kernel: each template hash is the SHA-1 of the template data docs/protocol.md §7
 * describes. */
static const char *const kernel_lines[] = {
        "10 6309e2c83b7814367bb3912a55e5473454623535 ima-ng "
        "sha256:f4845392eca429a4c941a6a07fc32faf843a88c5c3dfa3b9329ab8f4171d9ce3 boot_aggregate",
        "10 7936eb315fb4e74b99e7d461bc5c96049e1ee092 ima-ng sha1:bc026ae66d81713e4e852465e980784dc96651f8 "
        "/usr/lib/systemd/systemd",
        "10 06e804489a77ddab51b9ef27e17053c0e5d503bd ima-sig sha1:1cb84b12db45d7da8de58ba6744187db84082f0e "
        "/usr/bin/zmore 030202531f402500483046022100bff9c02dc7b270c83cc94bfec10eecd42831de2cdcb04f024369a14623bc3a"
        "91022100cc4d015ae932fb98d6846645ed7d1bb1afd4621ec9089bc087126f191886dd31",
        /* unsigned, as published without the kernel's trailing space */
        "10 5426cf3031a43f5bfca183d79950698a95a728f6 ima-sig "
        "sha256:f1125b940480d20ad841d26d5ea253edc0704b5ec1548c891edf212cb1a9365e "
        "/lib/modules/5.4.48-openpower1/kernel/drivers/usb/common/usb-common.ko",
        "10 b7862dbbf1383ac6c7cca7f02d981a081aacb1f1 ima-buf sha1:6e0e6fc8a188ef4f059638949adca4d221946906 "
        "device_resume 6e616d653d544553543b757569643d43525950542d5645524954592d3965663332653562363562303434323461"
        "3561386562343436636630653731332d544553543b63617061636974793d303b6d616a6f723d3235333b6d696e6f723d303b6d"
        "696e6f725f636f756e743d313b6e756d5f746172676574733d313b6163746976655f7461626c655f686173683d346565383065"
        "333365353635643336333430356634303238393436653837623365396563306335383661666639656630656436663561653762"
        "656237326431333b",
};

/* ---- an independent writer of lines and replayer of PCR 10 ---- */

struct synth {
        const char *template_name; /* "ima-ng", "ima-sig", "ima-buf" */
        const char *alg;
        size_t digest_size;
        uint8_t digest_byte; /* the digest is this byte repeated */
        const char *name;
        const uint8_t *extra; /* signature or buffer */
        size_t extra_size;
        bool violation;
        unsigned pcr;
        const uint8_t *digest; /* when set, the digest instead of digest_byte repeated */
};

static void append(uint8_t *out, size_t *used, const void *p, size_t n) {
        memcpy(out + *used, p, n);
        *used += n;
}

static void append_u32le(uint8_t *out, size_t *used, uint32_t v) {
        uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

        append(out, used, le, 4);
}

/* docs/protocol.md §7, written out byte by byte */
static size_t synth_template_data(const struct synth *s, uint8_t *out) {
        uint8_t digest[64];
        size_t used = 0;

        if (s->digest)
                memcpy(digest, s->digest, s->digest_size);
        else
                memset(digest, s->digest_byte, s->digest_size);
        append_u32le(out, &used, (uint32_t)(strlen(s->alg) + 2 + s->digest_size));
        append(out, &used, s->alg, strlen(s->alg));
        append(out, &used, ":\0", 2);
        append(out, &used, digest, s->digest_size);
        append_u32le(out, &used, (uint32_t)(strlen(s->name) + 1));
        append(out, &used, s->name, strlen(s->name) + 1);
        if (strcmp(s->template_name, "ima-ng") != 0) {
                append_u32le(out, &used, (uint32_t)s->extra_size);
                if (s->extra_size)
                        append(out, &used, s->extra, s->extra_size);
        }
        return used;
}

static void digest_of(const EVP_MD *md, const void *data, size_t size, uint8_t *out) {
        assert_int_equal(EVP_Digest(data, size, out, NULL, md, NULL), 1);
}

static void to_hex(const uint8_t *data, size_t size, char *out) {
        for (size_t i = 0; i < size; i++)
                sprintf(out + 2 * i, "%02x", data[i]);
        out[2 * size] = '\0';
}

/* The line the kernel would print, and what PCR 10's `md` bank is extended with for it. */
static size_t synth_line(const struct synth *s, const EVP_MD *md, char *line, size_t cap, uint8_t *extend) {
        uint8_t data[IMA_TEMPLATE_DATA_MAX], sha1[20] = { 0 }, digest[64];
        char sha1_hex[41], digest_hex[129], extra_hex[2 * 512 + 1] = "";
        size_t size = synth_template_data(s, data);
        int n;

        if (s->digest)
                memcpy(digest, s->digest, s->digest_size);
        else
                memset(digest, s->digest_byte, s->digest_size);
        to_hex(digest, s->digest_size, digest_hex);
        if (!s->violation)
                digest_of(EVP_sha1(), data, size, sha1);
        to_hex(sha1, 20, sha1_hex);
        assert_true(s->extra_size <= 512);
        to_hex(s->extra, s->extra_size, extra_hex);
        n = snprintf(line, cap, "%u %s %s %s:%s %s%s%s", s->pcr ? s->pcr : 10, sha1_hex, s->template_name, s->alg,
                     digest_hex, s->name, strcmp(s->template_name, "ima-ng") ? " " : "", extra_hex);
        assert_true(n > 0 && (size_t)n < cap);
        if (extend) {
                if (s->violation)
                        memset(extend, 0xff, (size_t)EVP_MD_get_size(md));
                else
                        digest_of(md, data, size, extend);
        }
        return (size_t)n;
}

static void extend_pcr(const EVP_MD *md, uint8_t *pcr, const uint8_t *value) {
        size_t size = (size_t)EVP_MD_get_size(md);
        uint8_t both[128];

        memcpy(both, pcr, size);
        memcpy(both + size, value, size);
        digest_of(md, both, 2 * size, pcr);
}

static const uint8_t signature[] = { 0x03, 0x02, 0x04, 0x6e, 0x6c, 0x10, 0x46, 0x01, 0x00, 0xaa, 0x43, 0xa4 };
static const uint8_t buffer[] = "5.10.0-28-amd64";

/* A small boot: the aggregate, files of each template, a violation, a buffer. */
static const struct synth synthetic_log[] = {
        { "ima-ng", "sha256", 32, 0xb0, "boot_aggregate", NULL, 0, false, 0, NULL },
        { "ima-sig", "sha256", 32, 0x01, "/usr/lib/systemd/systemd", NULL, 0, false, 0, NULL },
        { "ima-sig", "sha256", 32, 0x02, "/usr/lib/x86_64-linux-gnu/libc.so.6", signature, sizeof(signature), false, 0, NULL },
        { "ima-ng", "sha1", 20, 0x03, "/usr/bin/bash", NULL, 0, false, 0, NULL },
        { "ima-buf", "sha256", 32, 0x04, "kernel_version", buffer, sizeof(buffer) - 1, false, 0, NULL },
        { "ima-sig", "sha256", 32, 0x00, "/var/log/journal/x.journal", NULL, 0, true, 0, NULL },
        { "ima-ng", "sha384", 48, 0x05, "/usr/sbin/sshd", NULL, 0, false, 0, NULL },
        { "ima-ng", "sha512", 64, 0x06, "/usr/bin/a_file_with_spaces_printed_as_underscores", NULL, 0, false, 0, NULL },
        { "ima-buf", "sha256", 32, 0x07, "empty-buffer", NULL, 0, false, 0, NULL },
        { "ima-sig", "sha256", 32, 0x08, "/usr/bin/true", NULL, 0, false, 0, NULL },
};
#define SYNTHETIC_COUNT ELEMENTSOF(synthetic_log)

/* The log text of entries [first, last), and PCR 10 (bank `md`) after each entry in pcr_after
 * (pcr_after[i]: after entry i; index -1 is the zero start, kept at pcr_start). */
struct synthetic {
        char text[16384];
        size_t size;
        size_t line_offset[SYNTHETIC_COUNT + 1];
        uint8_t pcr_after[SYNTHETIC_COUNT][64];
        uint8_t pcr_start[64];
};

static void build_synthetic(const EVP_MD *md, struct synthetic *log) {
        uint8_t pcr[64] = { 0 };

        memset(log, 0, sizeof(*log));
        for (size_t i = 0; i < SYNTHETIC_COUNT; i++) {
                uint8_t extend[64];

                log->line_offset[i] = log->size;
                log->size += synth_line(&synthetic_log[i], md, log->text + log->size, sizeof(log->text) - log->size,
                                        extend);
                log->text[log->size++] = '\n';
                extend_pcr(md, pcr, extend);
                memcpy(log->pcr_after[i], pcr, sizeof(pcr));
        }
        log->line_offset[SYNTHETIC_COUNT] = log->size;
}

/* ---- parsing and template data ---- */

static void test_kernel_lines_template_hash(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(kernel_lines); i++) {
                uint8_t data[IMA_TEMPLATE_DATA_MAX], sha1[20];
                struct ima_entry entry;
                size_t size;

                assert_int_equal(ima_entry_parse(kernel_lines[i], strlen(kernel_lines[i]), &entry), 0);
                assert_int_equal(entry.pcr, 10);
                assert_false(entry.violation);
                assert_int_equal(ima_entry_template_data(&entry, data, sizeof(data), &size), 0);
                assert_int_equal(ima_entry_check_template_hash(&entry, data, size), 0);
                /* and the same check done here, with OpenSSL directly */
                digest_of(EVP_sha1(), data, size, sha1);
                assert_memory_equal(sha1, entry.template_hash, 20);
        }
}

static void test_kernel_line_fields(void **state) {
        static const uint8_t zmore_digest[20] = { 0x1c, 0xb8, 0x4b, 0x12, 0xdb, 0x45, 0xd7, 0xda, 0x8d, 0xe5,
                                                  0x8b, 0xa6, 0x74, 0x41, 0x87, 0xdb, 0x84, 0x08, 0x2f, 0x0e };
        struct ima_entry entry;

        assert_int_equal(ima_entry_parse(kernel_lines[2], strlen(kernel_lines[2]), &entry), 0);
        assert_int_equal(entry.template_type, IMA_TEMPLATE_SIG);
        assert_string_equal(entry.digest_alg, "sha1");
        assert_int_equal(entry.digest_size, 20);
        assert_memory_equal(entry.digest, zmore_digest, 20);
        assert_int_equal(entry.name_len, strlen("/usr/bin/zmore"));
        assert_memory_equal(entry.name, "/usr/bin/zmore", entry.name_len);
        assert_int_equal(entry.data_size, 81); /* an EC signature with its 9-byte IMA header */
        assert_int_equal(entry.data[0], 0x03);

        assert_int_equal(ima_entry_parse(kernel_lines[4], strlen(kernel_lines[4]), &entry), 0);
        assert_int_equal(entry.template_type, IMA_TEMPLATE_BUF);
        assert_memory_equal(entry.name, "device_resume", entry.name_len);
        assert_memory_equal(entry.data, "name=TEST;", 10);
}

static void test_synthetic_template_data(void **state) {
        for (size_t i = 0; i < SYNTHETIC_COUNT; i++) {
                const struct synth *s = &synthetic_log[i];
                uint8_t expected[IMA_TEMPLATE_DATA_MAX], got[IMA_TEMPLATE_DATA_MAX];
                size_t expected_size = synth_template_data(s, expected), got_size = 0;
                struct ima_entry entry;
                char line[2048];
                size_t len = synth_line(s, EVP_sha256(), line, sizeof(line), NULL);

                assert_int_equal(ima_entry_parse(line, len, &entry), 0);
                assert_int_equal(entry.violation, s->violation);
                assert_string_equal(entry.digest_alg, s->alg);
                assert_int_equal(entry.digest_size, s->digest_size);
                assert_int_equal(entry.name_len, strlen(s->name));
                assert_int_equal(entry.data_size, s->extra_size);
                assert_int_equal(ima_entry_template_data(&entry, got, sizeof(got), &got_size), 0);
                assert_int_equal(got_size, expected_size);
                assert_memory_equal(got, expected, expected_size);
                if (!s->violation)
                        assert_int_equal(ima_entry_check_template_hash(&entry, got, got_size), 0);
        }
}

static void test_ima_ng_byte_layout(void **state) {
        /* u32 40, "sha256:\0", 32 digest bytes, u32 6, "/init\0" */
        static const struct synth s = { "ima-ng", "sha256", 32, 0xab, "/init", NULL, 0, false, 0, NULL };
        uint8_t data[IMA_TEMPLATE_DATA_MAX];
        struct ima_entry entry;
        char line[512];
        size_t size, len = synth_line(&s, EVP_sha256(), line, sizeof(line), NULL);

        assert_int_equal(ima_entry_parse(line, len, &entry), 0);
        assert_int_equal(entry.template_type, IMA_TEMPLATE_NG);
        assert_int_equal(ima_entry_template_data(&entry, data, sizeof(data), &size), 0);
        assert_int_equal(size, 4 + 40 + 4 + 6);
        assert_memory_equal(data, "\x28\x00\x00\x00sha256:\0", 12);
        assert_int_equal(data[12], 0xab);
        assert_int_equal(data[43], 0xab);
        assert_memory_equal(data + 44, "\x06\x00\x00\x00/init\0", 10);
}

/* Unsigned ima-sig: the kernel prints "path " (an empty last column); without the trailing space
 * it means the same. Either way the data ends in a u32 0 (docs/protocol.md §7). */
static void test_ima_sig_without_signature(void **state) {
        static const struct synth s = { "ima-sig", "sha256", 32, 0x11, "/usr/bin/true", NULL, 0, false, 0, NULL };
        uint8_t with_space[IMA_TEMPLATE_DATA_MAX], without[IMA_TEMPLATE_DATA_MAX];
        size_t size_with, size_without;
        struct ima_entry entry;
        char line[512];
        size_t len = synth_line(&s, EVP_sha256(), line, sizeof(line), NULL);

        assert_int_equal(line[len - 1], ' ');
        assert_int_equal(ima_entry_parse(line, len, &entry), 0);
        assert_int_equal(entry.data_size, 0);
        assert_int_equal(ima_entry_template_data(&entry, with_space, sizeof(with_space), &size_with), 0);
        assert_memory_equal(with_space + size_with - 4, "\0\0\0\0", 4);
        assert_int_equal(ima_entry_check_template_hash(&entry, with_space, size_with), 0);

        assert_int_equal(ima_entry_parse(line, len - 1, &entry), 0);
        assert_int_equal(ima_entry_template_data(&entry, without, sizeof(without), &size_without), 0);
        assert_int_equal(size_with, size_without);
        assert_memory_equal(with_space, without, size_with);
}

static void test_ima_sig_with_signature(void **state) {
        const struct synth *s = &synthetic_log[2];
        uint8_t data[IMA_TEMPLATE_DATA_MAX];
        struct ima_entry entry;
        char line[1024];
        size_t size, len = synth_line(s, EVP_sha256(), line, sizeof(line), NULL);

        assert_int_equal(ima_entry_parse(line, len, &entry), 0);
        assert_int_equal(entry.data_size, sizeof(signature));
        assert_memory_equal(entry.data, signature, sizeof(signature));
        assert_int_equal(ima_entry_template_data(&entry, data, sizeof(data), &size), 0);
        assert_memory_equal(data + size - sizeof(signature) - 4, "\x0c\x00\x00\x00", 4);
        assert_int_equal(ima_entry_check_template_hash(&entry, data, size), 0);
        /* signature hex in upper case reads the same */
        for (size_t i = len - 2 * sizeof(signature); i < len; i++)
                if (line[i] >= 'a' && line[i] <= 'f')
                        line[i] = (char)(line[i] - 'a' + 'A');
        assert_int_equal(ima_entry_parse(line, len, &entry), 0);
        assert_memory_equal(entry.data, signature, sizeof(signature));
}

static void test_ima_buf(void **state) {
        const struct synth *s = &synthetic_log[4];
        uint8_t data[IMA_TEMPLATE_DATA_MAX];
        struct ima_entry entry;
        char line[1024];
        size_t size, len = synth_line(s, EVP_sha256(), line, sizeof(line), NULL);

        assert_int_equal(ima_entry_parse(line, len, &entry), 0);
        assert_int_equal(entry.template_type, IMA_TEMPLATE_BUF);
        assert_memory_equal(entry.name, "kernel_version", entry.name_len);
        assert_int_equal(entry.data_size, sizeof(buffer) - 1);
        assert_memory_equal(entry.data, buffer, entry.data_size);
        assert_int_equal(ima_entry_template_data(&entry, data, sizeof(data), &size), 0);
        assert_int_equal(ima_entry_check_template_hash(&entry, data, size), 0);
        /* an empty buffer is an empty last column */
        len = synth_line(&synthetic_log[8], EVP_sha256(), line, sizeof(line), NULL);
        assert_int_equal(line[len - 1], ' ');
        assert_int_equal(ima_entry_parse(line, len, &entry), 0);
        assert_int_equal(entry.data_size, 0);
}

static void test_violation(void **state) {
        const struct synth *s = &synthetic_log[5];
        struct ima_entry entry;
        char line[1024];
        size_t len = synth_line(s, EVP_sha256(), line, sizeof(line), NULL);

        assert_memory_equal(line, "10 0000000000000000000000000000000000000000 ima-sig", 51);
        assert_int_equal(ima_entry_parse(line, len, &entry), 0);
        assert_true(entry.violation);
}

static void test_template_hash_mismatch(void **state) {
        uint8_t data[IMA_TEMPLATE_DATA_MAX];
        struct ima_entry entry;
        char line[512];
        size_t size;

        snprintf(line, sizeof(line), "%s", kernel_lines[1]);
        line[strlen(line) - 1] = 'X'; /* .../systemX: still well formed */
        assert_int_equal(ima_entry_parse(line, strlen(line), &entry), 0);
        assert_int_equal(ima_entry_template_data(&entry, data, sizeof(data), &size), 0);
        assert_error(ima_entry_check_template_hash(&entry, data, size), -EBADMSG,
                     "template-hash 7936eb315fb4e74b99e7d461bc5c96049e1ee092 is not the SHA-1 of the template data");
}

static void test_template_data_buffer_too_small(void **state) {
        uint8_t data[40];
        struct ima_entry entry;
        size_t size;

        assert_int_equal(ima_entry_parse(kernel_lines[0], strlen(kernel_lines[0]), &entry), 0);
        assert_error(ima_entry_template_data(&entry, data, sizeof(data), &size), -ENOBUFS, "more than 40 bytes");
}

/* ---- hostile lines ---- */

#define HASH40 "6309e2c83b7814367bb3912a55e5473454623535"
#define SHA256_HEX "f4845392eca429a4c941a6a07fc32faf843a88c5c3dfa3b9329ab8f4171d9ce3"

static void test_hostile_lines(void **state) {
        static const struct {
                const char *line, *detail;
        } hostile[] = {
                { "", "empty line" },
                { "10", "missing template-hash column" },
                { "10 " HASH40, "missing template-name column" },
                { "10 " HASH40 " ima-ng", "missing digest column" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX, "missing path column" },
                { "10 " HASH40 " ima-buf sha256:" SHA256_HEX " name", "missing buffer column" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX " /a ", "unexpected column" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX " /a b", "unexpected column" },
                { "10 " HASH40 " ima-sig sha256:" SHA256_HEX " /a 00 ", "unexpected column" },
                { "10 " HASH40 " ima-sig sha256:" SHA256_HEX " /a 00 11", "unexpected column" },
                { " 10 " HASH40 " ima-ng sha256:" SHA256_HEX " /a", "PCR at offset 0: empty column" },
                { "10  " HASH40 " ima-ng sha256:" SHA256_HEX " /a", "template-hash at offset 3: empty column" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX "  /a", "path at offset 123: empty column" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX " ", "path at offset 123: empty column at the end" },
                { "ten " HASH40 " ima-ng sha256:" SHA256_HEX " /a", "\"ten\" is not a PCR number 0-23" },
                { "010 " HASH40 " ima-ng sha256:" SHA256_HEX " /a", "\"010\" is not a PCR number" },
                { "24 " HASH40 " ima-ng sha256:" SHA256_HEX " /a", "\"24\" is not a PCR number" },
                { "-1 " HASH40 " ima-ng sha256:" SHA256_HEX " /a", "\"-1\" is not a PCR number" },
                { "10 6309e2c83b7814367bb3912a55e547345462353 ima-ng sha256:" SHA256_HEX " /a",
                  "template-hash at offset 3: 39 hex digits, a SHA-1 template hash has 40" },
                { "10 " HASH40 "00 ima-ng sha256:" SHA256_HEX " /a", "template-hash at offset 3: 42 hex digits" },
                { "10 6309e2c83b7814367bb3912a55e5473454623g35 ima-ng sha256:" SHA256_HEX " /a",
                  "template-hash at offset 3: hex: invalid digit at offset 37" },
                { "10 " HASH40 " ima sha256:" SHA256_HEX " /a", "unknown template \"ima\"" },
                { "10 " HASH40 " ima-modsig sha256:" SHA256_HEX " /a", "unknown template \"ima-modsig\"" },
                { "10 " HASH40 " IMA-NG sha256:" SHA256_HEX " /a", "unknown template \"IMA-NG\"" },
                { "10 " HASH40 " ima-ng " SHA256_HEX " /a", "digest at offset 51: no \"<algorithm>:\"" },
                { "10 " HASH40 " ima-ng sha255:" SHA256_HEX " /a", "unknown hash algorithm \"sha255\"" },
                { "10 " HASH40 " ima-ng :" SHA256_HEX " /a", "unknown hash algorithm \"\"" },
                { "10 " HASH40 " ima-ng sha256:" HASH40 " /a", "40 hex digits, a sha256 digest has 64" },
                { "10 " HASH40 " ima-ng sha1:" SHA256_HEX " /a", "64 hex digits, a sha1 digest has 40" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX "0 /a", "65 hex digits" },
                { "10 " HASH40 " ima-ng sha256: /a", "0 hex digits" },
                { "10 " HASH40 " ima-ng sha256:f4845392eca429a4c941a6a07fc32faf843a88c5c3dfa3b9329ab8f4171d9cez /a",
                  "digest at offset 51: hex: invalid digit at offset 63" },
                { "10 " HASH40 " ima-sig sha256:" SHA256_HEX " /a 030", "signature at offset 127: hex: odd length 3" },
                { "10 " HASH40 " ima-sig sha256:" SHA256_HEX " /a 03xy", "signature at offset 127: hex: invalid digit" },
                { "10 " HASH40 " ima-buf sha256:" SHA256_HEX " name 6g", "buffer at offset 129: hex: invalid digit" },
                { "10\t" HASH40 "\tima-ng\tsha256:" SHA256_HEX "\t/a", "PCR at offset 0: control character 0x09" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX " /a\tb", "path at offset 123: control character 0x09" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX " /a\r", "path at offset 123: control character 0x0d" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX " /a\x7f", "control character 0x7f" },
                { "10 " HASH40 " ima-ng sha256:" SHA256_HEX " /a\n", "control character 0x0a" },
        };

        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                struct ima_entry entry;

                assert_error(ima_entry_parse(hostile[i].line, strlen(hostile[i].line), &entry), -EBADMSG,
                             hostile[i].detail);
                assert_detail_contains(-EBADMSG, "IMA log line: ");
        }
}

static void test_hostile_nul_byte(void **state) {
        char line[256];
        struct ima_entry entry;
        size_t len = (size_t)snprintf(line, sizeof(line), "%s", kernel_lines[1]);

        line[len - 3] = '\0';
        assert_error(ima_entry_parse(line, len, &entry), -EBADMSG, "path at offset 97: control character 0x00");
}

static void test_hostile_path_length(void **state) {
        _cleanup_(freep) char *line = malloc(IMA_LINE_MAX + 2);
        struct ima_entry entry;
        int prefix;

        assert_non_null(line);
        prefix = snprintf(line, 200, "10 " HASH40 " ima-ng sha256:" SHA256_HEX " /");
        /* a path of exactly IMA_PATH_MAX bytes is fine, one more is not */
        memset(line + prefix, 'p', IMA_PATH_MAX - 1);
        assert_int_equal(ima_entry_parse(line, (size_t)prefix + IMA_PATH_MAX - 1, &entry), 0);
        assert_int_equal(entry.name_len, IMA_PATH_MAX);
        line[prefix + IMA_PATH_MAX - 1] = 'p';
        assert_error(ima_entry_parse(line, (size_t)prefix + IMA_PATH_MAX, &entry), -EBADMSG,
                     "path at offset 123: 4097 bytes, at most 4096");
}

static void test_hostile_line_length(void **state) {
        const size_t megabyte = 1 << 20;
        _cleanup_(freep) char *line = malloc(megabyte);
        struct ima_entry entry;
        struct ima_replay replay;
        struct ima_verdict verdict;
        uint8_t quoted[32] = { 1 };
        int prefix;

        assert_non_null(line);
        prefix = snprintf(line, 200, "10 " HASH40 " ima-sig sha256:" SHA256_HEX " /a ");
        memset(line + prefix, 'a', megabyte - (size_t)prefix);
        assert_error(ima_entry_parse(line, megabyte, &entry), -EBADMSG, "1048576 bytes, at most 8192");
        assert_error(ima_entry_parse(line, IMA_LINE_MAX + 1, &entry), -EBADMSG, "8193 bytes, at most 8192");
        /* a signature as long as a line allows (an even number of digits) */
        assert_int_equal(ima_entry_parse(line, IMA_LINE_MAX - 1, &entry), 0);
        assert_int_equal(entry.data_size, (IMA_LINE_MAX - 1 - (size_t)prefix) / 2);

        /* through ima_verify, the scan for the newline stops after IMA_LINE_MAX + 1 bytes */
        assert_int_equal(ima_replay_init(&replay, TPM2_ALG_SHA256), 0);
        assert_error(ima_verify(&replay, line, megabyte, 0, NULL, quoted, &verdict), -EBADMSG,
                     "IMA entry 0: IMA log line: more than 8192 bytes");
        assert_int_equal(replay.next_entry, 0);
}

/* Every proper prefix of a valid line fails: either it does not parse, or what it names is not
 * what the template hash covers. The one exception is an unsigned ima-sig line without its
 * trailing space, which is the same entry. */
static void test_every_truncation(void **state) {
        char lines[ELEMENTSOF(kernel_lines) + 4][2048];
        size_t count = 0;

        for (size_t i = 0; i < ELEMENTSOF(kernel_lines); i++)
                snprintf(lines[count++], sizeof(lines[0]), "%s", kernel_lines[i]);
        synth_line(&synthetic_log[1], EVP_sha256(), lines[count++], sizeof(lines[0]), NULL);
        synth_line(&synthetic_log[2], EVP_sha256(), lines[count++], sizeof(lines[0]), NULL);
        synth_line(&synthetic_log[4], EVP_sha256(), lines[count++], sizeof(lines[0]), NULL);
        synth_line(&synthetic_log[8], EVP_sha256(), lines[count++], sizeof(lines[0]), NULL);

        for (size_t i = 0; i < count; i++) {
                size_t full = strlen(lines[i]);

                for (size_t len = 0; len < full; len++) {
                        uint8_t data[IMA_TEMPLATE_DATA_MAX];
                        struct ima_entry entry;
                        size_t size;
                        int ret;

                        vm_error_clear();
                        ret = ima_entry_parse(lines[i], len, &entry);
                        if (ret == 0) {
                                if (len == full - 1 && lines[i][len] == ' ' && strstr(lines[i], " ima-sig "))
                                        continue;
                                assert_int_equal(ima_entry_template_data(&entry, data, sizeof(data), &size), 0);
                                ret = ima_entry_check_template_hash(&entry, data, size);
                        }
                        if (ret != -EBADMSG)
                                fail_msg("line %zu cut to %zu bytes: %d", i, len, ret);
                        assert_detail_contains(ret, "IMA log line: ");
                }
        }
}

/* Seeded mutations of valid lines: whatever the parser accepts it rebuilds within bounds, and
 * only a true SHA-1 lets it through the check. */
static void test_mutated_lines(void **state) {
        uint64_t prng = FUZZ_SEED;
        char lines[2][1024];

        synth_line(&synthetic_log[2], EVP_sha256(), lines[0], sizeof(lines[0]), NULL);
        synth_line(&synthetic_log[4], EVP_sha256(), lines[1], sizeof(lines[1]), NULL);
        for (unsigned n = 0; n < FUZZ_ITERATIONS; n++) {
                uint8_t data[IMA_TEMPLATE_DATA_MAX];
                char line[1024];
                size_t len = strlen(lines[n % 2]), size;
                struct ima_entry entry;

                memcpy(line, lines[n % 2], len);
                prng_mutate(&prng, (uint8_t *)line, len);
                if (ima_entry_parse(line, len, &entry) < 0)
                        continue;
                assert_true(entry.name_len >= 1 && entry.name_len <= IMA_PATH_MAX);
                assert_true(entry.digest_size >= 16 && entry.digest_size <= IMA_DIGEST_MAX);
                assert_int_equal(ima_entry_template_data(&entry, data, sizeof(data), &size), 0);
                assert_true(size <= len);
                /* a change of hex case or of the PCR column leaves the data as it was */
                if (!entry.violation) {
                        int ret = ima_entry_check_template_hash(&entry, data, size);

                        assert_true(ret == 0 || ret == -EBADMSG);
                }
        }
}

/* ---- boot_aggregate ---- */

static void test_boot_aggregate(void **state) {
        struct pcr_values pcrs, only_some;
        uint8_t got[32], want[32], concatenated[10 * 32];

        read_pcrread_text(VECTOR("pcrs.txt"), &pcrs);
        for (unsigned i = 0; i < 10; i++)
                memcpy(concatenated + 32 * i, pcrs.value[i].buffer, 32);
        digest_of(EVP_sha256(), concatenated, sizeof(concatenated), want);
        /* pcrs.txt has PCRs 10 and 16 too: they do not count */
        assert_int_equal(ima_boot_aggregate(&pcrs, got), 0);
        assert_memory_equal(got, want, 32);

        pcr_values_subset(&pcrs, 0x1fe, &only_some); /* no PCR 0 */
        assert_error(ima_boot_aggregate(&only_some, got), -EINVAL, "PCRs 0-9 are needed");
        only_some = pcrs;
        only_some.bank = TPM2_ALG_SHA1;
        assert_error(ima_boot_aggregate(&only_some, got), -EINVAL, "bank sha1, the SHA-256 bank is needed");
        only_some = pcrs;
        only_some.value[9].size = 20;
        assert_error(ima_boot_aggregate(&only_some, got), -EINVAL, "PCR 9 has 20 bytes");
}

/* ---- replay ---- */

struct replay_fixture {
        struct synthetic log;
        struct ima_replay replay;
        struct ima_verdict verdict;
};

static int replay_setup(void **state) {
        struct replay_fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        build_synthetic(EVP_sha256(), &f->log);
        assert_int_equal(ima_replay_init(&f->replay, TPM2_ALG_SHA256), 0);
        *state = f;
        return 0;
}

static int replay_teardown(void **state) {
        free(*state);
        return 0;
}

static void test_replay_whole_log(void **state) {
        struct replay_fixture *f = *state;

        assert_int_equal(ima_verify(&f->replay, f->log.text, f->log.size, 0, NULL, f->log.pcr_after[SYNTHETIC_COUNT - 1],
                                    &f->verdict),
                         0);
        assert_int_equal(f->replay.next_entry, SYNTHETIC_COUNT);
        assert_memory_equal(f->replay.pcr10, f->log.pcr_after[SYNTHETIC_COUNT - 1], 32);
        assert_int_equal(f->verdict.entry, 0);
}

/* The violation extends with 0xff bytes: a replay that hashed its data instead differs. */
static void test_replay_violation_extends_ff(void **state) {
        struct replay_fixture *f = *state;
        uint8_t pcr[32], ff[32], both[64];

        memset(ff, 0xff, sizeof(ff));
        memcpy(both, f->log.pcr_after[4], 32);
        memcpy(both + 32, ff, 32);
        digest_of(EVP_sha256(), both, 64, pcr);
        assert_memory_equal(pcr, f->log.pcr_after[5], 32);
        assert_int_equal(ima_verify(&f->replay, f->log.text, f->log.line_offset[6], 0, NULL, f->log.pcr_after[5],
                                    &f->verdict),
                         0);
        assert_int_equal(f->replay.next_entry, 6);
}

static void test_replay_incremental_equals_one_call(void **state) {
        struct replay_fixture *f = *state;
        struct ima_replay one;

        assert_int_equal(ima_replay_init(&one, TPM2_ALG_SHA256), 0);
        assert_int_equal(ima_verify(&one, f->log.text, f->log.size, 0, NULL, f->log.pcr_after[SYNTHETIC_COUNT - 1],
                                    &f->verdict),
                         0);
        for (size_t split = 1; split < SYNTHETIC_COUNT; split++) {
                size_t at = f->log.line_offset[split];

                assert_int_equal(ima_replay_init(&f->replay, TPM2_ALG_SHA256), 0);
                assert_int_equal(ima_verify(&f->replay, f->log.text, at, 0, NULL, f->log.pcr_after[split - 1], &f->verdict),
                                 0);
                assert_int_equal(f->replay.next_entry, split);
                assert_int_equal(ima_verify(&f->replay, f->log.text + at, f->log.size - at, split, NULL,
                                            f->log.pcr_after[SYNTHETIC_COUNT - 1], &f->verdict),
                                 0);
                assert_memory_equal(&f->replay, &one, sizeof(one));
        }
}

/* The quote lags the log: the state stops at the line that matches it, and the lines after it
 * come again next time. */
static void test_replay_stops_at_match(void **state) {
        struct replay_fixture *f = *state;

        assert_int_equal(ima_verify(&f->replay, f->log.text, f->log.size, 0, NULL, f->log.pcr_after[3], &f->verdict), 0);
        assert_int_equal(f->replay.next_entry, 4);
        assert_memory_equal(f->replay.pcr10, f->log.pcr_after[3], 32);
        /* next time the agent serves from entry 4 */
        assert_int_equal(ima_verify(&f->replay, f->log.text + f->log.line_offset[4], f->log.size - f->log.line_offset[4],
                                    4, NULL, f->log.pcr_after[SYNTHETIC_COUNT - 1], &f->verdict),
                         0);
        assert_int_equal(f->replay.next_entry, SYNTHETIC_COUNT);
}

/* No new line covered yet, or no new line at all: a match before the first line. */
static void test_replay_match_before_first_line(void **state) {
        struct replay_fixture *f = *state;
        uint8_t zero[32] = { 0 };

        assert_int_equal(ima_verify(&f->replay, f->log.text, f->log.size, 0, NULL, zero, &f->verdict), 0);
        assert_int_equal(f->replay.next_entry, 0);
        assert_int_equal(ima_verify(&f->replay, "", 0, 0, NULL, zero, &f->verdict), 0);
        assert_int_equal(f->replay.next_entry, 0);
}

static void test_replay_never_matches(void **state) {
        struct replay_fixture *f = *state;
        struct ima_replay before = f->replay;
        uint8_t quoted[32];
        char want[65], detail[300];

        memset(quoted, 0x5a, sizeof(quoted));
        to_hex(f->log.pcr_after[SYNTHETIC_COUNT - 1], 32, want);
        snprintf(detail, sizeof(detail), "after entry %zu sha256 is %s, the quote has 5a5a", SYNTHETIC_COUNT - 1, want);
        assert_error(ima_verify(&f->replay, f->log.text, f->log.size, 0, NULL, quoted, &f->verdict), -EBADMSG, detail);
        assert_detail_contains(-EBADMSG, "IMA log entries 0-9 never replay to the quoted PCR 10");
        assert_detail_contains(-EBADMSG, "(last path \"/usr/bin/true\")");
        assert_int_equal(f->verdict.entry, SYNTHETIC_COUNT - 1);
        assert_string_equal(f->verdict.path, "/usr/bin/true");
        assert_string_equal(f->verdict.pcr10, want);
        assert_memory_equal(&f->replay, &before, sizeof(before));

        assert_error(ima_verify(&f->replay, "", 0, 0, NULL, quoted, &f->verdict), -EBADMSG,
                     "IMA log from entry 0 is empty and PCR 10 sha256 is 0000");
}

/* The agent must answer from where the replay stands (or the caller starts over after a
 * reboot): any other start is refused, not silently replayed. */
static void test_replay_wrong_first_entry(void **state) {
        struct replay_fixture *f = *state;

        assert_error(ima_verify(&f->replay, f->log.text, f->log.size, 3, NULL, f->log.pcr_after[9], &f->verdict), -EBADMSG,
                     "IMA log starts at entry 3, the replay stands at entry 0");
        assert_int_equal(ima_verify(&f->replay, f->log.text, f->log.line_offset[5], 0, NULL, f->log.pcr_after[4], &f->verdict),
                         0);
        assert_error(ima_verify(&f->replay, f->log.text, f->log.size, 0, NULL, f->log.pcr_after[9], &f->verdict), -EBADMSG,
                     "IMA log starts at entry 0, the replay stands at entry 5");
        assert_int_equal(f->replay.next_entry, 5);
}

static void test_replay_bad_line_names_entry(void **state) {
        struct replay_fixture *f = *state;
        char text[sizeof(f->log.text)];
        struct ima_replay before = f->replay;

        memcpy(text, f->log.text, f->log.size);
        /* a path of entry 6 changed: still well formed, but not what its template hash covers */
        text[f->log.line_offset[7] - 2] ^= 1;
        assert_error(ima_verify(&f->replay, text, f->log.size, 0, NULL, f->log.pcr_after[9], &f->verdict), -EBADMSG,
                     "IMA entry 6: IMA log line: template-hash");
        assert_int_equal(f->verdict.entry, 6);
        assert_memory_equal(&f->replay, &before, sizeof(before));
        /* an empty line in the middle */
        memcpy(text, f->log.text, f->log.size);
        text[f->log.line_offset[3]] = '\n';
        assert_error(ima_verify(&f->replay, text, f->log.size, 0, NULL, f->log.pcr_after[9], &f->verdict), -EBADMSG,
                     "IMA entry 3: IMA log line: empty line");
        /* a CRLF log */
        memcpy(text, f->log.text, f->log.line_offset[1]);
        text[f->log.line_offset[1] - 1] = '\r';
        text[f->log.line_offset[1]] = '\n';
        assert_error(ima_verify(&f->replay, text, f->log.line_offset[1] + 1, 0, NULL, f->log.pcr_after[0], &f->verdict),
                     -EBADMSG, "IMA entry 0: IMA log line: path at offset 123: control character 0x0d");
}

static void test_replay_unterminated_last_line(void **state) {
        struct replay_fixture *f = *state;

        assert_int_equal(ima_verify(&f->replay, f->log.text, f->log.size - 1, 0, NULL, f->log.pcr_after[9], &f->verdict),
                         0);
        assert_int_equal(f->replay.next_entry, SYNTHETIC_COUNT);
}

static void test_replay_other_pcr(void **state) {
        struct replay_fixture *f = *state;
        struct synth s = synthetic_log[3];
        uint8_t extend[32], pcr[32] = { 0 };
        char line[512];
        size_t len;

        /* a policy rule may send entries to another PCR: this replay is of PCR 10 only */
        s.pcr = 11;
        len = synth_line(&s, EVP_sha256(), line, sizeof(line), extend);
        extend_pcr(EVP_sha256(), pcr, extend);
        assert_error(ima_verify(&f->replay, line, len, 0, NULL, pcr, &f->verdict), -EBADMSG,
                     "IMA entry 0: IMA log line: an entry for PCR 11 (only PCR 10 is replayed)");
}

/* Every truncation of the log, as one call: refused (-EBADMSG) unless it ends on a line
 * boundary at or after the quote's match, and the state never moves on failure. */
static void test_replay_truncated_log(void **state) {
        struct replay_fixture *f = *state;

        for (size_t size = 0; size < f->log.size; size++) {
                struct ima_replay replay;
                int ret;

                assert_int_equal(ima_replay_init(&replay, TPM2_ALG_SHA256), 0);
                ret = ima_verify(&replay, f->log.text, size, 0, NULL, f->log.pcr_after[SYNTHETIC_COUNT - 1], &f->verdict);
                /* without its newline, or also without the empty signature column after it, the
                 * last line (an unsigned ima-sig) is the same entry */
                if (size == f->log.size - 1 || size == f->log.size - 2) {
                        assert_int_equal(ret, 0);
                        continue;
                }
                assert_int_equal(ret, -EBADMSG);
                assert_int_equal(replay.next_entry, 0);
        }
}

static void test_replay_sha384_bank(void **state) {
        struct synthetic *log = malloc(sizeof(*log));
        struct ima_replay replay;
        struct ima_verdict verdict;

        assert_non_null(log);
        build_synthetic(EVP_sha384(), log);
        assert_int_equal(ima_replay_init(&replay, TPM2_ALG_SHA384), 0);
        assert_int_equal(ima_verify(&replay, log->text, log->size, 0, NULL, log->pcr_after[SYNTHETIC_COUNT - 1], &verdict),
                         0);
        assert_memory_equal(replay.pcr10, log->pcr_after[SYNTHETIC_COUNT - 1], 48);
        free(log);
}

static void test_replay_sha1_bank(void **state) {
        struct synthetic *log = malloc(sizeof(*log));
        struct ima_replay replay;
        struct ima_verdict verdict;

        assert_non_null(log);
        build_synthetic(EVP_sha1(), log);
        assert_int_equal(ima_replay_init(&replay, TPM2_ALG_SHA1), 0);
        assert_int_equal(ima_verify(&replay, log->text, log->size, 0, NULL, log->pcr_after[SYNTHETIC_COUNT - 1], &verdict),
                         0);
        assert_memory_equal(replay.pcr10, log->pcr_after[SYNTHETIC_COUNT - 1], 20);
        free(log);
}

static void test_replay_init_unsupported_bank(void **state) {
        struct ima_replay replay;

        assert_error(ima_replay_init(&replay, TPM2_ALG_SM3_256), -EINVAL, "unsupported PCR bank 0x0012");
}

/* ---- a real boot: the Debian 6.1 kernel under OVMF and swtpm (tests/fixtures/boot) ---- */

#define FIXTURE(name) "tests/fixtures/boot/" name

/* pcrs-sha256.txt: "N HEX" a line, PCRs 0-23 of the SHA-256 bank as sysfs printed them */
static void read_fixture_pcrs(struct pcr_values *pcrs) {
        _cleanup_(fclosep) FILE *f = fopen(FIXTURE("pcrs-sha256.txt"), "r");
        char hex[65];
        unsigned pcr;

        memset(pcrs, 0, sizeof(*pcrs));
        pcrs->bank = TPM2_ALG_SHA256;
        if (!f)
                fail_msg("cannot open %s (run the tests from the repository root)", FIXTURE("pcrs-sha256.txt"));
        while (fscanf(f, "%u %64s", &pcr, hex) == 2) {
                assert_true(pcr < 24 && strlen(hex) == 64);
                pcrs->mask |= 1u << pcr;
                pcrs->value[pcr].size = 32;
                for (size_t i = 0; i < 32; i++)
                        assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &pcrs->value[pcr].buffer[i]), 1);
        }
        assert_int_equal(pcrs->mask, 0x00ffffff);
}

/* The kernel's own log replays to the PCR 10 the TPM holds, its template hashes are the SHA-1 of
 * the data docs/protocol.md §7 describes (unsigned ima-sig lines end in a space), and its
 * boot_aggregate is SHA-256 over PCRs 0-9 (PCR 8 zero here). */
static void test_real_boot_log(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        _cleanup_(freep) struct ima_verdict *verdict = malloc(sizeof(*verdict));
        struct ima_replay replay;
        struct pcr_values pcrs;
        struct ima_entry entry;
        uint8_t aggregate[32];
        size_t size;

        assert_non_null(verdict);
        log = read_vector(FIXTURE("ascii_runtime_measurements"), &size);
        read_fixture_pcrs(&pcrs);
        assert_int_equal(ima_entry_parse((const char *)log, (size_t)(strchr((char *)log, '\n') - (char *)log), &entry), 0);
        assert_int_equal(entry.template_type, IMA_TEMPLATE_SIG);
        assert_memory_equal(entry.name, "boot_aggregate", entry.name_len);
        assert_int_equal(ima_boot_aggregate(&pcrs, aggregate), 0);
        assert_memory_equal(entry.digest, aggregate, 32);

        assert_int_equal(ima_replay_init(&replay, TPM2_ALG_SHA256), 0);
        assert_int_equal(ima_replay_set_boot_aggregate(&replay, &pcrs), 0);
        assert_int_equal(ima_verify(&replay, (const char *)log, size, 0, NULL, pcrs.value[IMA_PCR].buffer, verdict), 0);
        assert_int_equal(replay.next_entry, 7);
        assert_memory_equal(replay.pcr10, pcrs.value[IMA_PCR].buffer, 32);
}

/* A policy made from the real log's own digests passes it; one without the last program refuses
 * it, naming the entry, the path and the digest the kernel measured. */
static void test_real_boot_log_policy(void **state) {
        _cleanup_(freep) uint8_t *log = NULL;
        _cleanup_(freep) struct ima_verdict *verdict = malloc(sizeof(*verdict));
        char text[4096], refused_path[128] = "", refused_digest[96] = "";
        struct pcr_values pcrs;
        size_t size, used;

        assert_non_null(verdict);
        log = read_vector(FIXTURE("ascii_runtime_measurements"), &size);
        read_fixture_pcrs(&pcrs);
        for (int leave_out = -1; leave_out < 7; leave_out += 6) {
                _cleanup_(runtime_policy_freep) struct runtime_policy *policy = NULL;
                const char *line = (const char *)log;
                struct ima_replay replay;
                int n = 0;

                used = (size_t)snprintf(text, sizeof(text), "{\"meta\":{\"version\":1},\"digests\":{");
                for (; *line; line = strchr(line, '\n') + 1, n++) {
                        char digest[80], path[128];

                        assert_int_equal(sscanf(line, "%*u %*40s ima-sig sha256:%79s %127s", digest, path), 2);
                        if (n == leave_out) {
                                snprintf(refused_path, sizeof(refused_path), "%s", path);
                                snprintf(refused_digest, sizeof(refused_digest), "sha256:%s", digest);
                                continue;
                        }
                        used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\"%s\":[\"%s\"]",
                                                 used > 40 ? "," : "", path, digest);
                }
                used += (size_t)snprintf(text + used, sizeof(text) - used, "}}");
                assert_true(used < sizeof(text));
                assert_int_equal(runtime_policy_parse(text, used, &policy), 0);
                assert_int_equal(ima_replay_init(&replay, TPM2_ALG_SHA256), 0);
                assert_int_equal(ima_replay_set_boot_aggregate(&replay, &pcrs), 0);
                if (leave_out < 0) {
                        assert_int_equal(ima_verify(&replay, (const char *)log, size, 0, policy,
                                                    pcrs.value[IMA_PCR].buffer, verdict),
                                         0);
                        continue;
                }
                assert_error(ima_verify(&replay, (const char *)log, size, 0, policy, pcrs.value[IMA_PCR].buffer, verdict),
                             -EPERM, "not in the runtime policy's digests");
                assert_int_equal(verdict->entry, leave_out);
                assert_string_equal(verdict->path, refused_path);
                assert_string_equal(verdict->digest, refused_digest);
                assert_int_equal(replay.next_entry, 0);
        }
}

/* ---- replay with a runtime policy ---- */

/* A policy listing every synthetic entry but entry `refused` (SIZE_MAX: none). The synthetic
 * log's violation passes only when `allow_violations` (no policy member can allow one). */
static struct runtime_policy *synthetic_policy(size_t refused, const uint8_t *boot_aggregate_digest,
                                               bool allow_violations) {
        static char text[8192];
        struct runtime_policy *policy;
        size_t used = 0;

        used += (size_t)snprintf(text + used, sizeof(text) - used,
                                 "{\"meta\":{\"version\":1},\"excludes\":[\"/var/log/\"],\"ima-buf\":{");
        for (size_t i = 0, n = 0; i < SYNTHETIC_COUNT; i++) {
                char hex[129];
                uint8_t digest[64];

                if (strcmp(synthetic_log[i].template_name, "ima-buf") != 0 || i == refused)
                        continue;
                memset(digest, synthetic_log[i].digest_byte, synthetic_log[i].digest_size);
                to_hex(digest, synthetic_log[i].digest_size, hex);
                used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\"%s\":[\"%s\"]", n++ ? "," : "",
                                         synthetic_log[i].name, hex);
        }
        used += (size_t)snprintf(text + used, sizeof(text) - used, "},\"digests\":{");
        for (size_t i = 0, n = 0; i < SYNTHETIC_COUNT; i++) {
                char hex[129];
                uint8_t digest[64];

                if (strcmp(synthetic_log[i].template_name, "ima-buf") == 0 || i == refused)
                        continue;
                memset(digest, synthetic_log[i].digest_byte, synthetic_log[i].digest_size);
                to_hex(i == 0 && boot_aggregate_digest ? boot_aggregate_digest : digest, synthetic_log[i].digest_size,
                       hex);
                used += (size_t)snprintf(text + used, sizeof(text) - used, "%s\"%s\":[\"%s\"]", n++ ? "," : "",
                                         synthetic_log[i].name, hex);
        }
        used += (size_t)snprintf(text + used, sizeof(text) - used, "}}");
        assert_true(used < sizeof(text));
        assert_int_equal(runtime_policy_parse(text, used, &policy), 0);
        if (allow_violations)
                runtime_policy_allow_violations(policy, true);
        return policy;
}

static void test_replay_policy_allows(void **state) {
        struct replay_fixture *f = *state;
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = synthetic_policy(SIZE_MAX, NULL, true);

        assert_int_equal(ima_verify(&f->replay, f->log.text, f->log.size, 0, policy, f->log.pcr_after[SYNTHETIC_COUNT - 1],
                                    &f->verdict),
                         0);
        assert_int_equal(f->replay.next_entry, SYNTHETIC_COUNT);
}

static void test_replay_policy_refuses(void **state) {
        struct replay_fixture *f = *state;
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = synthetic_policy(6, NULL, true);
        struct ima_replay before = f->replay;

        assert_error(ima_verify(&f->replay, f->log.text, f->log.size, 0, policy, f->log.pcr_after[SYNTHETIC_COUNT - 1],
                                &f->verdict),
                     -EPERM, "IMA entry 6: \"/usr/sbin/sshd\" sha384:0505");
        assert_detail_contains(-EPERM, "not in the runtime policy's digests");
        assert_int_equal(f->verdict.entry, 6);
        assert_string_equal(f->verdict.path, "/usr/sbin/sshd");
        assert_memory_equal(f->verdict.digest, "sha384:050505", 13);
        assert_int_equal(f->verdict.refused, 1);
        assert_memory_equal(&f->replay, &before, sizeof(before));

        /* the quote does not cover entry 6 yet: nothing to refuse, the replay stops at 5 */
        assert_int_equal(ima_verify(&f->replay, f->log.text, f->log.size, 0, policy, f->log.pcr_after[5], &f->verdict), 0);
        assert_int_equal(f->replay.next_entry, 6);
        /* the next quote covers it */
        assert_error(ima_verify(&f->replay, f->log.text + f->log.line_offset[6], f->log.size - f->log.line_offset[6], 6,
                                policy, f->log.pcr_after[SYNTHETIC_COUNT - 1], &f->verdict),
                     -EPERM, "IMA entry 6: ");
        assert_int_equal(f->replay.next_entry, 6);
}

/* The synthetic log's violation is on /var/log/, which the policy excludes: an exclude does
 * not let a violation pass, since its path is not what the quote covers. */
static void test_replay_policy_refuses_violation(void **state) {
        struct replay_fixture *f = *state;
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = synthetic_policy(SIZE_MAX, NULL, false);

        assert_error(ima_verify(&f->replay, f->log.text, f->log.size, 0, policy, f->log.pcr_after[SYNTHETIC_COUNT - 1],
                                &f->verdict),
                     -EPERM, "IMA entry 5: a violation");
        assert_true(f->verdict.violation);
        assert_int_equal(f->verdict.entry, 5);
        assert_int_equal(f->replay.next_entry, 0);
}

/* A violation rewritten by the attested machine to name a listed file with its listed digest:
 * the kernel extended PCR 10 with 0xff bytes whatever the line says, so the log still replays
 * to the quote. It must be refused as a violation (its claimed path not shown), and pass only
 * with the verifier's switch. A violation the quote does not cover yet is neither judged nor
 * counted as verified. */
static void test_replay_rewritten_violation(void **state) {
        struct replay_fixture *f = *state;
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = synthetic_policy(SIZE_MAX, NULL, false);
        /* /usr/bin/bash as the policy lists it (synthetic entry 3), on a violation's line */
        struct synth rewritten = synthetic_log[3];
        const struct synth *entries[] = { &synthetic_log[0], &synthetic_log[1], &synthetic_log[2], &synthetic_log[3],
                                          &rewritten, &synthetic_log[9] };
        uint8_t pcr_after[ELEMENTSOF(entries)][32], pcr[32] = { 0 };
        size_t line_offset[ELEMENTSOF(entries) + 1], size = 0;
        char text[4096];

        rewritten.violation = true;
        for (size_t i = 0; i < ELEMENTSOF(entries); i++) {
                uint8_t extend[32];

                line_offset[i] = size;
                size += synth_line(entries[i], EVP_sha256(), text + size, sizeof(text) - size, extend);
                text[size++] = '\n';
                extend_pcr(EVP_sha256(), pcr, extend);
                memcpy(pcr_after[i], pcr, sizeof(pcr));
        }
        line_offset[ELEMENTSOF(entries)] = size;
        assert_memory_equal(text + line_offset[4], "10 0000000000000000000000000000000000000000 ima-ng sha1:0303", 60);

        /* the quote stops before the violation: entries 0-3 are verified, the violation is not */
        assert_int_equal(ima_verify(&f->replay, text, size, 0, policy, pcr_after[3], &f->verdict), 0);
        assert_int_equal(f->replay.next_entry, 4);
        /* the next quote covers it */
        assert_error(ima_verify(&f->replay, text + line_offset[4], size - line_offset[4], 4, policy,
                                pcr_after[ELEMENTSOF(entries) - 1], &f->verdict),
                     -EPERM, "IMA entry 4: a violation");
        assert_detail_contains(-EPERM, "unsigned text the quote does not cover");
        assert_detail_contains(-EPERM, "ima_violations = allow");
        assert_null(strstr(vm_error_detail(-EPERM), "/usr/bin/bash"));
        assert_true(f->verdict.violation);
        assert_int_equal(f->verdict.entry, 4);
        assert_string_equal(f->verdict.path, "");
        assert_string_equal(f->verdict.digest, "");
        assert_int_equal(f->replay.next_entry, 4);

        /* the verifier's switch, not the line, lets it pass */
        runtime_policy_allow_violations(policy, true);
        assert_int_equal(ima_verify(&f->replay, text + line_offset[4], size - line_offset[4], 4, policy,
                                    pcr_after[ELEMENTSOF(entries) - 1], &f->verdict),
                         0);
        assert_int_equal(f->replay.next_entry, ELEMENTSOF(entries));
        assert_false(f->verdict.violation);
}

/* A digest changed in the policy: the verdict says what the policy allows instead. */
static void test_replay_policy_wrong_digest(void **state) {
        struct replay_fixture *f = *state;
        static const char text[] = "{\"meta\":{\"version\":1},\"digests\":{\"boot_aggregate\":[\"" SHA256_HEX "\"]}}";
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = NULL;

        assert_int_equal(runtime_policy_parse(text, strlen(text), &policy), 0);
        assert_error(ima_verify(&f->replay, f->log.text, f->log.size, 0, policy, f->log.pcr_after[SYNTHETIC_COUNT - 1],
                                &f->verdict),
                     -EPERM, "IMA entry 0: \"boot_aggregate\" sha256:b0b0b0");
        assert_detail_contains(-EPERM, "digest not allowed (digests allows " SHA256_HEX ")");
        assert_string_equal(f->verdict.allowed, SHA256_HEX);
        assert_int_equal(f->verdict.refused, SYNTHETIC_COUNT); /* nothing else is listed */
}

static void test_replay_boot_aggregate(void **state) {
        struct replay_fixture *f = *state;
        _cleanup_(runtime_policy_freep) struct runtime_policy *policy = synthetic_policy(SIZE_MAX, NULL, true);
        struct synth first = synthetic_log[0];
        uint8_t aggregate[32], extend[32], pcr[32] = { 0 };
        struct pcr_values pcrs;
        char line[512];
        size_t len;

        read_pcrread_text(VECTOR("pcrs.txt"), &pcrs);
        assert_int_equal(ima_boot_aggregate(&pcrs, aggregate), 0);
        assert_int_equal(ima_replay_set_boot_aggregate(&f->replay, &pcrs), 0);
        assert_true(f->replay.boot_aggregate_known);
        /* the synthetic log's aggregate (0xb0...) is listed in the policy, but is not what the
         * quoted PCRs 0-9 give */
        assert_error(ima_verify(&f->replay, f->log.text, f->log.size, 0, policy, f->log.pcr_after[SYNTHETIC_COUNT - 1],
                                &f->verdict),
                     -EPERM, "IMA entry 0: \"boot_aggregate\" sha256:b0b0");
        assert_detail_contains(-EPERM, "not the SHA-256 of the quoted PCRs 0-9");
        assert_string_equal(f->verdict.path, "boot_aggregate");
        assert_int_equal(f->replay.next_entry, 0);

        /* the right aggregate passes, though the policy lists only the synthetic one */
        first.digest = aggregate;
        len = synth_line(&first, EVP_sha256(), line, sizeof(line), extend);
        extend_pcr(EVP_sha256(), pcr, extend);
        assert_int_equal(ima_verify(&f->replay, line, len, 0, policy, pcr, &f->verdict), 0);
        assert_int_equal(f->replay.next_entry, 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kernel_lines_template_hash),
                cmocka_unit_test(test_kernel_line_fields),
                cmocka_unit_test(test_synthetic_template_data),
                cmocka_unit_test(test_ima_ng_byte_layout),
                cmocka_unit_test(test_ima_sig_without_signature),
                cmocka_unit_test(test_ima_sig_with_signature),
                cmocka_unit_test(test_ima_buf),
                cmocka_unit_test(test_violation),
                cmocka_unit_test(test_template_hash_mismatch),
                cmocka_unit_test(test_template_data_buffer_too_small),
                cmocka_unit_test(test_hostile_lines),
                cmocka_unit_test(test_hostile_nul_byte),
                cmocka_unit_test(test_hostile_path_length),
                cmocka_unit_test(test_hostile_line_length),
                cmocka_unit_test(test_every_truncation),
                cmocka_unit_test(test_mutated_lines),
                cmocka_unit_test(test_boot_aggregate),
                cmocka_unit_test_setup_teardown(test_replay_whole_log, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_violation_extends_ff, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_incremental_equals_one_call, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_stops_at_match, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_match_before_first_line, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_never_matches, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_wrong_first_entry, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_bad_line_names_entry, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_unterminated_last_line, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_other_pcr, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_truncated_log, replay_setup, replay_teardown),
                cmocka_unit_test(test_replay_sha384_bank),
                cmocka_unit_test(test_replay_sha1_bank),
                cmocka_unit_test(test_replay_init_unsupported_bank),
                cmocka_unit_test(test_real_boot_log),
                cmocka_unit_test(test_real_boot_log_policy),
                cmocka_unit_test_setup_teardown(test_replay_policy_allows, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_policy_refuses, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_policy_refuses_violation, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_rewritten_violation, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_policy_wrong_digest, replay_setup, replay_teardown),
                cmocka_unit_test_setup_teardown(test_replay_boot_aggregate, replay_setup, replay_teardown),
        };

        return cmocka_run_group_tests_name("imalog", tests, NULL, NULL);
}
