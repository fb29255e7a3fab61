#include "lib/host_binding.h"

#include <openssl/evp.h>
#include <string.h>

#include "lib/error.h"
#include "lib/hashalg.h"
#include "lib/quote_string.h"
#include "lib/reader.h"
#include "lib/tpm2b.h"
#include "lib/writer.h"

/* A TPM2B whose contents tss2-mu unmarshals with its size prefix (TPM2B_PUBLIC): the prefix
 * and the bytes it announces, copied out of the reader into `buf` (at least 2 + UINT16_MAX). */
static int read_sized(struct reader *r, uint8_t *buf, size_t cap, size_t *size, const char *field) {
        const uint8_t *p;
        uint16_t n;
        int ret;

        if ((ret = reader_u16be(r, &n, field)) < 0 || (ret = reader_bytes(r, n, &p, field)) < 0)
                return ret;
        if (n == 0)
                return reader_invalid(r, "%s is empty", field);
        if ((size_t)n + 2 > cap)
                return reader_invalid(r, "%s is %u bytes, more than a TPM makes", field, n);
        buf[0] = (uint8_t)(n >> 8);
        buf[1] = (uint8_t)n;
        memcpy(buf + 2, p, n);
        *size = (size_t)n + 2;
        return 0;
}

static int read_pcrs(struct reader *r, struct pcr_values *pcrs) {
        uint16_t bank;
        size_t digest_size;
        int ret;

        memset(pcrs, 0, sizeof(*pcrs));
        if ((ret = reader_u16be(r, &bank, "PCR bank")) < 0 || (ret = reader_u32be(r, &pcrs->mask, "PCR mask")) < 0)
                return ret;
        digest_size = hashalg_size(bank);
        if (!digest_size)
                return reader_invalid(r, "PCR bank 0x%04x is not a known hash", bank);
        if (pcrs->mask == 0 || pcrs->mask & ~HOST_BINDING_PCR_MASK)
                return reader_invalid(r, "PCR mask 0x%08x is not a selection of PCRs 0-23", pcrs->mask);
        pcrs->bank = bank;
        for (unsigned i = 0; i < PCR_MAX; i++) {
                if (!(pcrs->mask & 1u << i))
                        continue;
                if ((ret = reader_copy(r, pcrs->value[i].buffer, digest_size, "PCR value")) < 0)
                        return ret;
                pcrs->value[i].size = (UINT16)digest_size;
        }
        return 0;
}

int host_binding_parse(const uint8_t *data, size_t size, struct host_binding *out) {
        uint8_t buf[2 + sizeof(TPMT_PUBLIC) + sizeof(TPMT_SIGNATURE)];
        struct reader r;
        TPMS_ATTEST attest;
        uint32_t magic;
        uint16_t version;
        size_t n;
        int ret;

        memset(out, 0, sizeof(*out));
        if (size > HOST_BINDING_MAX_SIZE)
                return vm_error(-EBADMSG, "host binding: %zu bytes, more than %d", size, HOST_BINDING_MAX_SIZE);
        reader_init(&r, data, size, "host binding");
        if ((ret = reader_u32be(&r, &magic, "magic")) < 0)
                return ret;
        if (magic != HOST_BINDING_MAGIC)
                return reader_invalid(&r, "magic 0x%08x is not \"VMHB\"", magic);
        if ((ret = reader_u16be(&r, &version, "version")) < 0)
                return ret;
        if (version != HOST_BINDING_VERSION && version != HOST_BINDING_VERSION_FRESH)
                return reader_invalid(&r, "version %u is not %d or %d", version, HOST_BINDING_VERSION,
                                      HOST_BINDING_VERSION_FRESH);
        out->version = version;
        if (version == HOST_BINDING_VERSION_FRESH) {
                uint16_t nonce_size;

                if ((ret = reader_u16be(&r, &nonce_size, "nonce size")) < 0)
                        return ret;
                if (nonce_size == 0 || nonce_size > HOST_BINDING_NONCE_MAX)
                        return reader_invalid(&r, "nonce of %u bytes, not 1-%d", nonce_size, HOST_BINDING_NONCE_MAX);
                if ((ret = reader_copy(&r, out->nonce, nonce_size, "nonce")) < 0)
                        return ret;
                out->nonce_size = nonce_size;
        }

        if ((ret = read_sized(&r, buf, sizeof(buf), &n, "host AK (TPM2B_PUBLIC)")) < 0)
                return ret;
        if ((ret = tpm2b_public_unmarshal(buf, n, &out->host_ak)) < 0)
                return vm_error(ret, "host binding: host AK: %s", vm_error_detail(ret));

        if ((ret = read_sized(&r, buf, sizeof(buf), &n, "quote (TPM2B_ATTEST)")) < 0)
                return ret;
        if (n - 2 > sizeof(out->attest))
                return reader_invalid(&r, "quote is %zu bytes, more than a TPMS_ATTEST", n - 2);
        memcpy(out->attest, buf + 2, n - 2);
        out->attest_size = n - 2;
        if ((ret = quote_attest_parse(out->attest, out->attest_size, &attest)) < 0)
                return vm_error(ret, "host binding: quote: %s", vm_error_detail(ret));

        if ((ret = read_sized(&r, buf, sizeof(buf), &n, "signature (TPMT_SIGNATURE)")) < 0)
                return ret;
        if ((ret = tpmt_signature_unmarshal(buf + 2, n - 2, &out->signature)) < 0)
                return vm_error(ret, "host binding: signature: %s", vm_error_detail(ret));

        if ((ret = read_pcrs(&r, &out->pcrs)) < 0)
                return ret;
        return reader_expect_end(&r);
}

static int write_sized(struct writer *w, const uint8_t *p, size_t n) {
        int ret;

        if (n == 0 || n > UINT16_MAX)
                return vm_error(-EINVAL, "host binding: a field of %zu bytes", n);
        if ((ret = writer_u16be(w, (uint16_t)n)) < 0)
                return ret;
        return writer_bytes(w, p, n);
}

int host_binding_encode(const struct host_binding *in, uint8_t *out, size_t cap, size_t *out_size) {
        uint8_t buf[sizeof(TPM2B_PUBLIC) + sizeof(TPMT_SIGNATURE)];
        size_t digest_size = hashalg_size(in->pcrs.bank), n;
        struct writer w;
        int ret;

        if (!digest_size || in->pcrs.mask == 0 || in->pcrs.mask & ~HOST_BINDING_PCR_MASK)
                return vm_error(-EINVAL, "host binding: PCR selection 0x%08x of bank 0x%04x", in->pcrs.mask,
                                in->pcrs.bank);
        writer_init(&w, out, cap);
        writer_u32be(&w, HOST_BINDING_MAGIC);
        if (in->version == HOST_BINDING_VERSION_FRESH) {
                if (in->nonce_size == 0 || in->nonce_size > HOST_BINDING_NONCE_MAX)
                        return vm_error(-EINVAL, "host binding: a nonce of %zu bytes", in->nonce_size);
                writer_u16be(&w, HOST_BINDING_VERSION_FRESH);
                writer_u16be(&w, (uint16_t)in->nonce_size);
                writer_bytes(&w, in->nonce, in->nonce_size);
        } else if (in->version == 0 || in->version == HOST_BINDING_VERSION)
                writer_u16be(&w, HOST_BINDING_VERSION);
        else
                return vm_error(-EINVAL, "host binding: version %u", in->version);
        /* the marshalled TPM2B_PUBLIC is the field as the parser reads it: size, then TPMT_PUBLIC */
        if ((ret = tpm2b_public_marshal(&in->host_ak, buf, sizeof(buf), &n)) < 0)
                return ret;
        writer_bytes(&w, buf, n);
        if ((ret = write_sized(&w, in->attest, in->attest_size)) < 0)
                return ret;
        if ((ret = tpmt_signature_marshal(&in->signature, buf, sizeof(buf), &n)) < 0)
                return ret;
        if ((ret = write_sized(&w, buf, n)) < 0)
                return ret;
        writer_u16be(&w, in->pcrs.bank);
        writer_u32be(&w, in->pcrs.mask);
        for (unsigned i = 0; i < PCR_MAX; i++) {
                if (!(in->pcrs.mask & 1u << i))
                        continue;
                if (in->pcrs.value[i].size != digest_size)
                        return vm_error(-EINVAL, "host binding: PCR %u value is %u bytes, not %zu", i,
                                        in->pcrs.value[i].size, digest_size);
                writer_bytes(&w, in->pcrs.value[i].buffer, digest_size);
        }
        if (w.failed)
                return vm_error(-ENOBUFS, "host binding: more than %zu bytes", cap);
        *out_size = w.offset;
        return 0;
}

int host_binding_name_check(const TPM2B_NAME *name) {
        TPM2_ALG_ID alg;

        if (name->size < 2)
                return vm_error(-EINVAL, "host binding: EK name is %u bytes, not nameAlg || digest", name->size);
        alg = (TPM2_ALG_ID)(name->name[0] << 8 | name->name[1]);
        if (!hashalg_size(alg) || name->size != 2 + hashalg_size(alg))
                return vm_error(-EINVAL, "host binding: EK name of %u bytes is not nameAlg 0x%04x || its digest",
                                name->size, alg);
        return 0;
}

int host_binding_qualifying_data(const TPM2B_NAME *ek_name, uint8_t out[HOST_BINDING_QUALIFYING_SIZE]) {
        uint8_t input[sizeof(HOST_BINDING_LABEL) - 1 + sizeof(ek_name->name)];
        size_t label_size = sizeof(HOST_BINDING_LABEL) - 1;
        int ret = host_binding_name_check(ek_name);

        if (ret < 0)
                return ret;
        memcpy(input, HOST_BINDING_LABEL, label_size);
        memcpy(input + label_size, ek_name->name, ek_name->size);
        return hashalg_digest(TPM2_ALG_SHA256, input, label_size + ek_name->size, out);
}

int host_binding_fresh_qualifying_data(const uint8_t *nonce, size_t nonce_size, const TPM2B_NAME *ek_name,
                                       uint8_t out[HOST_BINDING_QUALIFYING_SIZE]) {
        uint8_t input[sizeof(HOST_BINDING_FRESH_LABEL) - 1 + HOST_BINDING_NONCE_MAX + sizeof(ek_name->name)];
        size_t label_size = sizeof(HOST_BINDING_FRESH_LABEL) - 1;
        int ret = host_binding_name_check(ek_name);

        if (ret < 0)
                return ret;
        if (nonce_size == 0 || nonce_size > HOST_BINDING_NONCE_MAX)
                return vm_error(-EINVAL, "host binding: a nonce of %zu bytes, not 1-%d", nonce_size,
                                HOST_BINDING_NONCE_MAX);
        memcpy(input, HOST_BINDING_FRESH_LABEL, label_size);
        memcpy(input + label_size, nonce, nonce_size);
        memcpy(input + label_size + nonce_size, ek_name->name, ek_name->size);
        return hashalg_digest(TPM2_ALG_SHA256, input, label_size + nonce_size + ek_name->size, out);
}
