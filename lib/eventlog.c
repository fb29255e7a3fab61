#include "eventlog.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "hashalg.h"
#include "reader.h"

DEFINE_POINTER_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)

/* Both signatures are 16 bytes, NUL included (PFP, TCG_EfiSpecIDEventStruct and
 * TCG_EfiStartupLocalityEvent). */
static const char spec_id_signature[16] = "Spec ID Event03";
static const char startup_locality_signature[16] = "StartupLocality";
#define SHA1_FORMAT_DIGEST_SIZE 20 /* event 0 is a TCG_PCClientPCREvent with a SHA-1 digest */
#define DIGEST_SIZE_MAX ((uint16_t)sizeof(TPMU_HA))

const uint8_t eventlog_efi_global_variable_guid[16] = {
        0x61, 0xdf, 0xe4, 0x8b, 0xca, 0x93, 0xd2, 0x11, 0xaa, 0x0d, 0x00, 0xe0, 0x98, 0x03, 0x2b, 0x8c,
};

struct eventlog_parser {
        struct reader r;
        char what[32]; /* the reader's `what`: "event log event N", renamed for each event */
        struct eventlog_spec_id spec_id;
};

static void parser_init(struct eventlog_parser *p, const uint8_t *log, size_t size) {
        memset(p, 0, sizeof(*p));
        reader_init(&p->r, log, size, p->what);
        snprintf(p->what, sizeof(p->what), "event log event 0");
}

static const struct eventlog_algorithm *spec_id_algorithm(const struct eventlog_spec_id *spec, TPM2_ALG_ID alg) {
        for (uint32_t i = 0; i < spec->algorithm_count; i++)
                if (spec->algorithms[i].alg == alg)
                        return &spec->algorithms[i];
        return NULL;
}

/* The TCG_EfiSpecIDEventStruct in event 0's data. */
static int read_spec_id_data(const uint8_t *data, uint32_t size, struct eventlog_spec_id *spec) {
        struct reader r;
        const uint8_t *signature;
        uint8_t vendor_info_size;

        reader_init(&r, data, size, "event log event 0 (Spec ID event data)");
        if (reader_bytes(&r, sizeof(spec_id_signature), &signature, "signature") < 0)
                return -EBADMSG; /* not reached: read_first_record saw the signature */
        reader_u32le(&r, &spec->platform_class, "platformClass");
        reader_u8(&r, &spec->spec_version_minor, "specVersionMinor");
        reader_u8(&r, &spec->spec_version_major, "specVersionMajor");
        reader_u8(&r, &spec->spec_errata, "specErrata");
        reader_u8(&r, &spec->uintn_size, "uintnSize");
        reader_u32le(&r, &spec->algorithm_count, "numberOfAlgorithms");
        if (r.failed)
                return -EBADMSG;
        if (spec->uintn_size != 1 && spec->uintn_size != 2)
                return reader_invalid(&r, "uintnSize %u is neither 1 (UINT32) nor 2 (UINT64)", spec->uintn_size);
        if (spec->algorithm_count < 1 || spec->algorithm_count > EVENTLOG_MAX_ALGORITHMS)
                return reader_invalid(&r, "numberOfAlgorithms %u is not 1-%d", spec->algorithm_count,
                                      EVENTLOG_MAX_ALGORITHMS);
        for (uint32_t i = 0; i < spec->algorithm_count; i++) {
                struct eventlog_algorithm *a = &spec->algorithms[i];
                size_t known_size;

                reader_u16le(&r, &a->alg, "algorithmId");
                reader_u16le(&r, &a->digest_size, "digestSize");
                if (r.failed)
                        return -EBADMSG;
                known_size = hashalg_size(a->alg);
                if (known_size && a->digest_size != known_size)
                        return reader_invalid(&r, "algorithm %u (%s) declares %u-byte digests, not %zu", i,
                                              hashalg_name(a->alg), a->digest_size, known_size);
                if (a->digest_size < 1 || a->digest_size > DIGEST_SIZE_MAX)
                        return reader_invalid(&r, "algorithm %u (0x%04x) declares %u-byte digests, not 1-%u", i,
                                              a->alg, a->digest_size, DIGEST_SIZE_MAX);
                for (uint32_t j = 0; j < i; j++)
                        if (spec->algorithms[j].alg == a->alg)
                                return reader_invalid(&r, "algorithm 0x%04x is declared twice", a->alg);
        }
        if (reader_u8(&r, &vendor_info_size, "vendorInfoSize") < 0 ||
            reader_skip(&r, vendor_info_size, "vendorInfo") < 0)
                return -EBADMSG;
        return reader_expect_end(&r);
}

/* A TCG_PCClientPCREvent (the SHA-1 format of event 0, and of every record of a SHA-1 log),
 * after its pcrIndex and eventType. */
static int read_sha1_format_rest(struct eventlog_parser *p, struct eventlog_event *ev) {
        struct reader *r = &p->r;

        ev->digest_count = 1;
        ev->digests[0] = (struct eventlog_digest){ .alg = TPM2_ALG_SHA1, .size = SHA1_FORMAT_DIGEST_SIZE };
        reader_bytes(r, SHA1_FORMAT_DIGEST_SIZE, &ev->digests[0].digest, "digest");
        reader_u32le(r, &ev->data_size, "eventSize");
        if (r->failed)
                return -EBADMSG;
        if (ev->data_size > EVENTLOG_MAX_EVENT_DATA)
                return reader_invalid(r, "eventSize %u exceeds %u bytes", ev->data_size, EVENTLOG_MAX_EVENT_DATA);
        return reader_bytes(r, ev->data_size, &ev->data, "event data");
}

/* The Spec ID event a crypto-agile log opens with: EV_NO_ACTION in PCR 0 whose data starts with
 * the "Spec ID Event03" signature. */
static bool is_spec_id_event(const struct eventlog_event *ev) {
        return ev->pcr == 0 && ev->type == EV_NO_ACTION && ev->data_size >= sizeof(spec_id_signature) &&
               memcmp(ev->data, spec_id_signature, sizeof(spec_id_signature)) == 0;
}

/* A SHA-1 log's records carry one SHA-1 digest each and declare nothing else. */
static void spec_id_sha1_format(struct eventlog_spec_id *spec) {
        *spec = (struct eventlog_spec_id){ .format = EVENTLOG_FORMAT_SHA1, .algorithm_count = 1 };
        spec->algorithms[0] = (struct eventlog_algorithm){ .alg = TPM2_ALG_SHA1, .digest_size = SHA1_FORMAT_DIGEST_SIZE };
}

/* The first record decides the format (PFP, "Event Logging": a crypto-agile log opens with the
 * Spec ID event, a TCG_PCClientPCREvent, which a SHA-1 log's first record is too): the Spec ID
 * event makes it event 0 of a crypto-agile log and its data must then parse as the
 * TCG_EfiSpecIDEventStruct; any other record is event 1, the first measurement of a SHA-1 log. A
 * record that looks like the Spec ID event (EV_NO_ACTION in PCR 0) is called event 0 while it is
 * read, any other event 1. */
static int read_first_record(struct eventlog_parser *p, struct eventlog_event *ev) {
        struct reader *r = &p->r;
        int ret;

        *ev = (struct eventlog_event){ .index = 0, .offset = r->offset, .spec_id = &p->spec_id };
        reader_u32le(r, &ev->pcr, "pcrIndex");
        reader_u32le(r, &ev->type, "eventType");
        if (r->failed)
                return -EBADMSG;
        if (ev->pcr != 0 || ev->type != EV_NO_ACTION) {
                ev->index = 1;
                snprintf(p->what, sizeof(p->what), "event log event 1");
                if (ev->pcr >= EVENTLOG_PCR_COUNT)
                        return reader_invalid(r, "pcrIndex %u is not a PCR 0-%d", ev->pcr, EVENTLOG_PCR_COUNT - 1);
        }
        ret = read_sha1_format_rest(p, ev);
        if (ret < 0)
                return ret;
        if (!is_spec_id_event(ev)) {
                ev->index = 1;
                spec_id_sha1_format(&p->spec_id);
                return 0;
        }
        p->spec_id.format = EVENTLOG_FORMAT_CRYPTO_AGILE;
        if (read_spec_id_data(ev->data, ev->data_size, &p->spec_id) < 0) {
                r->failed = true;
                return -EBADMSG;
        }
        return 0;
}

/* Events 2.. of a SHA-1 log: TCG_PCClientPCREvent. */
static int read_sha1_event(struct eventlog_parser *p, uint32_t index, struct eventlog_event *ev) {
        struct reader *r = &p->r;

        snprintf(p->what, sizeof(p->what), "event log event %u", index);
        *ev = (struct eventlog_event){ .index = index, .offset = r->offset, .spec_id = &p->spec_id };
        reader_u32le(r, &ev->pcr, "pcrIndex");
        reader_u32le(r, &ev->type, "eventType");
        if (r->failed)
                return -EBADMSG;
        if (ev->pcr >= EVENTLOG_PCR_COUNT)
                return reader_invalid(r, "pcrIndex %u is not a PCR 0-%d", ev->pcr, EVENTLOG_PCR_COUNT - 1);
        return read_sha1_format_rest(p, ev);
}

/* Events 1..: TCG_PCR_EVENT2. */
static int read_event2(struct eventlog_parser *p, uint32_t index, struct eventlog_event *ev) {
        const struct eventlog_spec_id *spec = &p->spec_id;
        struct reader *r = &p->r;
        uint32_t count;

        snprintf(p->what, sizeof(p->what), "event log event %u", index);
        *ev = (struct eventlog_event){ .index = index, .offset = r->offset, .spec_id = spec };
        reader_u32le(r, &ev->pcr, "pcrIndex");
        reader_u32le(r, &ev->type, "eventType");
        if (r->failed)
                return -EBADMSG;
        if (ev->pcr >= EVENTLOG_PCR_COUNT)
                return reader_invalid(r, "pcrIndex %u is not a PCR 0-%d", ev->pcr, EVENTLOG_PCR_COUNT - 1);
        if (reader_u32le(r, &count, "digests count") < 0)
                return -EBADMSG;
        if (count != spec->algorithm_count)
                return reader_invalid(r, "%u digests, the Spec ID event declares %u algorithms", count,
                                      spec->algorithm_count);
        for (uint32_t i = 0; i < count; i++) {
                struct eventlog_digest *d = &ev->digests[i];
                const struct eventlog_algorithm *declared;

                if (reader_u16le(r, &d->alg, "digest hashAlg") < 0)
                        return -EBADMSG;
                declared = spec_id_algorithm(spec, d->alg);
                if (!declared)
                        return reader_invalid(r, "digest %u: algorithm 0x%04x is not declared in the Spec ID event", i,
                                              d->alg);
                for (uint32_t j = 0; j < i; j++)
                        if (ev->digests[j].alg == d->alg)
                                return reader_invalid(r, "digest %u: a second digest of algorithm 0x%04x", i, d->alg);
                d->size = declared->digest_size;
                if (reader_bytes(r, d->size, &d->digest, "digest") < 0)
                        return -EBADMSG;
        }
        ev->digest_count = count;
        if (reader_u32le(r, &ev->data_size, "eventSize") < 0)
                return -EBADMSG;
        if (ev->data_size > EVENTLOG_MAX_EVENT_DATA)
                return reader_invalid(r, "eventSize %u exceeds %u bytes", ev->data_size, EVENTLOG_MAX_EVENT_DATA);
        return reader_bytes(r, ev->data_size, &ev->data, "event data");
}

int eventlog_foreach(const uint8_t *log, size_t size, eventlog_fn fn, void *user) {
        struct eventlog_parser p;
        struct eventlog_event ev;
        int ret;

        parser_init(&p, log, size);
        ret = read_first_record(&p, &ev);
        if (ret < 0)
                return ret;
        ret = fn(&ev, user);
        if (ret != 0)
                return ret;
        for (uint32_t index = ev.index + 1; reader_left(&p.r) > 0; index++) {
                if (index >= EVENTLOG_MAX_EVENTS)
                        return reader_invalid(&p.r, "the log holds more than %d events", EVENTLOG_MAX_EVENTS);
                if (p.spec_id.format == EVENTLOG_FORMAT_SHA1)
                        ret = read_sha1_event(&p, index, &ev);
                else
                        ret = read_event2(&p, index, &ev);
                if (ret < 0)
                        return ret;
                ret = fn(&ev, user);
                if (ret != 0)
                        return ret;
        }
        return 0;
}

int eventlog_spec_id(const uint8_t *log, size_t size, struct eventlog_spec_id *out) {
        struct eventlog_parser p;
        struct eventlog_event ev;
        int ret;

        parser_init(&p, log, size);
        ret = read_first_record(&p, &ev);
        if (ret < 0)
                return ret;
        *out = p.spec_id;
        return 0;
}

const uint8_t *eventlog_event_digest(const struct eventlog_event *ev, TPM2_ALG_ID alg) {
        for (uint32_t i = 0; i < ev->digest_count; i++)
                if (ev->digests[i].alg == alg && ev->digests[i].size == hashalg_size(alg))
                        return ev->digests[i].digest;
        return NULL;
}

struct replay {
        TPM2_ALG_ID bank;
        size_t digest_size;
        const EVP_MD *md;
        EVP_MD_CTX *ctx;
        uint8_t value[EVENTLOG_PCR_COUNT][DIGEST_SIZE_MAX];
        uint32_t extended;    /* PCRs some event extended */
        bool bank_checked;    /* the log declares the bank (checked at its first record) */
        bool locality_set;
        uint32_t locality_index;
};

/* A StartupLocality event (TCG_EfiStartupLocalityEvent: signature, u8 locality) sets PCR 0's
 * start; any other EV_NO_ACTION event is information only. */
static int replay_no_action(struct replay *rp, const struct eventlog_event *ev) {
        char what[64];
        const uint8_t *signature;
        uint8_t locality;
        struct reader r;

        snprintf(what, sizeof(what), "event log event %u (StartupLocality)", ev->index);
        reader_init(&r, ev->data, ev->data_size, what);
        if (reader_left(&r) < sizeof(startup_locality_signature))
                return 0;
        reader_bytes(&r, sizeof(startup_locality_signature), &signature, "signature");
        if (memcmp(signature, startup_locality_signature, sizeof(startup_locality_signature)) != 0)
                return 0;
        if (reader_u8(&r, &locality, "StartupLocality") < 0 || reader_expect_end(&r) < 0)
                return -EBADMSG;
        if (ev->pcr != 0)
                return reader_invalid(&r, "logged for PCR %u, it belongs to PCR 0", ev->pcr);
        if (locality != 0 && locality != 3 && locality != 4)
                return reader_invalid(&r, "locality %u is not 0, 3 or 4", locality);
        if (rp->locality_set)
                return reader_invalid(&r, "a second StartupLocality event (the first is event %u)", rp->locality_index);
        if (rp->extended & 1u)
                return reader_invalid(&r, "StartupLocality after PCR 0 was extended");
        rp->value[0][rp->digest_size - 1] = locality;
        rp->locality_set = true;
        rp->locality_index = ev->index;
        return 0;
}

static int replay_event(const struct eventlog_event *ev, void *user) {
        struct replay *rp = user;
        uint8_t *pcr_value;
        const uint8_t *digest;

        /* A log without the bank replays to nothing: refused, so that no caller compares an empty
         * replay (no PCR extended) with what it wants and finds nothing amiss. */
        if (!rp->bank_checked) {
                if (!spec_id_algorithm(ev->spec_id, rp->bank))
                        return ev->spec_id->format == EVENTLOG_FORMAT_SHA1
                                       ? vm_error(-EBADMSG,
                                                  "event log: a SHA-1 log (TCG_PCClientPCREvent records, no Spec ID "
                                                  "event) carries no %s digests",
                                                  hashalg_name(rp->bank))
                                       : vm_error(-EBADMSG, "event log: the Spec ID event declares no %s digests",
                                                  hashalg_name(rp->bank));
                rp->bank_checked = true;
        }
        if (ev->index == 0)
                return 0;
        if (ev->type == EV_NO_ACTION)
                return replay_no_action(rp, ev);
        digest = eventlog_event_digest(ev, rp->bank);
        if (!digest) /* not reached: every event carries every declared algorithm */
                return vm_error(-EBADMSG, "event log event %u: no %s digest", ev->index, hashalg_name(rp->bank));
        pcr_value = rp->value[ev->pcr];
        if (!EVP_DigestInit_ex(rp->ctx, rp->md, NULL) || !EVP_DigestUpdate(rp->ctx, pcr_value, rp->digest_size) ||
            !EVP_DigestUpdate(rp->ctx, digest, rp->digest_size) || !EVP_DigestFinal_ex(rp->ctx, pcr_value, NULL))
                return vm_error(-EIO, "OpenSSL digest failed");
        rp->extended |= 1u << ev->pcr;
        return 0;
}

int eventlog_replay(const uint8_t *log, size_t size, TPM2_ALG_ID bank, struct pcr_values *out) {
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
        struct replay rp;
        uint32_t mask;
        int ret;

        memset(out, 0, sizeof(*out));
        if (!hashalg_md(bank))
                return vm_error(-EINVAL, "event log replay: unsupported bank 0x%04x", bank);
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        rp = (struct replay){ .bank = bank, .digest_size = hashalg_size(bank), .md = hashalg_md(bank), .ctx = ctx };
        /* PC Client PTP: PCRs 17-22 (dynamic launch) reset to all ones, the others to zeros */
        for (unsigned pcr = 17; pcr <= 22; pcr++)
                memset(rp.value[pcr], 0xff, rp.digest_size);
        ret = eventlog_foreach(log, size, replay_event, &rp);
        if (ret < 0)
                return ret;
        mask = rp.extended | (rp.locality_set ? 1u : 0);
        out->bank = bank;
        out->mask = mask;
        for (unsigned pcr = 0; pcr < EVENTLOG_PCR_COUNT; pcr++)
                if (mask & (1u << pcr)) {
                        out->value[pcr].size = (UINT16)rp.digest_size;
                        memcpy(out->value[pcr].buffer, rp.value[pcr], rp.digest_size);
                }
        return 0;
}

static const struct event_type {
        uint32_t type;
        const char *name;
} event_types[] = {
        { EV_PREBOOT_CERT, "EV_PREBOOT_CERT" },
        { EV_POST_CODE, "EV_POST_CODE" },
        { EV_UNUSED, "EV_UNUSED" },
        { EV_NO_ACTION, "EV_NO_ACTION" },
        { EV_SEPARATOR, "EV_SEPARATOR" },
        { EV_ACTION, "EV_ACTION" },
        { EV_EVENT_TAG, "EV_EVENT_TAG" },
        { EV_S_CRTM_CONTENTS, "EV_S_CRTM_CONTENTS" },
        { EV_S_CRTM_VERSION, "EV_S_CRTM_VERSION" },
        { EV_CPU_MICROCODE, "EV_CPU_MICROCODE" },
        { EV_PLATFORM_CONFIG_FLAGS, "EV_PLATFORM_CONFIG_FLAGS" },
        { EV_TABLE_OF_DEVICES, "EV_TABLE_OF_DEVICES" },
        { EV_COMPACT_HASH, "EV_COMPACT_HASH" },
        { EV_IPL, "EV_IPL" },
        { EV_IPL_PARTITION_DATA, "EV_IPL_PARTITION_DATA" },
        { EV_NONHOST_CODE, "EV_NONHOST_CODE" },
        { EV_NONHOST_CONFIG, "EV_NONHOST_CONFIG" },
        { EV_NONHOST_INFO, "EV_NONHOST_INFO" },
        { EV_OMIT_BOOT_DEVICE_EVENTS, "EV_OMIT_BOOT_DEVICE_EVENTS" },
        { EV_POST_CODE2, "EV_POST_CODE2" },
        { EV_EFI_EVENT_BASE, "EV_EFI_EVENT_BASE" },
        { EV_EFI_VARIABLE_DRIVER_CONFIG, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
        { EV_EFI_VARIABLE_BOOT, "EV_EFI_VARIABLE_BOOT" },
        { EV_EFI_BOOT_SERVICES_APPLICATION, "EV_EFI_BOOT_SERVICES_APPLICATION" },
        { EV_EFI_BOOT_SERVICES_DRIVER, "EV_EFI_BOOT_SERVICES_DRIVER" },
        { EV_EFI_RUNTIME_SERVICES_DRIVER, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
        { EV_EFI_GPT_EVENT, "EV_EFI_GPT_EVENT" },
        { EV_EFI_ACTION, "EV_EFI_ACTION" },
        { EV_EFI_PLATFORM_FIRMWARE_BLOB, "EV_EFI_PLATFORM_FIRMWARE_BLOB" },
        { EV_EFI_HANDOFF_TABLES, "EV_EFI_HANDOFF_TABLES" },
        { EV_EFI_PLATFORM_FIRMWARE_BLOB2, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" },
        { EV_EFI_HANDOFF_TABLES2, "EV_EFI_HANDOFF_TABLES2" },
        { EV_EFI_VARIABLE_BOOT2, "EV_EFI_VARIABLE_BOOT2" },
        { EV_EFI_HCRTM_EVENT, "EV_EFI_HCRTM_EVENT" },
        { EV_EFI_VARIABLE_AUTHORITY, "EV_EFI_VARIABLE_AUTHORITY" },
        { EV_EFI_SPDM_FIRMWARE_BLOB, "EV_EFI_SPDM_FIRMWARE_BLOB" },
        { EV_EFI_SPDM_FIRMWARE_CONFIG, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

const char *eventlog_type_name(uint32_t type) {
        for (size_t i = 0; i < ELEMENTSOF(event_types); i++)
                if (event_types[i].type == type)
                        return event_types[i].name;
        return NULL;
}

int eventlog_type_from_name(const char *name, uint32_t *type) {
        for (size_t i = 0; i < ELEMENTSOF(event_types); i++)
                if (strcmp(event_types[i].name, name) == 0) {
                        *type = event_types[i].type;
                        return 0;
                }
        return vm_error(-EINVAL, "unknown event type \"%.64s\"", name);
}

const char *eventlog_type_label(uint32_t type, char *buf, size_t size) {
        const char *name = eventlog_type_name(type);

        if (name)
                return name;
        snprintf(buf, size, "type 0x%08x", type);
        return buf;
}

int eventlog_uefi_variable(const struct eventlog_event *ev, struct eventlog_uefi_variable *var) {
        uint32_t name_low, name_high, data_low, data_high;
        char what[64];
        struct reader r;

        memset(var, 0, sizeof(*var));
        snprintf(what, sizeof(what), "event log event %u (UEFI_VARIABLE_DATA)", ev->index);
        reader_init(&r, ev->data, ev->data_size, what);
        reader_bytes(&r, 16, &var->guid, "VariableName");
        reader_u32le(&r, &name_low, "UnicodeNameLength");
        reader_u32le(&r, &name_high, "UnicodeNameLength");
        reader_u32le(&r, &data_low, "VariableDataLength");
        reader_u32le(&r, &data_high, "VariableDataLength");
        if (r.failed)
                return -EBADMSG;
        /* both are u64; the event data is at most EVENTLOG_MAX_EVENT_DATA bytes */
        if (name_high || name_low > EVENTLOG_MAX_EVENT_DATA / 2)
                return reader_invalid(&r, "UnicodeNameLength exceeds the event data");
        if (data_high || data_low > EVENTLOG_MAX_EVENT_DATA)
                return reader_invalid(&r, "VariableDataLength exceeds the event data");
        var->name_length = name_low;
        var->data_size = data_low;
        if (reader_bytes(&r, 2 * var->name_length, &var->name_utf16, "UnicodeName") < 0 ||
            reader_bytes(&r, var->data_size, &var->data, "VariableData") < 0)
                return -EBADMSG;
        return reader_expect_end(&r);
}

bool eventlog_uefi_variable_is(const struct eventlog_uefi_variable *var, const uint8_t guid[16], const char *name) {
        size_t length = strlen(name);
        struct reader r;

        if (memcmp(var->guid, guid, 16) != 0 || var->name_length != length)
                return false;
        reader_init(&r, var->name_utf16, 2 * var->name_length, "UEFI variable name");
        for (size_t i = 0; i < length; i++) {
                uint16_t c;

                if (reader_u16le(&r, &c, "CHAR16") < 0 || c != (unsigned char)name[i])
                        return false;
        }
        return true;
}

/* What the TPM vouches for is the digest an event extends, never its data: data vmattest
 * interprets must hash to that digest. The PC Client profile defines the digest of every event
 * in PCR 7 (variables, including EV_EFI_VARIABLE_DRIVER_CONFIG's whole UEFI_VARIABLE_DATA,
 * EV_SEPARATOR, EV_EFI_ACTION) as the hash of its event data. Each bank the log carries is
 * checked, except one vmattest cannot hash (SM3, SHA3), which no quote it accepts is over. */
static int check_data_digests(const struct eventlog_event *ev) {
        for (uint32_t i = 0; i < ev->digest_count; i++) {
                const struct eventlog_digest *d = &ev->digests[i];
                uint8_t data_digest[DIGEST_SIZE_MAX];
                char label[32];
                int ret;

                if (!hashalg_md(d->alg))
                        continue;
                ret = hashalg_digest(d->alg, ev->data, ev->data_size, data_digest);
                if (ret < 0)
                        return ret;
                if (d->size != hashalg_size(d->alg) || memcmp(d->digest, data_digest, d->size) != 0)
                        return vm_error(-EBADMSG,
                                        "event log event %u (PCR %u, %s): its %s digest is not the hash of its event data",
                                        ev->index, ev->pcr, eventlog_type_label(ev->type, label, sizeof(label)),
                                        hashalg_name(d->alg));
        }
        return 0;
}

/* Whether the event data opens as UEFI_VARIABLE_DATA of EFI_GLOBAL_VARIABLE "SecureBoot". Looked
 * at without recording an error: most events of PCR 7 hold other variables or none. */
static bool names_secure_boot(const struct eventlog_event *ev) {
        static const char name[] = "SecureBoot";
        struct eventlog_uefi_variable var = { .name_length = sizeof(name) - 1 };
        uint32_t name_low, name_high;
        struct reader r;

        reader_init(&r, ev->data, ev->data_size, "UEFI_VARIABLE_DATA");
        if (reader_left(&r) < 16 + 8 + 8 + 2 * var.name_length)
                return false;
        reader_bytes(&r, 16, &var.guid, "VariableName");
        reader_u32le(&r, &name_low, "UnicodeNameLength");
        reader_u32le(&r, &name_high, "UnicodeNameLength");
        reader_skip(&r, 8, "VariableDataLength");
        reader_bytes(&r, 2 * var.name_length, &var.name_utf16, "UnicodeName");
        return name_low == var.name_length && name_high == 0 &&
               eventlog_uefi_variable_is(&var, eventlog_efi_global_variable_guid, name);
}

struct secure_boot_walk {
        enum eventlog_secure_boot state;
        uint32_t index; /* of the SecureBoot event, 0 while none was seen */
};

/* Neither an event's type nor its data is covered by the digest it extends, so the SecureBoot
 * event is not found by its type: a guest could relabel the firmware's event so that a reader
 * selecting EV_EFI_VARIABLE_DRIVER_CONFIG skips it, and log one of its own (PCR 7 can be
 * extended after boot) that says enabled. Every PCR 7 event that extends is looked at: its
 * digest must be its data's hash (so that the firmware's event keeps the data it was measured
 * with, under any label), and each one that holds the SecureBoot variable counts. The firmware
 * measures the variable before it boots anything (PFP), so a guest's later event meets the
 * firmware's and they must agree. EV_NO_ACTION events extend nothing, and are skipped as the
 * replay skips them: a real extend relabelled EV_NO_ACTION leaves the replay short of the
 * quoted PCR 7. */
static int secure_boot_event(const struct eventlog_event *ev, void *user) {
        struct secure_boot_walk *walk = user;
        enum eventlog_secure_boot state;
        struct eventlog_uefi_variable var;
        char what[64];
        struct reader r;
        uint8_t value;
        int ret;

        if (ev->index == 0 || ev->pcr != 7 || ev->type == EV_NO_ACTION)
                return 0;
        ret = check_data_digests(ev);
        if (ret < 0)
                return ret;
        if (!names_secure_boot(ev))
                return 0;
        ret = eventlog_uefi_variable(ev, &var);
        if (ret < 0)
                return ret;
        snprintf(what, sizeof(what), "event log event %u (SecureBoot)", ev->index);
        reader_init(&r, var.data, var.data_size, what);
        if (var.data_size == 0)
                state = EVENTLOG_SECURE_BOOT_ABSENT;
        else if (reader_u8(&r, &value, "value") < 0 || reader_expect_end(&r) < 0)
                return -EBADMSG;
        else if (value > 1)
                return reader_invalid(&r, "value %u is neither 0 nor 1", value);
        else
                state = value ? EVENTLOG_SECURE_BOOT_ENABLED : EVENTLOG_SECURE_BOOT_DISABLED;
        if (walk->index && state != walk->state)
                return vm_error(-EBADMSG, "event log event %u: SecureBoot measured %s, event %u measured it %s",
                                ev->index, eventlog_secure_boot_name(state), walk->index,
                                eventlog_secure_boot_name(walk->state));
        walk->state = state;
        walk->index = ev->index;
        return 0;
}

int eventlog_secure_boot(const uint8_t *log, size_t size, enum eventlog_secure_boot *state) {
        struct secure_boot_walk walk = { .state = EVENTLOG_SECURE_BOOT_ABSENT };
        int ret = eventlog_foreach(log, size, secure_boot_event, &walk);

        if (ret < 0)
                return ret;
        *state = walk.state;
        return 0;
}

const char *eventlog_secure_boot_name(enum eventlog_secure_boot state) {
        switch (state) {
        case EVENTLOG_SECURE_BOOT_ENABLED:
                return "enabled";
        case EVENTLOG_SECURE_BOOT_DISABLED:
                return "disabled";
        case EVENTLOG_SECURE_BOOT_ABSENT:
        default:
                return "absent";
        }
}
