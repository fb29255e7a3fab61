/* Fuzzes vmattest-verifier evidence (verifier/evidence_cmd.h) end to end on one file: the
 * first input byte picks the kind (0 snp-report, 1 tdx-quote, 2 hcl-report, 3 eventlog,
 * 4 tpm-quote's attest, 5 its AK, 6 its --pcrs JSON; the other files of tpm-quote are the real
 * GCE quote's), the rest is the file. Every kind records and prints (as JSON, to /dev/null) the
 * facts of whatever its parsers accept. Seeds: the real reports, quote and logs of
 * tests/fixtures/platforms (read at start from the top of the tree, as tests/run runs the
 * harnesses). Invariants: the exit status is 0, 1 or 2, never more; nothing passes that no
 * signature covers: an SNP report, TDX quote or TPM quote other than the real one never has
 * exit status 0 when its signature was checked. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "verifier/evidence_cmd.h"
#include "verifier/snp_report.h"

#define GCE "tests/fixtures/platforms/gce/gce-cos-85-nonce9009/"
#define SNP "tests/fixtures/platforms/snp/"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc;
        (void)argv;
        setenv("TSS2_LOG", "all+NONE", 0);
        log_setup("fuzz-evidence-cmd", LOG_LEVEL_SILENT);
        if (access(GCE "quote-sha256/quote.sig", R_OK) != 0 || access(SNP "vcek.testcer", R_OK) != 0) {
                fprintf(stderr, "fuzz-evidence-cmd: run from the top of the tree (needs %s and %s)\n", GCE, SNP);
                abort();
        }
        snprintf(path, sizeof(path), "/tmp/fuzz-evidence-cmd.%d", (int)getpid());
        if (!freopen("/dev/null", "w", stdout)) /* the facts printed; libFuzzer reports on stderr */
                abort();
        return 0;
}

/* The first `prefix` bytes of `data` are the real file's (all of it when `prefix` is 0). */
static bool same_file(const char *real, const uint8_t *data, size_t size, size_t prefix) {
        uint8_t buf[8192];
        FILE *f = fopen(real, "rb");
        size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;

        if (f)
                fclose(f);
        if (prefix)
                return size >= prefix && n >= prefix && memcmp(buf, data, prefix) == 0;
        return n == size && memcmp(buf, data, size) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct evidence_args a = { .json = true, .at = 1748736000 /* 2025-06-01 */ };
        struct evidence_out out = { 0 };
        unsigned kind;
        FILE *f;
        int ret;
        bool genuine = false;

        if (size < 1)
                return 0;
        kind = data[0] % 7;
        data++, size--;
        if (!(f = fopen(path, "wb")) || fwrite(data, 1, size, f) != size || fclose(f) != 0)
                abort();
        a.file = path;
        out.facts = json_object_new_object();
        out.checks = json_object_new_array();
        out.reasons = json_object_new_array();
        out.not_checked = json_object_new_array();
        switch (kind) {
        case 0:
                out.kind = "snp-report";
                a.vcek = SNP "vcek.testcer";
                a.amd_certs = SNP; /* Milan's, Genoa's and Turin's ASK/ARK */
                /* the signed bytes are the real report's (an ECDSA signature has two valid forms) */
                genuine = same_file(SNP "attestation.bin", data, size, SNP_REPORT_SIGNED_SIZE);
                ret = evidence_snp_report(&a, &out);
                break;
        case 1:
                out.kind = "tdx-quote";
                a.intel_root = "tests/fixtures/platforms/tdx/trusted_root.pem";
                genuine = true; /* a quote carries its own chain: another genuine one may pass */
                ret = evidence_tdx_quote(&a, &out);
                break;
        case 2:
                out.kind = "hcl-report";
                genuine = true; /* the binding alone is checked: a self-consistent report passes */
                ret = evidence_hcl_report(&a, &out);
                break;
        case 3:
                out.kind = "eventlog";
                genuine = true; /* a log that parses passes */
                ret = evidence_eventlog(&a, &out);
                break;
        default:
                out.kind = "tpm-quote";
                a.attest = kind == 4 ? path : GCE "quote-sha256/quote.attest";
                a.ak = kind == 5 ? path : GCE "ak_pub.tpmt";
                a.pcrs = kind == 6 ? path : GCE "quote-sha256/pcrs.json";
                a.signature = GCE "quote-sha256/quote.sig";
                memcpy(a.nonce, "\x90\x09", 2), a.nonce_size = 2, a.has_nonce = true;
                /* the attest is what the AK signed; an AK file or a JSON that differs may still
                 * describe the same key and the same values */
                genuine = kind != 4 || same_file(GCE "quote-sha256/quote.attest", data, size, 0);
                ret = evidence_tpm_quote(&a, &out);
                break;
        }
        json_object_put(out.facts);
        json_object_put(out.checks);
        json_object_put(out.reasons);
        json_object_put(out.not_checked);
        unlink(path);
        if (ret < 0 || ret > 2)
                abort();
        if (ret == 0 && !genuine)
                abort();
        return 0;
}
