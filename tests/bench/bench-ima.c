/* IMA replay throughput of the verifier (target in tests/bench/bench.sh: >= 1M entries/s on one
 * core, SHA-256 bound).
 * Generates a synthetic ima-ng log of 1M entries (SHA-256 file digests, paths like
 * /usr/lib/x86_64-linux-gnu/libfoo-123456.so.1, 100k distinct) and a runtime policy of those
 * 100k paths, then times ima_verify() over the whole log, policy checks included, against the
 * same run's reference: SHA-256 over each entry's template data twice, as many hashes as the
 * replay needs besides its SHA-1 and parsing. Runs alternate so that machine noise hits both;
 * the best of each is printed as one line:
 *   ima_replay_entries_per_s N sha256_reference_entries_per_s M ratio N/M
 * Usage: bench-ima [entries [paths [runs]]]   (details on stderr) */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "lib/imalog.h"
#include "lib/runtime_policy.h"

#define PATH_FORMAT "/usr/lib/x86_64-linux-gnu/libfoo-%06u.so.1"

struct bench {
        size_t entries, paths;
        char *log;                 /* the ASCII log */
        size_t log_size;
        uint8_t *template_data;    /* every entry's template data, back to back */
        size_t *data_offset;       /* entries + 1 offsets into template_data */
        char *policy_text;
        size_t policy_size;
        uint8_t pcr10[32];         /* PCR 10 after the whole log */
};

static void die(const char *what) {
        fprintf(stderr, "bench-ima: %s\n", what);
        exit(1);
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void hex(const uint8_t *data, size_t size, char *out) {
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < size; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 0xf];
        }
        out[2 * size] = '\0';
}

/* The file digest of path number `n`: any fixed function of n will do. */
static void file_digest(unsigned n, uint8_t digest[32]) {
        if (!EVP_Digest(&n, sizeof(n), digest, NULL, EVP_sha256(), NULL))
                die("digest failed");
}

/* ima-ng template data (docs/protocol.md §7), written out here rather than with lib/ */
static size_t template_data(const uint8_t digest[32], const char *path, size_t path_len, uint8_t *out) {
        uint32_t d_len = 7 + 1 + 32, n_len = (uint32_t)path_len + 1;
        size_t used = 0;

        for (int i = 0; i < 4; i++)
                out[used++] = (uint8_t)(d_len >> (8 * i));
        memcpy(out + used, "sha256:", 8); /* with its NUL */
        used += 8;
        memcpy(out + used, digest, 32);
        used += 32;
        for (int i = 0; i < 4; i++)
                out[used++] = (uint8_t)(n_len >> (8 * i));
        memcpy(out + used, path, n_len); /* with its NUL */
        return used + n_len;
}

static void generate(struct bench *b) {
        size_t log_cap = b->entries * 180, data_cap = b->entries * 100, policy_cap = b->paths * 140 + 64;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t pcr[32] = { 0 };
        size_t data_used = 0;

        b->log = malloc(log_cap);
        b->template_data = malloc(data_cap);
        b->data_offset = malloc((b->entries + 1) * sizeof(*b->data_offset));
        b->policy_text = malloc(policy_cap);
        if (!b->log || !b->template_data || !b->data_offset || !b->policy_text || !ctx)
                die("out of memory");

        b->log_size = 0;
        for (size_t i = 0; i < b->entries; i++) {
                /* the log visits the policy's paths in an order unrelated to the policy's own,
                 * as a real log does */
                unsigned n = (unsigned)(i * 48271 % b->paths);
                uint8_t digest[32], sha1[20], extend[32], *data = b->template_data + data_used;
                char path[64], digest_hex[65], sha1_hex[41];
                int path_len = snprintf(path, sizeof(path), PATH_FORMAT, n);
                size_t size;

                file_digest(n, digest);
                size = template_data(digest, path, (size_t)path_len, data);
                b->data_offset[i] = data_used;
                data_used += size;
                if (!EVP_Digest(data, size, sha1, NULL, EVP_sha1(), NULL) ||
                    !EVP_Digest(data, size, extend, NULL, EVP_sha256(), NULL) ||
                    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, pcr, 32) ||
                    !EVP_DigestUpdate(ctx, extend, 32) || !EVP_DigestFinal_ex(ctx, pcr, NULL))
                        die("digest failed");
                hex(digest, 32, digest_hex);
                hex(sha1, 20, sha1_hex);
                b->log_size += (size_t)snprintf(b->log + b->log_size, log_cap - b->log_size,
                                                "10 %s ima-ng sha256:%s %s\n", sha1_hex, digest_hex, path);
        }
        b->data_offset[b->entries] = data_used;
        memcpy(b->pcr10, pcr, sizeof(pcr));

        b->policy_size = (size_t)snprintf(b->policy_text, policy_cap,
                                          "{\"meta\":{\"version\":1,\"generator\":0},\"release\":0,\"digests\":{");
        for (unsigned n = 0; n < b->paths; n++) {
                uint8_t digest[32];
                char digest_hex[65], path[64];

                file_digest(n, digest);
                hex(digest, 32, digest_hex);
                snprintf(path, sizeof(path), PATH_FORMAT, n);
                b->policy_size += (size_t)snprintf(b->policy_text + b->policy_size, policy_cap - b->policy_size,
                                                   "%s\"%s\":[\"%s\"]", n ? "," : "", path, digest_hex);
        }
        b->policy_size += (size_t)snprintf(b->policy_text + b->policy_size, policy_cap - b->policy_size,
                                           "},\"excludes\":[\"/tmp/\"],\"keyrings\":{},\"ima\":{\"ignored_keyrings\":[],"
                                           "\"log_hash_alg\":\"sha1\",\"dm_policy\":null},\"ima-buf\":{},"
                                           "\"verification-keys\":\"\"}");
        EVP_MD_CTX_free(ctx);
}

static double time_replay(const struct bench *b, const struct runtime_policy *policy) {
        struct ima_verdict *verdict = malloc(sizeof(*verdict));
        struct ima_replay state;
        double start, elapsed;
        int ret;

        if (!verdict || ima_replay_init(&state, TPM2_ALG_SHA256) < 0)
                die("replay setup failed");
        start = now();
        ret = ima_verify(&state, b->log, b->log_size, 0, policy, b->pcr10, verdict);
        elapsed = now() - start;
        if (ret < 0) {
                fprintf(stderr, "bench-ima: %s\n", vm_error_detail(ret));
                exit(1);
        }
        if (state.next_entry != b->entries)
                die("the replay did not reach the last entry");
        free(verdict);
        return elapsed;
}

/* SHA-256 over each entry's template data, twice, with a fetched digest and one context: the
 * cheapest way OpenSSL's EVP offers, as the replay uses it. */
static double time_reference(const struct bench *b) {
        EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        uint8_t out[32], sink = 0;
        double start, elapsed;

        if (!md || !ctx)
                die("out of memory");
        start = now();
        for (size_t i = 0; i < b->entries; i++) {
                const uint8_t *data = b->template_data + b->data_offset[i];
                size_t size = b->data_offset[i + 1] - b->data_offset[i];

                for (int pass = 0; pass < 2; pass++) {
                        if (!EVP_DigestInit_ex2(ctx, md, NULL) || !EVP_DigestUpdate(ctx, data, size) ||
                            !EVP_DigestFinal_ex(ctx, out, NULL))
                                die("digest failed");
                        sink ^= out[pass];
                }
        }
        elapsed = now() - start;
        EVP_MD_CTX_free(ctx);
        EVP_MD_free(md);
        if (sink == 0x5a && elapsed < 0) /* keeps the loop's results alive */
                puts("");
        return elapsed;
}

int main(int argc, char **argv) {
        struct bench b = { .entries = 1000000, .paths = 100000 };
        struct runtime_policy *policy;
        double best_replay = 1e30, best_reference = 1e30, start, load;
        int runs = 5, ret;

        if (argc > 1)
                b.entries = strtoul(argv[1], NULL, 10);
        if (argc > 2)
                b.paths = strtoul(argv[2], NULL, 10);
        if (argc > 3)
                runs = atoi(argv[3]);
        if (b.entries == 0 || b.paths == 0 || b.paths > 1000000 || runs < 1)
                die("usage: bench-ima [entries [paths [runs]]]");

        generate(&b);
        start = now();
        ret = runtime_policy_parse(b.policy_text, b.policy_size, &policy);
        load = now() - start;
        if (ret < 0) {
                fprintf(stderr, "bench-ima: %s\n", vm_error_detail(ret));
                return 1;
        }
        fprintf(stderr, "bench-ima: %zu entries (%.1f MB of log), policy of %zu paths (%.1f MB of JSON, loaded in %.3f s)\n",
                b.entries, (double)b.log_size / 1e6, b.paths, (double)b.policy_size / 1e6, load);
        for (int run = 0; run < runs; run++) {
                double replay = time_replay(&b, policy), reference = time_reference(&b);

                fprintf(stderr, "bench-ima: run %d: replay %.3f s, reference %.3f s\n", run + 1, replay, reference);
                if (replay < best_replay)
                        best_replay = replay;
                if (reference < best_reference)
                        best_reference = reference;
        }
        printf("ima_replay_entries_per_s %.0f sha256_reference_entries_per_s %.0f ratio %.2f\n",
               (double)b.entries / best_replay, (double)b.entries / best_reference, best_reference / best_replay);
        runtime_policy_free(policy);
        free(b.log);
        free(b.template_data);
        free(b.data_offset);
        free(b.policy_text);
        return 0;
}
