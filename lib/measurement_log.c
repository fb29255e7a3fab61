#include "measurement_log.h"

#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "eventlog.h"
#include "hashalg.h"
#include "reader.h"
#include "writer.h"

/* PFP's TCG_EfiSpecIDEventStruct, as event 0 of a TCG_PCClientPCREvent (SHA-1 format). */
static const char spec_id_signature[16] = "Spec ID Event03";
#define SHA1_FORMAT_DIGEST_SIZE 20
#define SPEC_VERSION_MAJOR 2
#define SPEC_ERRATA 2
#define UINTN_SIZE_64 2

int measurement_event_bytes(const char *event, const char *data, char **out, size_t *size) {
        size_t event_len = strlen(event), data_len = strlen(data);
        char *typed;

        if (event_len == 0 || event_len > MEASUREMENT_EVENT_MAX || data_len > MEASUREMENT_DATA_MAX)
                return vm_error(-EINVAL, "measurement: the event name must be 1-%d bytes, the data at most %d",
                                MEASUREMENT_EVENT_MAX, MEASUREMENT_DATA_MAX);
        typed = malloc(event_len + 1 + data_len);
        if (!typed)
                return -ENOMEM;
        memcpy(typed, event, event_len + 1); /* the NUL separates the name from the data */
        memcpy(typed + event_len + 1, data, data_len);
        *out = typed;
        *size = event_len + 1 + data_len;
        return 0;
}

int measurement_digest(TPM2_ALG_ID bank, const char *event, const char *data, uint8_t *digest) {
        _cleanup_(freep) char *typed = NULL;
        size_t size;
        int ret = measurement_event_bytes(event, data, &typed, &size);

        return ret < 0 ? ret : hashalg_digest(bank, typed, size, digest);
}

static int check_banks(const TPM2_ALG_ID *banks, size_t nbanks) {
        if (nbanks < 1 || nbanks > EVENTLOG_MAX_ALGORITHMS)
                return vm_error(-EINVAL, "measurement log: %zu banks, not 1-%d", nbanks, EVENTLOG_MAX_ALGORITHMS);
        for (size_t i = 0; i < nbanks; i++)
                if (!hashalg_size(banks[i]))
                        return vm_error(-EINVAL, "measurement log: bank 0x%04x is not one vmattest can hash", banks[i]);
        return 0;
}

static int writer_result(struct writer *w, uint8_t *buf, uint8_t **out, size_t *size) {
        if (w->failed) {
                free(buf);
                return vm_error(-EOVERFLOW, "measurement log: record larger than computed");
        }
        *out = buf;
        *size = w->offset;
        return 0;
}

int measurement_log_header(const TPM2_ALG_ID *banks, size_t nbanks, uint8_t **out, size_t *size) {
        size_t data_size = sizeof(spec_id_signature) + 4 + 4 + 4 + 4 * nbanks + 1;
        size_t total = 4 + 4 + SHA1_FORMAT_DIGEST_SIZE + 4 + data_size;
        struct writer w;
        uint8_t *buf;
        int ret = check_banks(banks, nbanks);

        if (ret < 0)
                return ret;
        buf = malloc(total);
        if (!buf)
                return -ENOMEM;
        writer_init(&w, buf, total);
        writer_u32le(&w, 0); /* PCR 0, EV_NO_ACTION: extends nothing */
        writer_u32le(&w, EV_NO_ACTION);
        writer_zeros(&w, SHA1_FORMAT_DIGEST_SIZE);
        writer_u32le(&w, (uint32_t)data_size);
        writer_bytes(&w, spec_id_signature, sizeof(spec_id_signature));
        writer_u32le(&w, 0); /* platformClass: client */
        writer_u8(&w, 0);    /* specVersionMinor */
        writer_u8(&w, SPEC_VERSION_MAJOR);
        writer_u8(&w, SPEC_ERRATA);
        writer_u8(&w, UINTN_SIZE_64);
        writer_u32le(&w, (uint32_t)nbanks);
        for (size_t i = 0; i < nbanks; i++) {
                writer_u16le(&w, banks[i]);
                writer_u16le(&w, (uint16_t)hashalg_size(banks[i]));
        }
        writer_u8(&w, 0); /* vendorInfoSize */
        return writer_result(&w, buf, out, size);
}

int measurement_record(const TPM2_ALG_ID *banks, size_t nbanks, const char *event, const char *data, uint8_t **out,
                       size_t *size) {
        _cleanup_(freep) char *typed = NULL;
        size_t typed_size, total;
        struct writer w;
        uint8_t *buf;
        int ret = check_banks(banks, nbanks);

        if (ret >= 0)
                ret = measurement_event_bytes(event, data, &typed, &typed_size);
        if (ret < 0)
                return ret;
        total = 4 + 4 + 4 + 4 + typed_size;
        for (size_t i = 0; i < nbanks; i++)
                total += 2 + hashalg_size(banks[i]);
        buf = malloc(total);
        if (!buf)
                return -ENOMEM;
        writer_init(&w, buf, total);
        writer_u32le(&w, MEASUREMENT_PCR);
        writer_u32le(&w, MEASUREMENT_EVENT_TYPE);
        writer_u32le(&w, (uint32_t)nbanks);
        for (size_t i = 0; i < nbanks; i++) {
                uint8_t digest[TPM2_MAX_DIGEST_BUFFER];

                ret = hashalg_digest(banks[i], typed, typed_size, digest);
                if (ret < 0) {
                        free(buf);
                        return ret;
                }
                writer_u16le(&w, banks[i]);
                writer_bytes(&w, digest, hashalg_size(banks[i]));
        }
        writer_u32le(&w, (uint32_t)typed_size);
        writer_bytes(&w, typed, typed_size);
        return writer_result(&w, buf, out, size);
}

struct first_record {
        size_t offset;
        bool found;
};

static int note_first_record(const struct eventlog_event *ev, void *user) {
        struct first_record *first = user;

        if (ev->index == 0)
                return 0;
        first->offset = ev->offset;
        first->found = true;
        return 1; /* the Spec ID event is all that is wanted */
}

/* The agent writes a crypto-agile log (measurement_log_header); lib/eventlog also reads SHA-1
 * logs, for firmware that writes them, and a log in that format is none of the agent's. */
static int read_spec_id(const uint8_t *log, size_t size, struct eventlog_spec_id *spec) {
        uint32_t pcr = 0, type = 0;
        struct reader r;
        int ret;

        /* Said before the rest of the record is read as a SHA-1 log's, which would be reported
         * as a malformed SHA-1 record; a short header is left to eventlog_spec_id to report. */
        reader_init(&r, log, size, "measurement log record 0");
        reader_u32le(&r, &pcr, "pcrIndex");
        reader_u32le(&r, &type, "eventType");
        if (!r.failed && (pcr != 0 || type != EV_NO_ACTION))
                return vm_error(-EBADMSG, "measurement log: its first record (type 0x%08x in PCR %u) is not the "
                                          "Spec ID event",
                                type, pcr);
        ret = eventlog_spec_id(log, size, spec);
        if (ret < 0)
                return ret;
        if (spec->format != EVENTLOG_FORMAT_CRYPTO_AGILE)
                return vm_error(-EBADMSG, "measurement log: its first record is not the Spec ID event (a SHA-1 "
                                          "log): not the crypto-agile log the agent writes");
        return 0;
}

int measurement_log_banks(const uint8_t *log, size_t size, TPM2_ALG_ID *banks, size_t cap, size_t *nbanks,
                          size_t *records_offset) {
        struct eventlog_spec_id spec;
        struct first_record first = { 0 };
        int ret = read_spec_id(log, size, &spec);

        if (ret < 0)
                return ret;
        if (spec.algorithm_count > cap)
                return vm_error(-EBADMSG, "measurement log declares %u banks, more than %zu", spec.algorithm_count, cap);
        for (uint32_t i = 0; i < spec.algorithm_count; i++)
                banks[i] = spec.algorithms[i].alg;
        *nbanks = spec.algorithm_count;
        ret = eventlog_foreach(log, size, note_first_record, &first);
        if (ret < 0)
                return ret;
        *records_offset = first.found ? first.offset : size;
        return 0;
}

/* A record's data split at its first NUL into the event's name and what was measured: false
 * when it has no NUL or the name is not 1-MEASUREMENT_EVENT_MAX bytes. */
static bool split_record(const struct eventlog_event *ev, char name[MEASUREMENT_EVENT_MAX + 1]) {
        const uint8_t *nul = ev->data_size ? memchr(ev->data, 0, ev->data_size) : NULL;
        size_t len = nul ? (size_t)(nul - ev->data) : 0;

        if (!nul || len == 0 || len > MEASUREMENT_EVENT_MAX)
                return false;
        memcpy(name, ev->data, len);
        name[len] = '\0';
        return true;
}

/* What one record, once its digest is checked, tells the verifier (the header's table). */
static void classify(const struct eventlog_event *ev, unsigned record, struct measurement_summary *s) {
        char name[MEASUREMENT_EVENT_MAX + 1];
        bool named = split_record(ev, name);

        if (named && strcmp(name, MEASUREMENT_EVENT_ROOT_IDENTITY) == 0)
                return;
        if (named && strcmp(name, MEASUREMENT_EVENT_LEAVE_INITRD) == 0) {
                if (!s->left_initrd)
                        s->leave_record = record;
                s->left_initrd = true;
                return;
        }
        if (s->releases++ == 0) /* key-released, or an event nobody defined: a release */
                s->first_release = record;
}

struct replay {
        TPM2_ALG_ID bank;
        struct measurement_summary *summary;
};

/* PCR 15's extending events, in the same order and with the same rule as eventlog_replay:
 * EV_NO_ACTION extends nothing, anything else extends its digest. */
static int replay_event(const struct eventlog_event *ev, void *user) {
        struct replay *rp = user;
        struct measurement_summary *s = rp->summary;
        size_t digest_size = hashalg_size(rp->bank);
        uint8_t want[TPM2_MAX_DIGEST_BUFFER], chain[2 * TPM2_MAX_DIGEST_BUFFER];
        const uint8_t *digest;
        unsigned record = s->records;
        int ret;

        if (ev->index == 0 || ev->pcr != MEASUREMENT_PCR || ev->type == EV_NO_ACTION)
                return 0;
        if (record >= MEASUREMENT_RECORDS_MAX)
                return vm_error(-EBADMSG, "event %u: more than %d PCR 15 records", ev->index, MEASUREMENT_RECORDS_MAX);
        digest = eventlog_event_digest(ev, rp->bank);
        if (!digest)
                return vm_error(-EBADMSG, "record %u (event %u): no %s digest", record, ev->index,
                                hashalg_name(rp->bank));
        ret = hashalg_digest(rp->bank, ev->data, ev->data_size, want);
        if (ret < 0)
                return ret;
        if (memcmp(digest, want, digest_size) != 0)
                return vm_error(-EBADMSG, "record %u (event %u): digest is not H(event data)", record, ev->index);
        memcpy(chain, s->pcr15, digest_size);
        memcpy(chain + digest_size, digest, digest_size);
        ret = hashalg_digest(rp->bank, chain, 2 * digest_size, s->pcr15);
        if (ret < 0)
                return ret;
        classify(ev, record, s);
        s->records++;
        return 0;
}

int measurement_log_replay(const uint8_t *log, size_t size, TPM2_ALG_ID bank, struct measurement_summary *s) {
        struct replay rp = { .bank = bank, .summary = s };
        struct eventlog_spec_id spec;
        int ret;

        memset(s, 0, sizeof(*s));
        if (!hashalg_size(bank))
                return vm_error(-EINVAL, "unsupported bank 0x%04x", bank);

        if (size == 0)
                return 0;
        ret = read_spec_id(log, size, &spec);
        if (ret < 0)
                return ret;
        return eventlog_foreach(log, size, replay_event, &rp);
}

struct listing {
        measurement_record_fn fn;
        void *user;
        unsigned records;
};

static int list_event(const struct eventlog_event *ev, void *user) {
        struct listing *l = user;
        char name[MEASUREMENT_EVENT_MAX + 1];
        size_t skip;

        if (ev->index == 0 || ev->pcr != MEASUREMENT_PCR || ev->type == EV_NO_ACTION)
                return 0;
        if (!split_record(ev, name))
                return l->fn(l->records++, NULL, ev->data, ev->data_size, l->user);
        skip = strlen(name) + 1;
        return l->fn(l->records++, name, ev->data + skip, ev->data_size - skip, l->user);
}

int measurement_log_foreach(const uint8_t *log, size_t size, measurement_record_fn fn, void *user) {
        struct listing l = { .fn = fn, .user = user };
        struct eventlog_spec_id spec;
        int ret;

        if (size == 0)
                return 0;
        ret = read_spec_id(log, size, &spec);
        if (ret < 0)
                return ret;
        return eventlog_foreach(log, size, list_event, &l);
}
