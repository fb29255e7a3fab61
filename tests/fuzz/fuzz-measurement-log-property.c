/* A property of vmattest's measurement log (lib/measurement_log.h, docs/protocol.md §5.2): nothing signs the
 * log's text, only PCR 15, so an edit that keeps the log replaying to the genuine PCR 15 must
 * keep what the log says. The harness writes genuine logs with measurement_record (the agent's
 * records: root-identity, key-released, leave-initrd, an event nobody defined) and replays them
 * once; the input picks one (first byte) and edits it: 4 bytes an edit (what, offset high and
 * low, a byte): overwrite, insert or delete a byte, delete, duplicate or swap a line, write a
 * character as its JSON \u escape, splice in another genuine record, cut the log short.
 * Invariant: when the edited log replays (measurement_log_replay) to the genuine PCR 15, it
 * records the same: above all an attacker who hides a key release or the leave-initrd from the
 * verifier (releases back to 0, left_initrd false) has broken the release rule; and then the
 * same records, the same first release and the same leave-initrd record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/hashalg.h"
#include "lib/measurement_log.h"
#include "tests/fuzz/input.h"

#define AGENT_ID "d432fbb3-d2f1-4a97-9ef7-75bd81c00000"
#define LOG_CAP 8192
#define EDITS_MAX 64

struct event {
        const char *name, *data;
};

struct genuine {
        TPM2_ALG_ID bank;
        const struct event *events;
        size_t count;
        char *text;
        size_t size;
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
        { "firmware-update", "{\"version\":\"1.2\\u00e9\"}\t\"quoted\"" },
        { MEASUREMENT_EVENT_LEAVE_INITRD, "switch-root" },
        { MEASUREMENT_EVENT_KEY_RELEASED, AGENT_ID },
};

static struct genuine genuine[] = {
        { .bank = TPM2_ALG_SHA256, .events = unlock_then_leave, .count = ELEMENTSOF(unlock_then_leave) },
        { .bank = TPM2_ALG_SHA256, .events = release_only, .count = ELEMENTSOF(release_only) },
        { .bank = TPM2_ALG_SHA384, .events = leave_only, .count = ELEMENTSOF(leave_only) },
        { .bank = TPM2_ALG_SHA1, .events = unknown_event, .count = ELEMENTSOF(unknown_event) },
        { .bank = TPM2_ALG_SHA512, .events = unlock_then_leave, .count = ELEMENTSOF(unlock_then_leave) },
};

/* A line of every genuine record, to splice in: valid records in the wrong place. */
static char *splice_lines[32];
static size_t splice_count;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        for (size_t g = 0; g < ELEMENTSOF(genuine); g++) {
                struct genuine *log = &genuine[g];

                log->text = calloc(1, LOG_CAP);
                for (size_t i = 0; i < log->count; i++) {
                        char *line;
                        size_t len;

                        if (!log->text || measurement_record(i, log->bank, log->events[i].name, log->events[i].data, &line) < 0)
                                abort();
                        len = strlen(line);
                        if (log->size + len >= LOG_CAP)
                                abort();
                        memcpy(log->text + log->size, line, len);
                        log->size += len;
                        if (splice_count < ELEMENTSOF(splice_lines))
                                splice_lines[splice_count++] = line;
                        else
                                free(line);
                }
                if (measurement_log_replay(log->text, log->size, log->bank, &log->summary) < 0 ||
                    log->summary.records != log->count)
                        abort();
        }
        return 0;
}

struct text {
        char buf[LOG_CAP];
        size_t size;
};

static bool text_insert(struct text *t, size_t at, const char *bytes, size_t n) {
        if (at > t->size || t->size + n > sizeof(t->buf))
                return false;
        memmove(t->buf + at + n, t->buf + at, t->size - at);
        memcpy(t->buf + at, bytes, n);
        t->size += n;
        return true;
}

static void text_delete(struct text *t, size_t at, size_t n) {
        if (at >= t->size)
                return;
        if (n > t->size - at)
                n = t->size - at;
        memmove(t->buf + at, t->buf + at + n, t->size - at - n);
        t->size -= n;
}

/* The line holding offset `at`: [*start, *end), its newline included if it has one. */
static void text_line(const struct text *t, size_t at, size_t *start, size_t *end) {
        *start = at;
        while (*start > 0 && t->buf[*start - 1] != '\n')
                (*start)--;
        *end = at;
        while (*end < t->size && t->buf[*end] != '\n')
                (*end)++;
        if (*end < t->size)
                (*end)++;
}

static void apply_edit(struct text *t, uint8_t what, size_t at, uint8_t byte) {
        size_t start, end, next_end;
        char copy[LOG_CAP], escape[8];

        if (t->size == 0 && what % 9 != 1 && what % 9 != 7)
                return;
        at = t->size ? at % t->size : 0;
        switch (what % 9) {
        case 0:
                t->buf[at] = (char)byte;
                break;
        case 1:
                text_insert(t, at, (const char *)&byte, 1);
                break;
        case 2:
                text_delete(t, at, 1 + byte % 4);
                break;
        case 3:
                text_line(t, at, &start, &end);
                text_delete(t, start, end - start);
                break;
        case 4:
                text_line(t, at, &start, &end);
                memcpy(copy, t->buf + start, end - start);
                text_insert(t, end, copy, end - start);
                break;
        case 5: /* swap with the next line */
                text_line(t, at, &start, &end);
                if (end >= t->size)
                        break;
                text_line(t, end, &end, &next_end);
                memcpy(copy, t->buf + end, next_end - end);
                memcpy(copy + (next_end - end), t->buf + start, end - start);
                memcpy(t->buf + start, copy, next_end - start);
                break;
        case 6: /* the same character, written as JSON's \u escape */
                snprintf(escape, sizeof(escape), "\\u%04x", (unsigned char)t->buf[at]);
                text_delete(t, at, 1);
                text_insert(t, at, escape, 6);
                break;
        case 7:
                text_line(t, at, &start, &end);
                text_insert(t, t->size ? start : 0, splice_lines[byte % splice_count],
                            strlen(splice_lines[byte % splice_count]));
                break;
        default:
                t->size = at;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct fuzz_input in = { data, size };
        const struct genuine *log = &genuine[fuzz_byte(&in) % (ELEMENTSOF(genuine))];
        const struct measurement_summary *want = &log->summary;
        static struct text t;
        struct measurement_summary got;

        memcpy(t.buf, log->text, log->size);
        t.size = log->size;
        for (unsigned i = 0; i < EDITS_MAX && !fuzz_input_empty(&in); i++) {
                uint8_t what = fuzz_byte(&in);
                size_t at = fuzz_u16(&in);

                apply_edit(&t, what, at, fuzz_byte(&in));
        }
        if (measurement_log_replay(t.buf, t.size, log->bank, &got) < 0 ||
            memcmp(got.pcr15, want->pcr15, hashalg_size(log->bank)) != 0)
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
