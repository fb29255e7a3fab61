/* Helpers the unit tests share: the vectors under tests/unit/vectors/ (made by make-vectors.sh),
 * the PCR values tpm2_pcrread printed for them, checks on vm_error() details and a seeded PRNG
 * for the hostile-input loops. Header-only, so that every test-<module>.c stays one standalone
 * cmocka program; the tests run from the repository root, where the vector paths resolve. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_tpm2_types.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/pcr_values.h"

#define VECTOR(name) "tests/unit/vectors/" name

/* Fails the test unless the last vm_error() detail contains `word`. A macro, so that cmocka
 * reports the line of the check that failed. */
#define assert_detail_contains(ret, word)                                                            \
        do {                                                                                         \
                const char *detail_ = vm_error_detail(ret);                                          \
                if (!strstr(detail_, (word)))                                                        \
                        fail_msg("error detail \"%s\" does not contain \"%s\"", detail_, (word));     \
        } while (0)

/* `call` must fail with exactly `code` and record a detail containing `word`. The detail is
 * cleared first, so that one left behind by an earlier call cannot satisfy the check. */
#define assert_error(call, code, word)                 \
        do {                                           \
                int ret_;                              \
                                                       \
                vm_error_clear();                      \
                ret_ = (call);                         \
                assert_int_equal(ret_, (code));        \
                assert_detail_contains(ret_, (word));  \
        } while (0)

/* A file of the test's own under /tmp: `pattern` ("/tmp/vmattest-test-NAME-XXXXXX") made unique
 * into `path`, the file created empty. */
static inline void test_file_create(char *path, size_t size, const char *pattern) {
        int fd;

        snprintf(path, size, "%s", pattern);
        fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
}

/* `text` written as the whole of the file `path`. */
static inline void test_file_write(const char *path, const char *text) {
        _cleanup_(fclosep) FILE *file = fopen(path, "w");

        assert_non_null(file);
        assert_true(fputs(text, file) >= 0);
        assert_int_equal(fflush(file), 0);
}

/* `ret`, what loading the file `path` that holds `text` returned, is -EINVAL with a detail
 * "<path>:<line>: ..." that contains `word`: the error names the file, the line and the key. */
static inline void assert_conf_fails(int ret, const char *path, const char *text, unsigned line, const char *word) {
        const char *detail = vm_error_detail(ret);
        char where[128];

        snprintf(where, sizeof(where), "%s:%u: ", path, line);
        if (ret != -EINVAL || !strstr(detail, where) || !strstr(detail, word))
                fail_msg("file \"%s\": got %d \"%s\"; want %d with \"%s\" and \"%s\"", text, ret, detail, -EINVAL,
                         where, word);
}

/* The whole file, malloc'ed (NUL-terminated for text files; the NUL is not counted). */
static inline uint8_t *read_vector(const char *path, size_t *size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "rb");
        uint8_t *data;
        long length;

        if (!f)
                fail_msg("cannot open %s (run the tests from the repository root)", path);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        length = ftell(f);
        assert_true(length >= 0);
        rewind(f);
        data = malloc((size_t)length + 1);
        assert_non_null(data);
        assert_int_equal(fread(data, 1, (size_t)length, f), (size_t)length);
        data[length] = 0;
        *size = (size_t)length;
        return data;
}

/* Everything written to `tmp` (a tmpfile() a test redirected output to), as a string; closes
 * `tmp`. */
static inline char *read_back(FILE *tmp) {
        long size = ftell(tmp);
        char *text;

        assert_true(size >= 0);
        text = calloc(1, (size_t)size + 1);
        assert_non_null(text);
        rewind(tmp);
        assert_int_equal(fread(text, 1, (size_t)size, tmp), (size_t)size);
        fclose(tmp);
        return text;
}

/* Like read_vector(), into a caller's buffer of `cap` bytes. */
static inline size_t load_vector(const char *path, void *out, size_t cap) {
        _cleanup_(freep) uint8_t *data = NULL;
        size_t size;

        data = read_vector(path, &size);
        assert_true(size <= cap);
        memcpy(out, data, size);
        return size;
}

/* tpm2_pcrread's text output (pcrs.txt): a "  sha256:" line, then one "    N : 0xHEX" line per
 * PCR. Parsed here by hand rather than with lib/ code, so that the vector tests compare the
 * code under test against an independent reading of what the TPM said. */
static inline void read_pcrread_text(const char *path, struct pcr_values *pcrs) {
        _cleanup_(fclosep) FILE *f = fopen(path, "r");
        char line[256];

        memset(pcrs, 0, sizeof(*pcrs));
        if (!f)
                fail_msg("cannot open %s (run the tests from the repository root)", path);
        while (fgets(line, sizeof(line), f)) {
                char bank[16], hex[2 * sizeof(TPMU_HA) + 1];
                unsigned pcr;

                if (sscanf(line, " %u : 0x%128[0-9A-Fa-f]", &pcr, hex) == 2) {
                        size_t len = strlen(hex);

                        assert_true(pcr < PCR_MAX);
                        assert_int_equal(len % 2, 0);
                        pcrs->mask |= 1u << pcr;
                        pcrs->value[pcr].size = (UINT16)(len / 2);
                        for (size_t i = 0; i < len / 2; i++)
                                assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &pcrs->value[pcr].buffer[i]), 1);
                } else if (sscanf(line, " %15[a-z0-9]:", bank) == 1) {
                        assert_int_equal(pcrs->bank, 0); /* one bank per file */
                        pcrs->bank = strcmp(bank, "sha1") == 0     ? TPM2_ALG_SHA1
                                     : strcmp(bank, "sha256") == 0 ? TPM2_ALG_SHA256
                                     : strcmp(bank, "sha384") == 0 ? TPM2_ALG_SHA384
                                     : strcmp(bank, "sha512") == 0 ? TPM2_ALG_SHA512
                                                                   : TPM2_ALG_ERROR;
                        assert_int_not_equal(pcrs->bank, TPM2_ALG_ERROR);
                }
        }
        assert_int_not_equal(pcrs->mask, 0);
}

/* Only the PCRs in `mask` of `all`: a quote over fewer PCRs than pcrs.txt lists. */
static inline void pcr_values_subset(const struct pcr_values *all, uint32_t mask, struct pcr_values *out) {
        memset(out, 0, sizeof(*out));
        out->bank = all->bank;
        out->mask = mask;
        for (unsigned i = 0; i < PCR_MAX; i++)
                if (mask & (1u << i)) {
                        assert_true(all->mask & (1u << i));
                        out->value[i] = all->value[i];
                }
}

/* Compares bank, mask and each selected value (not the unused slots). */
#define assert_pcr_values_equal(a, b)                                                                \
        do {                                                                                         \
                assert_int_equal((a)->bank, (b)->bank);                                              \
                assert_int_equal((a)->mask, (b)->mask);                                              \
                for (unsigned pcr_ = 0; pcr_ < PCR_MAX; pcr_++) {                                    \
                        if (!((a)->mask & (1u << pcr_)))                                             \
                                continue;                                                            \
                        assert_int_equal((a)->value[pcr_].size, (b)->value[pcr_].size);              \
                        assert_memory_equal((a)->value[pcr_].buffer, (b)->value[pcr_].buffer,        \
                                            (a)->value[pcr_].size);                                  \
                }                                                                                    \
        } while (0)

/* xorshift64*: with a fixed seed every run feeds the parsers the same "random" input, so that a
 * failure found here can be replayed. */
static inline uint64_t prng_next(uint64_t *state) {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        return *state * 0x2545f4914f6cdd1dULL;
}

static inline void prng_fill(uint64_t *state, void *buf, size_t size) {
        uint8_t *bytes = buf;

        for (size_t i = 0; i < size; i++)
                bytes[i] = (uint8_t)(prng_next(state) >> 32);
}

/* Flips 1-4 random bytes of `buf` (a valid vector), which reaches deeper into a parser than
 * uniformly random input, most of which fails at the first field. */
static inline void prng_mutate(uint64_t *state, uint8_t *buf, size_t size) {
        unsigned flips = 1 + (unsigned)(prng_next(state) % 4);

        for (unsigned i = 0; i < flips && size; i++)
                buf[prng_next(state) % size] ^= (uint8_t)(1 + prng_next(state) % 255);
}

#define FUZZ_SEED 0x766d617474657374ULL /* "vmattest" */
#define FUZZ_ITERATIONS 4000
