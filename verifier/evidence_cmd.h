/* The pieces of `vmattest-verifier evidence` (verifier/cmd_evidence.c) shared by its files:
 * the command line as parsed, what one run found, and how it is printed
 * (evidence_cmd_output.c); the kinds are in evidence_cmd_cc.c (SEV-SNP, TDX, Azure HCL) and
 * evidence_cmd_tpm.c (TPM quote, event log). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <tss2/tss2_tpm2_types.h>
#include <openssl/evp.h>

#include "lib/cleanup.h"

/* The largest file any kind reads: an event log (a few hundred KiB on real machines). */
#define EVIDENCE_LOG_MAX (16u << 20)
#define EVIDENCE_SMALL_MAX (256u * 1024)

DEFINE_POINTER_CLEANUP(json_object, json_object_put)

struct evidence_args {
        unsigned given;
        const char *file, *vcek, *certs, *amd_certs, *test_roots, *policy, *intel_root, *ccel, *ak;
        const char *attest, *signature, *pcrs, *bank, *type;
        uint8_t report_data[64];
        bool has_report_data;
        uint8_t nonce[64];
        size_t nonce_size;
        bool has_nonce;
        time_t at;
        bool json;
};

/* What one run found: the facts, and for each check made its result. */
struct evidence_out {
        const char *kind;
        json_object *facts;
        json_object *checks;      /* [{check, result, reason?}] */
        json_object *reasons;     /* the failures' reasons */
        json_object *not_checked; /* checks that could not be made, and why */
        bool failed;
};


/* Logs `what`: the detail of `ret`; returns the exit status of an unusable input (2). */
int evidence_input_error(int ret, const char *what);
/* file_read_all, a missing file (-ENOENT) and one over `max` (-EFBIG) with their detail. */
int evidence_read(const char *path, size_t max, char **data, size_t *size);
json_object *evidence_hex_json(const void *data, size_t size);
void fact_hex(json_object *obj, const char *name, const void *data, size_t size);
void fact_u64x(json_object *obj, const char *name, uint64_t value, int digits);
void fact_int(json_object *obj, const char *name, int64_t value);
/* A check made: `ret` 0 passed, -EACCES or -EPERM failed (the detail is its reason, recorded);
 * any other error means the check could not be made on this input and is returned, for the
 * caller to end with exit status 2. */
int evidence_record_check(struct evidence_out *out, const char *check, int ret);
/* A check that could not be made, and why: listed, never passed silently. */
void evidence_not_checked(struct evidence_out *out, const char *check, const char *why);
/* Prints the run (text or JSON); its exit status, 0 or 1. */
int evidence_finish(struct evidence_out *out, bool json);

/* An AK as a TPMT_PUBLIC or TPM2B_PUBLIC (binary) or a PEM public key; `key` (may be NULL) the
 * same as an EVP_PKEY. */
int evidence_load_ak(const char *path, TPM2B_PUBLIC *ak, EVP_PKEY **key);

/* The kinds: each an exit status. */
int evidence_snp_report(const struct evidence_args *a, struct evidence_out *out);
int evidence_tdx_quote(const struct evidence_args *a, struct evidence_out *out);
int evidence_hcl_report(const struct evidence_args *a, struct evidence_out *out);
int evidence_tpm_quote(const struct evidence_args *a, struct evidence_out *out);
int evidence_eventlog(const struct evidence_args *a, struct evidence_out *out);
