/* A property of vmattest's PCR 15 log (lib/measurement_log.h, docs/pcr15.md): nothing signs the
 * log, only PCR 15, so an edit that keeps the log replaying to the genuine PCR 15 must keep what
 * the log says. The harness writes genuine logs with measurement_log_header/measurement_record
 * (the agent's records: root-identity, key-released, leave-initrd, an event nobody defined, in
 * one to three banks) and replays them once; the input picks one (first byte) and edits its
 * records: 4 bytes an edit (what, record, offset, a byte): overwrite, insert or delete bytes,
 * delete, duplicate or swap a record, relabel its type (EV_NO_ACTION above all: it extends
 * nothing) or its PCR, splice in a genuine record of another log, cut the log short.
 * Invariant: when the edited log replays (measurement_log_replay) to the genuine PCR 15, it
 * records the same: above all an attacker who hides a key release or the leave-initrd from the
 * verifier (releases back to 0, left_initrd false) has broken the release rule; and then the
 * same records, the same first release and the same leave-initrd record. */
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/measurement_log.h"
#include "tests/fuzz/input.h"

#define AGENT_ID "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define RECORD_CAP 512
#define RECORDS_MAX 12
#define EDITS_MAX 64

struct event {
        const char *name, *data;
};

struct record {
        uint8_t bytes[RECORD_CAP];
        size_t size;
};

struct log {
        uint8_t header[128];
        size_t header_size;
        struct record records[RECORDS_MAX];
        size_t count;
};

struct genuine {
        TPM2_ALG_ID bank; /* the quote's */
        const TPM2_ALG_ID *banks;
        size_t nbanks;
        const struct event *events;
        size_t count;
        struct log log;
        struct measurement_summary summary;
};

static const struct event unlock_then_leave[] = {
        { MEASUREMENT_EVENT_ROOT_IDENTITY, "/dev/disk/by-uuid/4d3c2b1a-0000-4000-8000-00000000c0de" },
        { MEASUREMENT_EVENT_KEY_RELEASED, AGENT_ID },
        { MEASUREMENT_EVENT_LEAVE_INITRD, "switch-root" },
};
static const struct event release_only[] = {
        { MEASUREMENT_EVENT_KEY_RELEASED, AGENT_ID },
};
static const struct event leave_only[] = {
        { MEASUREMENT_EVENT_ROOT_IDENTITY, "/dev/vda2" },
        { MEASUREMENT_EVENT_LEAVE_INITRD, "switch-root" },
};
static const struct event unknown_event[] = {
        { MEASUREMENT_EVENT_ROOT_IDENTITY, "/dev/vda2" },
        { "firmware-update", "{\"version\":\"1.2\"}" },
        { MEASUREMENT_EVENT_LEAVE_INITRD, "switch-root" },
        { MEASUREMENT_EVENT_KEY_RELEASED, AGENT_ID },
};

static const TPM2_ALG_ID sha256[] = { TPM2_ALG_SHA256 };
static const TPM2_ALG_ID sha1_sha256[] = { TPM2_ALG_SHA1, TPM2_ALG_SHA256 };
static const TPM2_ALG_ID three[] = { TPM2_ALG_SHA256, TPM2_ALG_SHA384, TPM2_ALG_SHA512 };

static struct genuine genuine[] = {
        { .bank = TPM2_ALG_SHA256, .banks = sha256, .nbanks = 1,
          .events = unlock_then_leave, .count = ELEMENTSOF(unlock_then_leave) },
        { .bank = TPM2_ALG_SHA256, .banks = sha1_sha256, .nbanks = 2,
          .events = release_only, .count = ELEMENTSOF(release_only) },
        { .bank = TPM2_ALG_SHA384, .banks = three, .nbanks = 3,
          .events = leave_only, .count = ELEMENTSOF(leave_only) },
        { .bank = TPM2_ALG_SHA1, .banks = sha1_sha256, .nbanks = 2,
          .events = unknown_event, .count = ELEMENTSOF(unknown_event) },
        { .bank = TPM2_ALG_SHA512, .banks = three, .nbanks = 3,
          .events = unlock_then_leave, .count = ELEMENTSOF(unlock_then_leave) },
};

/* Every genuine record, to splice in: valid records in the wrong place. */
static struct record splice_pool[32];
static size_t splice_count;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t log_serialize(const struct log *log, uint8_t *out) {
        size_t size = log->header_size;

        memcpy(out, log->header, log->header_size);
        for (size_t i = 0; i < log->count; i++) {
                memcpy(out + size, log->records[i].bytes, log->records[i].size);
                size += log->records[i].size;
        }
        return size;
}

static uint8_t serialized[sizeof(struct log)];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        for (size_t g = 0; g < ELEMENTSOF(genuine); g++) {
                struct genuine *gen = &genuine[g];
                uint8_t *bytes;
                size_t n;

                if (measurement_log_header(gen->banks, gen->nbanks, &bytes, &n) < 0 || n > sizeof(gen->log.header))
                        abort();
                memcpy(gen->log.header, bytes, n);
                gen->log.header_size = n;
                free(bytes);
                for (size_t i = 0; i < gen->count; i++) {
                        struct record *r = &gen->log.records[gen->log.count++];

                        if (measurement_record(gen->banks, gen->nbanks, gen->events[i].name, gen->events[i].data, &bytes,
                                               &n) < 0 ||
                            n > RECORD_CAP)
                                abort();
                        memcpy(r->bytes, bytes, n);
                        r->size = n;
                        free(bytes);
                        if (splice_count < ELEMENTSOF(splice_pool))
                                splice_pool[splice_count++] = *r;
                }
                n = log_serialize(&gen->log, serialized);
                if (measurement_log_replay(serialized, n, gen->bank, &gen->summary) < 0 ||
                    gen->summary.records != gen->count)
                        abort();
        }
        return 0;
}

static void record_insert(struct log *log, size_t at, const struct record *r) {
        if (log->count >= RECORDS_MAX || at > log->count)
                return;
        memmove(&log->records[at + 1], &log->records[at], (log->count - at) * sizeof(*r));
        log->records[at] = *r;
        log->count++;
}

static void record_delete(struct log *log, size_t at) {
        if (at >= log->count)
                return;
        memmove(&log->records[at], &log->records[at + 1], (log->count - at - 1) * sizeof(log->records[0]));
        log->count--;
}

static void put_u32le(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

/* Returns the size to cut the serialized log to, or 0 for no cut. */
static size_t apply_edit(struct log *log, uint8_t what, uint8_t which, uint8_t offset, uint8_t byte) {
        static const uint32_t types[] = { EV_NO_ACTION, EV_IPL, EV_EVENT_TAG, EV_SEPARATOR, EV_EFI_ACTION };
        struct record *r, copy;
        size_t at;

        if (log->count == 0 && what % 10 != 7 && what % 10 != 9)
                return 0;
        r = log->count ? &log->records[which % log->count] : NULL;
        if (r && r->size == 0 && (what % 10 == 0 || what % 10 == 2))
                return 0; /* nothing left of it to overwrite or delete */
        switch (what % 10) {
        case 0:
                r->bytes[offset % r->size] = byte;
                break;
        case 1: /* insert a byte */
                if (r->size >= RECORD_CAP)
                        break;
                at = offset % (r->size + 1);
                memmove(r->bytes + at + 1, r->bytes + at, r->size - at);
                r->bytes[at] = byte;
                r->size++;
                break;
        case 2: /* delete 1-4 bytes */
                at = offset % r->size;
                copy.size = 1 + byte % 4 < r->size - at ? 1 + byte % 4 : r->size - at;
                memmove(r->bytes + at, r->bytes + at + copy.size, r->size - at - copy.size);
                r->size -= copy.size;
                break;
        case 3:
                record_delete(log, which % log->count);
                break;
        case 4:
                copy = *r;
                record_insert(log, which % log->count, &copy);
                break;
        case 5: /* swap with the next record */
                if (which % log->count + 1 < log->count) {
                        copy = *r;
                        *r = log->records[which % log->count + 1];
                        log->records[which % log->count + 1] = copy;
                }
                break;
        case 6: /* relabel its type: the type is covered by no digest */
                if (r->size >= 8)
                        put_u32le(r->bytes + 4, types[byte % ELEMENTSOF(types)]);
                break;
        case 7:
                record_insert(log, log->count ? which % (log->count + 1) : 0, &splice_pool[byte % splice_count]);
                break;
        case 8: /* move it to another PCR */
                if (r->size >= 4)
                        put_u32le(r->bytes, byte % 24);
                break;
        default:
                return 1 + ((size_t)which << 8 | offset);
        }
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_input in = { data, size };
        const struct genuine *gen = &genuine[fuzz_byte(&in) % (ELEMENTSOF(genuine))];
        const struct measurement_summary *want = &gen->summary;
        static struct log log;
        struct measurement_summary got;
        size_t cut = 0, n;

        log = gen->log;
        for (unsigned i = 0; i < EDITS_MAX && !fuzz_input_empty(&in); i++) {
                uint8_t what = fuzz_byte(&in), which = fuzz_byte(&in), offset = fuzz_byte(&in);

                n = apply_edit(&log, what, which, offset, fuzz_byte(&in));
                if (n)
                        cut = n;
        }
        n = log_serialize(&log, serialized);
        if (cut && cut - 1 < n)
                n = cut - 1;
        if (measurement_log_replay(serialized, n, gen->bank, &got) < 0 ||
            memcmp(got.pcr15, want->pcr15, hashalg_size(gen->bank)) != 0)
                return 0;
        /* the release rule's facts: an edit must not hide a release or the leave-initrd */
        if ((want->releases > 0 && got.releases == 0) || (want->left_initrd && !got.left_initrd))
                abort();
        /* and, the hash chain binding every record, nothing else may change either */
        if (got.records != want->records || got.releases != want->releases || got.first_release != want->first_release ||
            got.left_initrd != want->left_initrd || got.leave_record != want->leave_record)
                abort();
        return 0;
}
