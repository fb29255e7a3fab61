/* Parses an SEV-SNP ATTESTATION_REPORT field by field (offsets in the comments are the ABI
 * spec's). Every byte of the report is either a named field or a reserved range that must be
 * zero: a report whose layout we do not know is refused, not half-read. */
#include "verifier/snp_report.h"

#include <string.h>

#include "lib/error.h"
#include "lib/reader.h"

static int read_u64le(struct reader *r, uint64_t *v, const char *field) {
        uint32_t lo = 0, hi = 0;
        int ret = reader_u32le(r, &lo, field);

        if (ret < 0)
                return ret;
        ret = reader_u32le(r, &hi, field);
        if (ret < 0)
                return ret;
        *v = (uint64_t)hi << 32 | lo;
        return 0;
}

static bool all_zero(const uint8_t *p, size_t n) {
        uint8_t acc = 0;

        for (size_t i = 0; i < n; i++)
                acc |= p[i];
        return acc == 0;
}

/* A reserved range: `n` bytes that must be zero, named by their offsets. */
static int read_reserved(struct reader *r, size_t n) {
        size_t start = r->offset;
        const uint8_t *p;
        int ret = reader_bytes(r, n, &p, "reserved");

        if (ret < 0)
                return ret;
        if (!all_zero(p, n)) {
                r->offset = start;
                return reader_invalid(r, "reserved bytes 0x%03zx-0x%03zx are not zero", start, start + n - 1);
        }
        return 0;
}

static int read_header(struct reader *r, struct snp_report *rep) {
        int ret;

        if ((ret = reader_u32le(r, &rep->version, "version")) < 0)
                return ret;
        /* Version 4 was never published; others have a layout this parser does not know. */
        if (rep->version != 2 && rep->version != 3 && rep->version != 5) {
                r->offset = 0;
                return reader_invalid(r, "version %u is not supported (2, 3 or 5)", rep->version);
        }
        if ((ret = reader_u32le(r, &rep->guest_svn, "guest_svn")) < 0 ||
            (ret = read_u64le(r, &rep->policy, "policy")) < 0)
                return ret;
        if (!(rep->policy & SNP_POLICY_RESERVED_ONE))
                return reader_invalid(r, "policy bit 17 is reserved and must be one (policy 0x%016llx)",
                                      (unsigned long long)rep->policy);
        if (rep->policy & ~SNP_POLICY_KNOWN_MASK)
                return reader_invalid(r, "policy bits 63:26 are reserved and must be zero (policy 0x%016llx)",
                                      (unsigned long long)rep->policy);
        if ((ret = reader_copy(r, rep->family_id, sizeof(rep->family_id), "family_id")) < 0 ||
            (ret = reader_copy(r, rep->image_id, sizeof(rep->image_id), "image_id")) < 0 ||
            (ret = reader_u32le(r, &rep->vmpl, "vmpl")) < 0 ||
            (ret = reader_u32le(r, &rep->signature_algo, "signature_algo")) < 0 ||
            (ret = read_u64le(r, &rep->current_tcb, "current_tcb")) < 0 ||
            (ret = read_u64le(r, &rep->platform_info, "platform_info")) < 0 ||
            (ret = reader_u32le(r, &rep->signer_info, "signer_info")) < 0)
                return ret;
        if (rep->signer_info >> 5)
                return reader_invalid(r, "signer_info bits 31:5 are reserved and must be zero (0x%08x)",
                                      rep->signer_info);
        rep->signing_key = (enum snp_signing_key)((rep->signer_info >> 2) & 7);
        if (rep->signing_key != SNP_SIGNING_KEY_VCEK && rep->signing_key != SNP_SIGNING_KEY_VLEK &&
            rep->signing_key != SNP_SIGNING_KEY_NONE)
                return reader_invalid(r, "signer_info signing key %u is reserved (0 VCEK, 1 VLEK, 7 none)",
                                      (unsigned)rep->signing_key);
        rep->mask_chip_id = rep->signer_info & 2;
        rep->author_key_en = rep->signer_info & 1;
        return read_reserved(r, 4); /* 0x04c */
}

static int read_digests(struct reader *r, struct snp_report *rep) {
        int ret;

        if ((ret = reader_copy(r, rep->report_data, sizeof(rep->report_data), "report_data")) < 0 ||
            (ret = reader_copy(r, rep->measurement, sizeof(rep->measurement), "measurement")) < 0 ||
            (ret = reader_copy(r, rep->host_data, sizeof(rep->host_data), "host_data")) < 0 ||
            (ret = reader_copy(r, rep->id_key_digest, sizeof(rep->id_key_digest), "id_key_digest")) < 0 ||
            (ret = reader_copy(r, rep->author_key_digest, sizeof(rep->author_key_digest), "author_key_digest")) < 0 ||
            (ret = reader_copy(r, rep->report_id, sizeof(rep->report_id), "report_id")) < 0 ||
            (ret = reader_copy(r, rep->report_id_ma, sizeof(rep->report_id_ma), "report_id_ma")) < 0 ||
            (ret = read_u64le(r, &rep->reported_tcb, "reported_tcb")) < 0)
                return ret;
        /* 0x188: CPUID family, model and stepping from version 3 on, reserved before */
        if (rep->version >= 3) {
                rep->has_cpuid = true;
                if ((ret = reader_u8(r, &rep->cpuid_fam_id, "cpuid_fam_id")) < 0 ||
                    (ret = reader_u8(r, &rep->cpuid_mod_id, "cpuid_mod_id")) < 0 ||
                    (ret = reader_u8(r, &rep->cpuid_step, "cpuid_step")) < 0)
                        return ret;
                return read_reserved(r, 0x1A0 - 0x18B);
        }
        return read_reserved(r, 0x1A0 - 0x188);
}

static int read_platform(struct reader *r, struct snp_report *rep) {
        int ret;

        if ((ret = reader_copy(r, rep->chip_id, sizeof(rep->chip_id), "chip_id")) < 0 ||
            (ret = read_u64le(r, &rep->committed_tcb, "committed_tcb")) < 0 ||
            (ret = reader_u8(r, &rep->current_build, "current_build")) < 0 ||
            (ret = reader_u8(r, &rep->current_minor, "current_minor")) < 0 ||
            (ret = reader_u8(r, &rep->current_major, "current_major")) < 0 ||
            (ret = read_reserved(r, 1)) < 0 ||
            (ret = reader_u8(r, &rep->committed_build, "committed_build")) < 0 ||
            (ret = reader_u8(r, &rep->committed_minor, "committed_minor")) < 0 ||
            (ret = reader_u8(r, &rep->committed_major, "committed_major")) < 0 ||
            (ret = read_reserved(r, 1)) < 0 ||
            (ret = read_u64le(r, &rep->launch_tcb, "launch_tcb")) < 0)
                return ret;
        /* 0x1f8: the mitigation vectors from version 5 on, reserved before */
        if (rep->version >= 5) {
                rep->has_mit_vectors = true;
                if ((ret = read_u64le(r, &rep->launch_mit_vector, "launch_mit_vector")) < 0 ||
                    (ret = read_u64le(r, &rep->current_mit_vector, "current_mit_vector")) < 0)
                        return ret;
                return read_reserved(r, SNP_REPORT_SIGNED_SIZE - 0x208);
        }
        return read_reserved(r, SNP_REPORT_SIGNED_SIZE - 0x1F8);
}

static int read_signature(struct reader *r, struct snp_report *rep) {
        int ret;

        if ((ret = reader_copy(r, rep->signature_r, sizeof(rep->signature_r), "signature r")) < 0 ||
            (ret = reader_copy(r, rep->signature_s, sizeof(rep->signature_s), "signature s")) < 0)
                return ret;
        /* the rest of the 512-byte signature field is unused by ECDSA P-384; other algorithms
         * are refused by the verifier, so it is only skipped for them here */
        if (rep->signature_algo == SNP_SIGNATURE_ECDSA_P384_SHA384)
                return read_reserved(r, SNP_REPORT_SIZE - SNP_REPORT_SIGNED_SIZE - 2 * SNP_ECDSA_COMPONENT_SIZE);
        return reader_skip(r, SNP_REPORT_SIZE - SNP_REPORT_SIGNED_SIZE - 2 * SNP_ECDSA_COMPONENT_SIZE,
                           "signature padding");
}

int snp_report_parse(const uint8_t *data, size_t size, struct snp_report *report) {
        struct reader r;
        int ret;

        memset(report, 0, sizeof(*report));
        if (size != SNP_REPORT_SIZE)
                return vm_error(-EBADMSG, "SNP report: %zu bytes, an ATTESTATION_REPORT is %d", size, SNP_REPORT_SIZE);
        reader_init(&r, data, size, "SNP report");
        if ((ret = read_header(&r, report)) < 0 || (ret = read_digests(&r, report)) < 0 ||
            (ret = read_platform(&r, report)) < 0 || (ret = read_signature(&r, report)) < 0 ||
            (ret = reader_expect_end(&r)) < 0)
                return ret;
        memcpy(report->bytes, data, SNP_REPORT_SIZE);
        return 0;
}

void snp_tcb_decode(uint64_t raw, enum snp_product product, struct snp_tcb *tcb) {
        uint8_t b[8];

        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t)(raw >> (8 * i));
        *tcb = (struct snp_tcb){.raw = raw, .ucode = b[7]};
        if (product == SNP_PRODUCT_TURIN) {
                tcb->has_fmc = true;
                tcb->fmc = b[0];
                tcb->bl = b[1];
                tcb->tee = b[2];
                tcb->snp = b[3];
        } else {
                tcb->bl = b[0];
                tcb->tee = b[1];
                tcb->snp = b[6];
        }
}

enum snp_product snp_product_of_cpuid(uint8_t family, uint8_t model) {
        if (family == 0x19 && model >> 4 == 0)
                return SNP_PRODUCT_MILAN;
        if (family == 0x19 && model >> 4 == 1)
                return SNP_PRODUCT_GENOA;
        if (family == 0x1A)
                return SNP_PRODUCT_TURIN;
        return SNP_PRODUCT_UNKNOWN;
}

const char *snp_product_name(enum snp_product product) {
        switch (product) {
        case SNP_PRODUCT_MILAN:
                return "Milan";
        case SNP_PRODUCT_GENOA:
                return "Genoa";
        case SNP_PRODUCT_TURIN:
                return "Turin";
        default:
                return "unknown";
        }
}
