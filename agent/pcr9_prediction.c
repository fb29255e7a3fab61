#include "agent/pcr9_prediction.h"

#include <openssl/evp.h>
#include <string.h>

#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/reader.h"

#define PCR9 9

struct replay {
        struct pcr9_prediction *out;
        const uint8_t *initrd_digest;
        const EVP_MD *md;
        unsigned initrd_events;
};

/* Whether the event is the stub's initrd measurement: TCG_PCClientTaggedEvent, u32 taggedEventID
 * first (little-endian). */
static bool initrd_event(const struct eventlog_event *ev) {
        struct reader r;
        uint32_t tag;

        if (ev->type != EV_EVENT_TAG)
                return false;
        reader_init(&r, ev->data, ev->data_size, "tagged event");
        return reader_u32le(&r, &tag, "taggedEventID") >= 0 && tag == PCR9_INITRD_EVENT_TAG;
}

static int extend(const EVP_MD *md, uint8_t *pcr, size_t size, const uint8_t *digest) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, pcr, size) &&
                 EVP_DigestUpdate(ctx, digest, size) && EVP_DigestFinal_ex(ctx, pcr, NULL);

        EVP_MD_CTX_free(ctx);
        return ok ? 0 : vm_error(-EIO, "cannot hash PCR 9's replay");
}

static int replay_event(const struct eventlog_event *ev, void *user) {
        struct replay *r = user;
        struct pcr9_prediction *out = r->out;
        const uint8_t *digest;
        bool initrd;
        int ret;

        if (ev->index == 0 || ev->pcr != PCR9 || ev->type == EV_NO_ACTION)
                return 0;
        digest = eventlog_event_digest(ev, out->bank);
        if (!digest)
                return vm_error(-EBADMSG, "event %u (PCR 9) has no %s digest", ev->index, hashalg_name(out->bank));
        initrd = initrd_event(ev);
        if (initrd && r->initrd_events++)
                return vm_error(-EBADMSG, "events %u and %u are both the initrd's (PCR 9, EV_EVENT_TAG \"Linux initrd\"): "
                                          "which one the next boot replaces is not known",
                                out->initrd_event, ev->index);
        if (initrd)
                out->initrd_event = ev->index;
        out->events++;
        ret = extend(r->md, out->current, out->size, digest);
        if (ret >= 0)
                ret = extend(r->md, out->predicted, out->size, initrd ? r->initrd_digest : digest);
        return ret;
}

int pcr9_predict(const uint8_t *log, size_t size, TPM2_ALG_ID bank, const uint8_t *initrd_digest,
                 struct pcr9_prediction *out) {
        struct eventlog_spec_id spec;
        struct replay r = { .out = out, .initrd_digest = initrd_digest, .md = hashalg_md(bank) };
        bool declared = false;
        int ret;

        memset(out, 0, sizeof(*out));
        out->bank = bank;
        out->size = hashalg_size(bank);
        if (!r.md || out->size == 0 || out->size > sizeof(out->current))
                return vm_error(-EINVAL, "PCR 9: bank 0x%04x cannot be hashed here", bank);
        ret = eventlog_spec_id(log, size, &spec);
        if (ret < 0)
                return ret;
        for (uint32_t i = 0; i < spec.algorithm_count; i++)
                declared |= spec.algorithms[i].alg == bank;
        if (!declared)
                return vm_error(-EBADMSG, "the event log carries no %s digests", hashalg_name(bank));
        /* PCR 9 starts at zeros (PC Client PTP: only PCR 0's start depends on the locality) */
        ret = eventlog_foreach(log, size, replay_event, &r);
        if (ret < 0)
                return ret;
        if (r.initrd_events == 0)
                return vm_error(-EBADMSG, "PCR 9 has no initrd event (EV_EVENT_TAG \"Linux initrd\") in this boot's log: "
                                          "the kernel was not booted by its EFI stub with an initrd");
        return 0;
}
