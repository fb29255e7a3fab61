#include "imalog.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "encoding.h"
#include "error.h"
#include "hashalg.h"
#include "reader.h"
#include "runtime_policy.h"
#include "writer.h"

#define IMA_PCR_COUNT 24 /* PC Client PCRs 0-23: where an IMA policy rule may send an entry */

/* The kernel's names for the hash algorithms a d-ng digest may carry (hash_algo_name[]), and
 * their digest sizes: the size is what the template data needs, the name is hashed too. */
static const struct ima_hash {
        const char *name;
        size_t size;
} ima_hashes[] = {
        { "sha256", 32 },      { "sha1", 20 },        { "sha384", 48 },   { "sha512", 64 },   { "sha224", 28 },
        { "md5", 16 },         { "rmd160", 20 },      { "sm3", 32 },      { "streebog256", 32 },
        { "streebog512", 64 }, { "sha3-256", 32 },    { "sha3-384", 48 }, { "sha3-512", 64 },
};

/* One column of a line, for parsing and for error details. */
struct ima_column {
        const char *name; /* "PCR", "template-hash", "path", ... */
        const uint8_t *text;
        size_t len;
        size_t offset; /* where it starts in the line */
};

static int ima_column_invalid(const struct ima_column *col, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int ima_column_invalid(const struct ima_column *col, const char *fmt, ...) {
        char reason[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        return vm_error(-EBADMSG, "IMA log line: %s at offset %zu: %s", col->name, col->offset, reason);
}

/* Without a branch per byte: the common case has none. */
static bool ima_has_control(const uint8_t *text, size_t len) {
        uint8_t found = 0;

        for (size_t i = 0; i < len; i++)
                found |= (uint8_t)((text[i] < 0x20) | (text[i] == 0x7f));
        return found;
}

/* Takes the next column: the bytes up to the next space or the end of the line, and the space
 * after it. `*more` says whether a separator preceded it (false: the line ended, the column is
 * missing) and, on return, whether one follows. Hex columns are left to hex_decode() to refuse
 * anything but digits; the others are checked for control characters here. */
static int ima_column_next(struct reader *r, const char *name, bool hex, bool *more, struct ima_column *col) {
        const uint8_t *rest, *space;
        size_t left = reader_left(r);

        *col = (struct ima_column){ .name = name, .offset = r->offset };
        if (!*more)
                return vm_error(-EBADMSG, "IMA log line: missing %s column at offset %zu", name, r->offset);
        if (left == 0)
                return ima_column_invalid(col, "empty column at the end of the line");
        if (reader_bytes(r, 0, &rest, name) < 0) /* where the column starts, within the line */
                return -EBADMSG;
        space = memchr(rest, ' ', left);
        col->len = space ? (size_t)(space - rest) : left;
        if (col->len == 0)
                return ima_column_invalid(col, "empty column (two spaces)");
        if (reader_bytes(r, col->len, &col->text, name) < 0)
                return -EBADMSG;
        /* The kernel prints paths verbatim: a tab or CR here means the line is not the kernel's
         * (or names a file this format cannot carry faithfully). */
        if (!hex && ima_has_control(col->text, col->len))
                for (size_t i = 0; i < col->len; i++)
                        if (col->text[i] < 0x20 || col->text[i] == 0x7f)
                                return ima_column_invalid(col, "control character 0x%02x at column offset %zu",
                                                          col->text[i], i);
        *more = space != NULL;
        if (*more && reader_skip(r, 1, "separator") < 0)
                return -EBADMSG;
        return 0;
}

static bool ima_column_is(const struct ima_column *col, const char *text) {
        size_t len = strlen(text);

        return col->len == len && memcmp(col->text, text, len) == 0;
}

static int ima_parse_pcr(const struct ima_column *col, uint32_t *pcr) {
        uint32_t value = 0;

        /* decimal as the kernel prints it: no sign, no leading zero */
        if (col->len > 2 || (col->len == 2 && col->text[0] == '0'))
                goto bad;
        for (size_t i = 0; i < col->len; i++) {
                if (col->text[i] < '0' || col->text[i] > '9')
                        goto bad;
                value = value * 10 + (uint32_t)(col->text[i] - '0');
        }
        if (value >= IMA_PCR_COUNT)
                goto bad;
        *pcr = value;
        return 0;
bad:
        return ima_column_invalid(col, "\"%.*s\" is not a PCR number 0-%d", (int)(col->len < 8 ? col->len : 8),
                                  (const char *)col->text, IMA_PCR_COUNT - 1);
}

static int ima_parse_hex(const struct ima_column *col, const uint8_t *hex, size_t hex_len, uint8_t *out,
                         size_t cap, size_t *size) {
        int ret = hex_decode((const char *)hex, hex_len, out, cap, size);

        if (ret < 0)
                return ima_column_invalid(col, "%s", vm_error_detail(ret));
        return 0;
}

static int ima_parse_template_hash(const struct ima_column *col, struct ima_entry *entry) {
        static const uint8_t zero[TPM2_SHA1_DIGEST_SIZE];
        size_t size;

        if (col->len != 2 * TPM2_SHA1_DIGEST_SIZE)
                return ima_column_invalid(col, "%zu hex digits, a SHA-1 template hash has %d", col->len,
                                          2 * TPM2_SHA1_DIGEST_SIZE);
        if (ima_parse_hex(col, col->text, col->len, entry->template_hash, sizeof(entry->template_hash), &size) < 0)
                return -EBADMSG;
        entry->violation = memcmp(entry->template_hash, zero, sizeof(zero)) == 0;
        return 0;
}

static int ima_parse_template_name(const struct ima_column *col, struct ima_entry *entry) {
        if (ima_column_is(col, "ima-ng"))
                entry->template_type = IMA_TEMPLATE_NG;
        else if (ima_column_is(col, "ima-sig"))
                entry->template_type = IMA_TEMPLATE_SIG;
        else if (ima_column_is(col, "ima-buf"))
                entry->template_type = IMA_TEMPLATE_BUF;
        else
                return ima_column_invalid(col, "unknown template \"%.*s\" (ima-ng, ima-sig and ima-buf are supported)",
                                          (int)(col->len < 32 ? col->len : 32), (const char *)col->text);
        return 0;
}

/* d-ng as printed: "<alg>:<hex digest>" */
static int ima_parse_digest(const struct ima_column *col, struct ima_entry *entry) {
        const uint8_t *colon = memchr(col->text, ':', col->len);
        const struct ima_hash *hash = NULL;
        size_t alg_len, hex_len;

        if (!colon)
                return ima_column_invalid(col, "no \"<algorithm>:\" before the digest");
        alg_len = (size_t)(colon - col->text);
        hex_len = col->len - alg_len - 1;
        for (size_t i = 0; i < ELEMENTSOF(ima_hashes) && !hash; i++)
                if (strlen(ima_hashes[i].name) == alg_len && memcmp(ima_hashes[i].name, col->text, alg_len) == 0)
                        hash = &ima_hashes[i];
        if (!hash && ima_has_control(col->text, alg_len))
                return ima_column_invalid(col, "control character in the hash algorithm's name");
        if (!hash)
                return ima_column_invalid(col, "unknown hash algorithm \"%.*s\"", (int)(alg_len < 16 ? alg_len : 16),
                                          (const char *)col->text);
        if (hex_len != 2 * hash->size)
                return ima_column_invalid(col, "%zu hex digits, a %s digest has %zu", hex_len, hash->name,
                                          2 * hash->size);
        if (ima_parse_hex(col, colon + 1, hex_len, entry->digest, sizeof(entry->digest), &entry->digest_size) < 0)
                return -EBADMSG;
        entry->digest_alg = hash->name;
        return 0;
}

static int ima_parse_name(const struct ima_column *col, struct ima_entry *entry) {
        if (col->len > IMA_PATH_MAX)
                return ima_column_invalid(col, "%zu bytes, at most %d", col->len, IMA_PATH_MAX);
        entry->name = (const char *)col->text;
        entry->name_len = col->len;
        return 0;
}

int ima_entry_parse(const char *line, size_t len, struct ima_entry *out) {
        struct ima_column col;
        struct reader r;
        bool more = true;

        out->data_size = 0;
        if (len == 0)
                return vm_error(-EBADMSG, "IMA log line: empty line");
        if (len > IMA_LINE_MAX)
                return vm_error(-EBADMSG, "IMA log line: %zu bytes, at most %d", len, IMA_LINE_MAX);
        reader_init(&r, line, len, "IMA log line");
        if (ima_column_next(&r, "PCR", false, &more, &col) < 0 || ima_parse_pcr(&col, &out->pcr) < 0)
                return -EBADMSG;
        if (ima_column_next(&r, "template-hash", true, &more, &col) < 0 || ima_parse_template_hash(&col, out) < 0)
                return -EBADMSG;
        if (ima_column_next(&r, "template-name", false, &more, &col) < 0 || ima_parse_template_name(&col, out) < 0)
                return -EBADMSG;
        if (ima_column_next(&r, "digest", true, &more, &col) < 0 || ima_parse_digest(&col, out) < 0)
                return -EBADMSG;
        if (ima_column_next(&r, out->template_type == IMA_TEMPLATE_BUF ? "name" : "path", false, &more, &col) < 0 ||
            ima_parse_name(&col, out) < 0)
                return -EBADMSG;

        switch (out->template_type) {
        case IMA_TEMPLATE_NG:
                break;
        case IMA_TEMPLATE_SIG:
                /* unsigned: the kernel prints the separator and an empty column; accept the
                 * line without that trailing space as well */
                if (!more || reader_left(&r) == 0)
                        return 0;
                if (ima_column_next(&r, "signature", true, &more, &col) < 0 ||
                    ima_parse_hex(&col, col.text, col.len, out->data, sizeof(out->data), &out->data_size) < 0)
                        return -EBADMSG;
                break;
        case IMA_TEMPLATE_BUF:
                if (!more)
                        return vm_error(-EBADMSG, "IMA log line: missing buffer column at offset %zu", r.offset);
                if (reader_left(&r) == 0) /* an empty buffer, printed as an empty column */
                        return 0;
                if (ima_column_next(&r, "buffer", true, &more, &col) < 0 ||
                    ima_parse_hex(&col, col.text, col.len, out->data, sizeof(out->data), &out->data_size) < 0)
                        return -EBADMSG;
                break;
        }
        if (more)
                return vm_error(-EBADMSG, "IMA log line: unexpected column at offset %zu, after the last of the %s template",
                                r.offset, out->template_type == IMA_TEMPLATE_NG    ? "ima-ng"
                                          : out->template_type == IMA_TEMPLATE_SIG ? "ima-sig"
                                                                                   : "ima-buf");
        return 0;
}

int ima_entry_template_data(const struct ima_entry *entry, uint8_t *out, size_t cap, size_t *size) {
        size_t alg_len = strlen(entry->digest_alg);
        struct writer w;

        writer_init(&w, out, cap);
        /* d-ng: "<alg>:" and its NUL, then the digest */
        writer_u32le(&w, (uint32_t)(alg_len + 2 + entry->digest_size));
        writer_bytes(&w, entry->digest_alg, alg_len);
        writer_bytes(&w, ":", 2);
        writer_bytes(&w, entry->digest, entry->digest_size);
        /* n-ng: the name and its NUL */
        writer_u32le(&w, (uint32_t)(entry->name_len + 1));
        writer_bytes(&w, entry->name, entry->name_len);
        writer_u8(&w, 0);
        /* sig or buf */
        if (entry->template_type != IMA_TEMPLATE_NG) {
                writer_u32le(&w, (uint32_t)entry->data_size);
                writer_bytes(&w, entry->data, entry->data_size);
        }
        if (w.failed)
                return vm_error(-ENOBUFS, "IMA template data: more than %zu bytes", cap);
        *size = w.offset;
        return 0;
}

static int ima_template_hash_mismatch(const struct ima_entry *entry, const uint8_t *computed) {
        char column[2 * TPM2_SHA1_DIGEST_SIZE + 1], rebuilt[2 * TPM2_SHA1_DIGEST_SIZE + 1];

        for (size_t i = 0; i < TPM2_SHA1_DIGEST_SIZE; i++) {
                snprintf(column + 2 * i, 3, "%02x", entry->template_hash[i]);
                snprintf(rebuilt + 2 * i, 3, "%02x", computed[i]);
        }
        return vm_error(-EBADMSG, "IMA log line: template-hash %s is not the SHA-1 of the template data (%s)", column,
                        rebuilt);
}

int ima_entry_check_template_hash(const struct ima_entry *entry, const uint8_t *data, size_t size) {
        uint8_t computed[TPM2_SHA1_DIGEST_SIZE];
        int ret = hashalg_digest(TPM2_ALG_SHA1, data, size, computed);

        if (ret < 0)
                return ret;
        if (memcmp(computed, entry->template_hash, sizeof(computed)) != 0)
                return ima_template_hash_mismatch(entry, computed);
        return 0;
}

int ima_boot_aggregate(const struct pcr_values *pcrs0_9, uint8_t out[TPM2_SHA256_DIGEST_SIZE]) {
        struct pcr_values first_ten = *pcrs0_9;
        const uint32_t mask = (1u << 10) - 1;

        if (pcrs0_9->bank != TPM2_ALG_SHA256)
                return vm_error(-EINVAL, "boot_aggregate: PCRs of bank %s, the SHA-256 bank is needed",
                                hashalg_name(pcrs0_9->bank) ? hashalg_name(pcrs0_9->bank) : "?");
        if ((pcrs0_9->mask & mask) != mask)
                return vm_error(-EINVAL, "boot_aggregate: PCRs 0-9 are needed (mask 0x%08x)", pcrs0_9->mask);
        for (unsigned i = 0; i < 10; i++)
                if (pcrs0_9->value[i].size != TPM2_SHA256_DIGEST_SIZE)
                        return vm_error(-EINVAL, "boot_aggregate: PCR %u has %u bytes, not 32", i,
                                        pcrs0_9->value[i].size);
        /* the kernel hashes PCRs 0-9 in order: H(PCR0 || ... || PCR9) is pcr_values_digest() of
         * that selection */
        first_ten.mask = mask;
        return pcr_values_digest(&first_ten, out);
}

int ima_replay_init(struct ima_replay *state, TPM2_ALG_ID bank) {
        memset(state, 0, sizeof(*state));
        if (!hashalg_size(bank))
                return vm_error(-EINVAL, "IMA replay: unsupported PCR bank 0x%04x", bank);
        state->bank = bank;
        return 0;
}

int ima_replay_set_boot_aggregate(struct ima_replay *state, const struct pcr_values *pcrs0_9) {
        int ret = ima_boot_aggregate(pcrs0_9, state->boot_aggregate);

        state->boot_aggregate_known = ret == 0;
        return ret;
}

/* The digests one replay needs, fetched once per call and reused line after line: an EVP
 * context re-initialised with the same fetched digest keeps its state allocated (a legacy
 * EVP_sha256() would be fetched again at every init, at twice the cost of the hash). */
struct ima_hasher {
        EVP_MD *sha1_md, *bank_md;
        EVP_MD_CTX *sha1, *bank;
        size_t bank_size;
};

static void ima_hasher_done(struct ima_hasher *h) {
        EVP_MD_CTX_free(h->sha1);
        EVP_MD_CTX_free(h->bank);
        EVP_MD_free(h->sha1_md);
        EVP_MD_free(h->bank_md);
}

static int ima_hasher_init(struct ima_hasher *h, TPM2_ALG_ID bank) {
        *h = (struct ima_hasher){ .bank_size = hashalg_size(bank) };
        if (!h->bank_size)
                return vm_error(-EINVAL, "IMA replay: unsupported PCR bank 0x%04x", bank);
        h->sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
        h->bank_md = EVP_MD_fetch(NULL, hashalg_name(bank), NULL);
        h->sha1 = EVP_MD_CTX_new();
        h->bank = EVP_MD_CTX_new();
        if (!h->sha1_md || !h->bank_md || !h->sha1 || !h->bank) {
                ima_hasher_done(h);
                return vm_error(-ENOMEM, "IMA replay: cannot set up the %s and SHA-1 digests", hashalg_name(bank));
        }
        return 0;
}

static int ima_hash(EVP_MD_CTX *ctx, const EVP_MD *md, const void *a, size_t a_size, const void *b, size_t b_size,
                    uint8_t *out) {
        if (!EVP_DigestInit_ex2(ctx, md, NULL) || !EVP_DigestUpdate(ctx, a, a_size) ||
            (b_size && !EVP_DigestUpdate(ctx, b, b_size)) || !EVP_DigestFinal_ex(ctx, out, NULL))
                return vm_error(-EIO, "OpenSSL digest failed");
        return 0;
}

static void ima_hex(const uint8_t *data, size_t size, char *out, size_t cap) {
        out[0] = '\0';
        for (size_t i = 0; i < size && 2 * i + 2 < cap; i++)
                snprintf(out + 2 * i, 3, "%02x", data[i]);
}

static void ima_verdict_entry(struct ima_verdict *verdict, uint64_t number, const struct ima_entry *entry) {
        size_t len = entry->name_len < IMA_PATH_MAX ? entry->name_len : IMA_PATH_MAX;
        size_t used;

        verdict->entry = number;
        memcpy(verdict->path, entry->name, len);
        verdict->path[len] = '\0';
        used = (size_t)snprintf(verdict->digest, sizeof(verdict->digest), "%s:", entry->digest_alg);
        ima_hex(entry->digest, entry->digest_size, verdict->digest + used, sizeof(verdict->digest) - used);
}

/* One line: parse, check the template hash, build what PCR 10 is extended with. `data` is a
 * scratch buffer of IMA_TEMPLATE_DATA_MAX bytes. The policy's lookup for the entry is fetched
 * into the cache in two steps while the hashes are computed: it costs as much as they do when
 * it waits for memory. */
static int ima_replay_line(struct ima_hasher *h, const char *line, size_t len, struct ima_entry *entry,
                           uint8_t *data, uint8_t *extend, const struct runtime_policy *policy) {
        uint8_t sha1[TPM2_SHA1_DIGEST_SIZE];
        size_t size;
        int ret;

        ret = ima_entry_parse(line, len, entry);
        if (ret < 0)
                return ret;
        if (policy)
                runtime_policy_prefetch(policy, entry, false);
        if (entry->pcr != IMA_PCR)
                return vm_error(-EBADMSG, "IMA log line: an entry for PCR %u (only PCR %d is replayed)", entry->pcr,
                                IMA_PCR);
        if (entry->violation) {
                memset(extend, 0xff, h->bank_size);
                return 0;
        }
        ret = ima_entry_template_data(entry, data, IMA_TEMPLATE_DATA_MAX, &size);
        if (ret >= 0)
                ret = ima_hash(h->sha1, h->sha1_md, data, size, NULL, 0, sha1);
        if (ret < 0)
                return ret;
        if (memcmp(sha1, entry->template_hash, sizeof(sha1)) != 0)
                return ima_template_hash_mismatch(entry, sha1);
        if (policy)
                runtime_policy_prefetch(policy, entry, true);
        if (h->bank_size == TPM2_SHA1_DIGEST_SIZE) {
                memcpy(extend, sha1, sizeof(sha1));
                return 0;
        }
        return ima_hash(h->bank, h->bank_md, data, size, NULL, 0, extend);
}

/* The next line of the log: at most IMA_LINE_MAX bytes, without its newline. */
static int ima_next_line(struct reader *r, const char **line, size_t *len) {
        size_t left = reader_left(r), scan = left < IMA_LINE_MAX + 1 ? left : IMA_LINE_MAX + 1;
        const uint8_t *start, *newline;

        if (reader_bytes(r, 0, &start, "line") < 0)
                return -EBADMSG;
        newline = memchr(start, '\n', scan);
        *len = newline ? (size_t)(newline - start) : scan;
        if (*len > IMA_LINE_MAX)
                return vm_error(-EBADMSG, "IMA log line: more than %d bytes", IMA_LINE_MAX);
        if (reader_bytes(r, *len, &start, "line") < 0 || (newline && reader_skip(r, 1, "newline") < 0))
                return -EBADMSG;
        *line = (const char *)start;
        return 0;
}

int ima_verify(struct ima_replay *state, const char *log, size_t size, uint64_t first_entry,
               const struct runtime_policy *policy, const uint8_t *quoted_pcr10, struct ima_verdict *verdict) {
        _cleanup_(freep) struct ima_entry *entry = NULL;
        _cleanup_(freep) uint8_t *data = NULL;
        const uint8_t *boot_aggregate = state->boot_aggregate_known ? state->boot_aggregate : NULL;
        uint8_t run[64], extend[64], matched_run[64];
        uint64_t number = first_entry, matched_next = 0, first_refused = 0, refused = 0;
        bool matched, refused_before_match = false;
        struct ima_hasher h;
        struct reader r;
        char detail[512] = "";
        int ret;

        memset(verdict, 0, sizeof(*verdict));
        if (first_entry != state->next_entry)
                return vm_error(-EBADMSG, "IMA log starts at entry %llu, the replay stands at entry %llu",
                                (unsigned long long)first_entry, (unsigned long long)state->next_entry);
        ret = ima_hasher_init(&h, state->bank);
        if (ret < 0)
                return ret;
        entry = malloc(sizeof(*entry));
        data = malloc(IMA_TEMPLATE_DATA_MAX);
        if (!entry || !data) {
                ima_hasher_done(&h);
                return -ENOMEM;
        }

        memcpy(run, state->pcr10, h.bank_size);
        /* the quote may cover none of the new lines yet */
        matched = memcmp(run, quoted_pcr10, h.bank_size) == 0;
        if (matched) {
                memcpy(matched_run, run, h.bank_size);
                matched_next = first_entry;
        }
        reader_init(&r, size ? log : "", size, "IMA log");
        while (reader_left(&r) > 0) {
                struct runtime_policy_refusal refusal;
                const char *line = NULL;
                size_t len = 0;

                ret = ima_next_line(&r, &line, &len);
                if (ret >= 0)
                        ret = ima_replay_line(&h, line, len, entry, data, extend, policy);
                if (ret < 0) {
                        verdict->entry = number;
                        ret = vm_error(ret, "IMA entry %llu: %s", (unsigned long long)number, vm_error_detail(ret));
                        goto out;
                }
                ret = ima_hash(h.bank, h.bank_md, run, h.bank_size, extend, h.bank_size, run);
                if (ret < 0)
                        goto out;
                /* after the hashing, by which time the policy's table has reached the cache */
                if (policy && runtime_policy_check(policy, entry, boot_aggregate, &refusal) < 0) {
                        /* keep the first refusal; report it only if the quote covers it */
                        if (refused++ == 0) {
                                first_refused = number;
                                verdict->violation = entry->violation;
                                if (!entry->violation) /* a violation's path and digest are bound to nothing */
                                        ima_verdict_entry(verdict, number, entry);
                                snprintf(verdict->allowed, sizeof(verdict->allowed), "%s", refusal.allowed);
                                snprintf(detail, sizeof(detail), "%s", vm_error_detail(-EPERM));
                        }
                }
                number++;
                if (memcmp(run, quoted_pcr10, h.bank_size) == 0) {
                        matched = true;
                        memcpy(matched_run, run, h.bank_size);
                        matched_next = number;
                        verdict->refused = refused;
                        refused_before_match = refused > 0;
                }
        }

        if (!matched) {
                char quoted[2 * 64 + 1];

                ima_hex(quoted_pcr10, h.bank_size, quoted, sizeof(quoted));
                memset(verdict, 0, sizeof(*verdict));
                ima_hex(run, h.bank_size, verdict->pcr10, sizeof(verdict->pcr10));
                if (number > first_entry) {
                        verdict->entry = number - 1;
                        ima_verdict_entry(verdict, number - 1, entry);
                        ret = vm_error(-EBADMSG, "IMA log entries %llu-%llu never replay to the quoted PCR %d: "
                                       "after entry %llu %s is %s, the quote has %s (last path \"%.80s\")",
                                       (unsigned long long)first_entry, (unsigned long long)(number - 1), IMA_PCR,
                                       (unsigned long long)(number - 1), hashalg_name(state->bank), verdict->pcr10,
                                       quoted, verdict->path);
                } else {
                        verdict->entry = first_entry;
                        ret = vm_error(-EBADMSG, "IMA log from entry %llu is empty and PCR %d %s is %s, the quote has %s",
                                       (unsigned long long)first_entry, IMA_PCR, hashalg_name(state->bank),
                                       verdict->pcr10, quoted);
                }
                goto out;
        }
        if (refused_before_match) {
                verdict->entry = first_refused;
                ret = vm_error(-EPERM, "IMA entry %llu: %s", (unsigned long long)first_refused, detail);
                goto out;
        }
        memset(verdict, 0, sizeof(*verdict));
        memcpy(state->pcr10, matched_run, h.bank_size);
        state->next_entry = matched_next;
        ret = 0;
out:
        ima_hasher_done(&h);
        return ret;
}
