/* vmattest-verifier evidence tpm-quote and eventlog: a TPM2_Quote under its AK
 * (verifier/quote_check.h) and a UEFI event log replayed per bank (lib/eventlog.h), their facts
 * and verdicts. */
#include "verifier/evidence_cmd.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/eventlog.h"
#include "lib/hashalg.h"
#include "lib/log.h"
#include "lib/pcr_values.h"
#include "lib/quote_string.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"
#include "policy/boot_events.h"
#include "verifier/commands.h"
#include "verifier/quote_check.h"

/* ---- TPM quote ---- */

DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)

/* A PEM public key as the TPMT_PUBLIC of an unrestricted signing key with no scheme: enough for
 * tpmkey_to_evp to give the same key back. */
static int pem_to_tpm_public(EVP_PKEY *key, TPMT_PUBLIC *pub) {
        _cleanup_(BN_freep) BIGNUM *n = NULL, *e = NULL, *x = NULL, *y = NULL;
        char group[32];

        memset(pub, 0, sizeof(*pub));
        pub->nameAlg = TPM2_ALG_SHA256;
        pub->objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT;
        if (EVP_PKEY_is_a(key, "RSA")) {
                unsigned long exponent;

                if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) || !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) ||
                    BN_num_bytes(n) > (int)sizeof(pub->unique.rsa.buffer) || (exponent = BN_get_word(e)) > UINT32_MAX)
                        return vm_error(-EBADMSG, "RSA key: unreadable or too large");
                pub->type = TPM2_ALG_RSA;
                pub->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
                pub->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
                pub->parameters.rsaDetail.keyBits = (UINT16)BN_num_bits(n);
                pub->parameters.rsaDetail.exponent = exponent == 65537 ? 0 : (UINT32)exponent;
                pub->unique.rsa.size = (UINT16)BN_bn2bin(n, pub->unique.rsa.buffer);
                return 0;
        }
        if (EVP_PKEY_is_a(key, "EC") && EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) &&
            EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) && EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) {
                int size = strcmp(group, "prime256v1") == 0 ? 32 : strcmp(group, "secp384r1") == 0 ? 48 : 0;

                if (!size)
                        return vm_error(-EBADMSG, "EC key on curve %s: not P-256 or P-384", group);
                pub->type = TPM2_ALG_ECC;
                pub->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
                pub->parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
                pub->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
                pub->parameters.eccDetail.curveID = size == 32 ? TPM2_ECC_NIST_P256 : TPM2_ECC_NIST_P384;
                pub->unique.ecc.x.size = pub->unique.ecc.y.size = (UINT16)size;
                if (BN_bn2binpad(x, pub->unique.ecc.x.buffer, size) != size || BN_bn2binpad(y, pub->unique.ecc.y.buffer, size) != size)
                        return vm_error(-EBADMSG, "EC key: coordinates too large");
                return 0;
        }
        return vm_error(-EBADMSG, "a PEM public key that is neither RSA nor EC P-256/P-384");
}

int evidence_load_ak(const char *path, TPM2B_PUBLIC *ak, EVP_PKEY **key) {
        _cleanup_(freep) char *data = NULL;
        size_t size, offset = 0;
        int ret = evidence_read(path, EVIDENCE_SMALL_MAX, &data, &size);

        if (ret < 0)
                return ret;
        memset(ak, 0, sizeof(*ak));
        if (size > 10 && memmem(data, size, "-----BEGIN", 10)) {
                BIO *bio = BIO_new_mem_buf(data, (int)size);
                EVP_PKEY *pem = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;

                BIO_free(bio);
                if (!pem)
                        return vm_error(-EBADMSG, "not a PEM public key");
                ret = pem_to_tpm_public(pem, &ak->publicArea);
                EVP_PKEY_free(pem);
                if (ret < 0)
                        return ret;
        } else if (size >= 2 && (size_t)((uint8_t)data[0] << 8 | (uint8_t)data[1]) + 2 == size) {
                /* a TPM2B_PUBLIC: its u16 size first, the rest of the file after it */
                if ((ret = tpm2b_public_unmarshal((const uint8_t *)data, size, ak)) < 0)
                        return vm_error(-EBADMSG, "a TPM2B_PUBLIC that does not parse");
        } else if (Tss2_MU_TPMT_PUBLIC_Unmarshal((const uint8_t *)data, size, &offset, &ak->publicArea) != TSS2_RC_SUCCESS ||
                   offset != size) {
                return vm_error(-EBADMSG, "neither a TPMT_PUBLIC, a TPM2B_PUBLIC nor a PEM public key");
        }
        return key ? tpmkey_to_evp(&ak->publicArea, key) : 0;
}

/* pcrs.json: {"bank": "sha256", "pcrs": {"0": "hex", ...}} */
static int load_pcrs(const char *path, struct pcr_values *pcrs) {
        _cleanup_(freep) char *text = NULL;
        _cleanup_(json_object_putp) json_object *doc = NULL;
        json_object *bank, *values;
        size_t size;
        int ret = evidence_read(path, EVIDENCE_SMALL_MAX, &text, &size);

        if (ret < 0)
                return ret;
        memset(pcrs, 0, sizeof(*pcrs));
        doc = json_tokener_parse(text);
        if (!doc || !json_object_object_get_ex(doc, "bank", &bank) || !json_object_object_get_ex(doc, "pcrs", &values) ||
            !json_object_is_type(values, json_type_object))
                return vm_error(-EBADMSG, "not a JSON object {\"bank\": ..., \"pcrs\": {\"INDEX\": \"HEX\", ...}}");
        pcrs->bank = hashalg_from_name(json_object_get_string(bank));
        if (pcrs->bank == TPM2_ALG_ERROR)
                return vm_error(-EBADMSG, "bank \"%.20s\" is not a hash vmattest knows", json_object_get_string(bank));
        json_object_object_foreach(values, key, value) {
                char *end;
                unsigned long index = strtoul(key, &end, 10);
                const char *hex = json_object_get_string(value);
                size_t n = 0;

                if (*end || key[0] < '0' || key[0] > '9' || index >= EVENTLOG_PCR_COUNT || !hex ||
                    hex_decode(hex, strlen(hex), pcrs->value[index].buffer, sizeof(pcrs->value[index].buffer), &n) < 0 ||
                    n != hashalg_size(pcrs->bank))
                        return vm_error(-EBADMSG, "pcrs.\"%.8s\": not a PCR index 0-23 with a %s value in hex", key,
                                        hashalg_name(pcrs->bank));
                pcrs->value[index].size = (UINT16)n;
                pcrs->mask |= 1u << index;
        }
        return 0;
}

static json_object *selection_json(const TPML_PCR_SELECTION *sel) {
        json_object *array = json_object_new_array();

        for (unsigned i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
                json_object *bank = json_object_new_object(), *list = json_object_new_array();
                const char *name = hashalg_name(sel->pcrSelections[i].hash);

                json_object_object_add(bank, "hash", json_object_new_string(name ? name : "unknown"));
                for (unsigned b = 0; b < sel->pcrSelections[i].sizeofSelect && b < TPM2_PCR_SELECT_MAX; b++)
                        for (unsigned bit = 0; bit < 8; bit++)
                                if (sel->pcrSelections[i].pcrSelect[b] & (1u << bit))
                                        json_object_array_add(list, json_object_new_int((int)(8 * b + bit)));
                json_object_object_add(bank, "pcrs", list);
                json_object_array_add(array, bank);
        }
        return array;
}

int evidence_tpm_quote(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *attest_bytes = NULL, *sig_bytes = NULL;
        TPMS_ATTEST attest;
        TPMT_SIGNATURE signature;
        TPM2B_PUBLIC ak;
        struct pcr_values pcrs;
        struct quote_signed q = { 0 };
        json_object *f = json_object_new_object();
        size_t attest_size, sig_size, offset = 0;
        TPM2_ALG_ID sig_hash;
        int ret, check;

        json_object_object_add(out->facts, "tpms_attest", f);
        if ((ret = evidence_read(a->attest, sizeof(TPMS_ATTEST), &attest_bytes, &attest_size)) < 0 ||
            (ret = quote_attest_parse((const uint8_t *)attest_bytes, attest_size, &attest)) < 0)
                return evidence_input_error(ret, a->attest);
        if ((ret = evidence_read(a->signature, sizeof(TPMT_SIGNATURE), &sig_bytes, &sig_size)) < 0)
                return evidence_input_error(ret, a->signature);
        if (Tss2_MU_TPMT_SIGNATURE_Unmarshal((const uint8_t *)sig_bytes, sig_size, &offset, &signature) != TSS2_RC_SUCCESS ||
            offset != sig_size)
                return evidence_input_error(vm_error(-EBADMSG, "not one TPMT_SIGNATURE"), a->signature);
        if ((ret = evidence_load_ak(a->ak, &ak, NULL)) < 0)
                return evidence_input_error(ret, a->ak);
        if (a->pcrs && (ret = load_pcrs(a->pcrs, &pcrs)) < 0)
                return evidence_input_error(ret, a->pcrs);

        fact_u64x(f, "magic", attest.magic, 8);
        fact_u64x(f, "type", attest.type, 4);
        fact_hex(f, "qualified_signer", attest.qualifiedSigner.name, attest.qualifiedSigner.size);
        fact_hex(f, "extra_data", attest.extraData.buffer, attest.extraData.size);
        fact_int(f, "clock", (int64_t)attest.clockInfo.clock);
        fact_int(f, "reset_count", attest.clockInfo.resetCount);
        fact_int(f, "restart_count", attest.clockInfo.restartCount);
        fact_int(f, "safe", attest.clockInfo.safe);
        fact_u64x(f, "firmware_version", attest.firmwareVersion, 16);
        json_object_object_add(f, "pcr_select", selection_json(&attest.attested.quote.pcrSelect));
        fact_hex(f, "pcr_digest", attest.attested.quote.pcrDigest.buffer, attest.attested.quote.pcrDigest.size);

        /* The hash the signature is checked with is the AK's scheme's, as the verifier has it;
         * a key without one (a PEM key) takes the signature's, which must be one quotes may use. */
        sig_hash = ak.publicArea.type == TPM2_ALG_RSA ? ak.publicArea.parameters.rsaDetail.scheme.details.anySig.hashAlg
                                                      : ak.publicArea.parameters.eccDetail.scheme.details.anySig.hashAlg;
        if ((ak.publicArea.type == TPM2_ALG_RSA ? ak.publicArea.parameters.rsaDetail.scheme.scheme
                                                : ak.publicArea.parameters.eccDetail.scheme.scheme) == TPM2_ALG_NULL) {
                sig_hash = signature.signature.any.hashAlg;
                if (!hashalg_name(sig_hash) || hashalg_for_quotes(hashalg_name(sig_hash)) == TPM2_ALG_ERROR)
                        return evidence_input_error(vm_error(-EBADMSG, "the AK names no scheme and the signature's hash 0x%04x is not one quotes use",
                                                    sig_hash),
                                           a->signature);
        }
        json_object_object_add(out->facts, "signature_hash", json_object_new_string(hashalg_name(sig_hash) ? hashalg_name(sig_hash) : "unknown"));
        q.attest = (const uint8_t *)attest_bytes, q.attest_size = attest_size, q.signature = &signature, q.ak = &ak;
        q.sig_hash = sig_hash;
        q.nonce = a->has_nonce ? a->nonce : attest.extraData.buffer;
        q.nonce_size = a->has_nonce ? a->nonce_size : attest.extraData.size;
        q.pcrs = a->pcrs ? &pcrs : NULL;
        check = quote_check_signed(&q, &attest);
        if ((ret = evidence_record_check(out, a->pcrs ? "TPM quote (signature by the AK, nonce, PCR values and pcrDigest)"
                                             : "TPM quote (signature by the AK, nonce)",
                                check)) < 0)
                return evidence_input_error(ret, a->attest);
        if (!a->has_nonce)
                evidence_not_checked(out, "TPM quote nonce", "no --nonce given: extraData is not compared");
        if (!a->pcrs)
                evidence_not_checked(out, "TPM quote PCR values", "no --pcrs given: pcrDigest is not compared with any values");
        return evidence_finish(out, a->json);
}

/* ---- event log ---- */

struct log_walk {
        uint32_t events, no_action;
        json_object *app_digests; /* {bank: [hex]} */
        json_object *applications;
        json_object *cmdlines;
        const struct eventlog_spec_id *spec;
};

#define GRUB_KERNEL_CMDLINE "kernel_cmdline: "

static int log_event(const struct eventlog_event *ev, void *user) {
        struct log_walk *w = user;

        w->events++;
        if (ev->type == EV_NO_ACTION)
                w->no_action++;
        if (ev->pcr == 4 && ev->type == EV_EFI_BOOT_SERVICES_APPLICATION) {
                char text[300];

                boot_event_describe(ev, text, sizeof(text));
                json_object_array_add(w->applications, json_object_new_string(text));
                for (uint32_t i = 0; i < ev->digest_count; i++) {
                        const char *bank = hashalg_name(ev->digests[i].alg);
                        json_object *list;

                        if (!bank)
                                continue;
                        if (!json_object_object_get_ex(w->app_digests, bank, &list)) {
                                list = json_object_new_array();
                                json_object_object_add(w->app_digests, bank, list);
                        }
                        json_object_array_add(list, evidence_hex_json(ev->digests[i].digest, ev->digests[i].size));
                }
        }
        /* GRUB measures the kernel's command line into PCR 8 as "kernel_cmdline: ..." text */
        if (ev->pcr == 8 && ev->type == EV_IPL && ev->data_size > strlen(GRUB_KERNEL_CMDLINE) &&
            memcmp(ev->data, GRUB_KERNEL_CMDLINE, strlen(GRUB_KERNEL_CMDLINE)) == 0) {
                size_t n = ev->data_size - strlen(GRUB_KERNEL_CMDLINE);
                const char *text = (const char *)ev->data + strlen(GRUB_KERNEL_CMDLINE);

                while (n > 0 && text[n - 1] == '\0')
                        n--;
                json_object_array_add(w->cmdlines, json_object_new_string_len(text, (int)n));
        }
        return 0;
}

int evidence_eventlog(const struct evidence_args *a, struct evidence_out *out) {
        _cleanup_(freep) char *data = NULL;
        struct eventlog_spec_id spec;
        struct log_walk w = { 0 };
        json_object *f = out->facts, *algs, *banks;
        TPM2_ALG_ID only = TPM2_ALG_ERROR;
        enum eventlog_secure_boot sb;
        size_t size;
        char version[32];
        int ret;

        if (a->bank && (only = hashalg_from_name(a->bank)) == TPM2_ALG_ERROR) {
                log_error("--bank %s: not sha1, sha256, sha384 or sha512", a->bank);
                return EXIT_USAGE;
        }
        if ((ret = evidence_read(a->file, EVIDENCE_LOG_MAX, &data, &size)) < 0 ||
            (ret = eventlog_spec_id((const uint8_t *)data, size, &spec)) < 0)
                return evidence_input_error(ret, a->file);
        w.app_digests = json_object_new_object();
        w.applications = json_object_new_array();
        w.cmdlines = json_object_new_array();
        w.spec = &spec;
        json_object_object_add(f, "efi_app_digests", w.app_digests);
        json_object_object_add(f, "efi_applications", w.applications);
        json_object_object_add(f, "kernel_cmdlines", w.cmdlines);
        if ((ret = eventlog_foreach((const uint8_t *)data, size, log_event, &w)) < 0)
                return evidence_input_error(ret, a->file);
        algs = json_object_new_array();
        banks = json_object_new_array();
        json_object_object_add(f, "format", json_object_new_string(spec.format == EVENTLOG_FORMAT_SHA1 ? "sha1-legacy" : "crypto-agile"));
        fact_int(f, "event_count", w.events);
        fact_int(f, "ev_no_action_count", w.no_action);
        if (spec.format == EVENTLOG_FORMAT_CRYPTO_AGILE) {
                snprintf(version, sizeof(version), "%u.%u errata %u", spec.spec_version_major, spec.spec_version_minor,
                         spec.spec_errata);
                json_object_object_add(f, "spec_version", json_object_new_string(version));
        }
        for (uint32_t i = 0; i < spec.algorithm_count && i < EVENTLOG_MAX_ALGORITHMS; i++) {
                const char *name = hashalg_name(spec.algorithms[i].alg);
                char other[16];

                snprintf(other, sizeof(other), "0x%04x", spec.algorithms[i].alg);
                json_object_array_add(algs, json_object_new_string(name ? name : other));
        }
        json_object_object_add(f, "spec_id_algorithms", algs);

        /* every bank the log declares that vmattest can hash, or the one asked for */
        json_object_object_add(f, "pcrs", banks);
        for (uint32_t i = 0; i < spec.algorithm_count && i < EVENTLOG_MAX_ALGORITHMS; i++) {
                TPM2_ALG_ID alg = spec.algorithms[i].alg;
                json_object *entry, *values;
                struct pcr_values pcrs;

                if (!hashalg_name(alg) || !hashalg_md(alg) || (only != TPM2_ALG_ERROR && alg != only))
                        continue;
                if ((ret = eventlog_replay((const uint8_t *)data, size, alg, &pcrs)) < 0)
                        return evidence_input_error(ret, a->file);
                entry = json_object_new_object();
                values = json_object_new_object();
                json_object_object_add(entry, "bank", json_object_new_string(hashalg_name(alg)));
                for (unsigned p = 0; p < EVENTLOG_PCR_COUNT; p++)
                        if (pcrs.mask & (1u << p)) {
                                char index[4];

                                snprintf(index, sizeof(index), "%u", p);
                                fact_hex(values, index, pcrs.value[p].buffer, pcrs.value[p].size);
                        }
                json_object_object_add(entry, "pcrs", values);
                json_object_array_add(banks, entry);
        }
        if (only != TPM2_ALG_ERROR && json_object_array_length(banks) == 0) {
                log_error("%s: the log carries no %s digests (it declares %u algorithm(s))", a->file, a->bank, spec.algorithm_count);
                return EXIT_USAGE;
        }
        ret = eventlog_secure_boot((const uint8_t *)data, size, &sb);
        if (ret < 0) {
                json_object_object_add(f, "secure_boot", json_object_new_string("undecidable"));
                json_object_object_add(f, "secure_boot_why", json_object_new_string(vm_error_detail(ret)));
                vm_error_clear();
        } else {
                json_object_object_add(f, "secure_boot", json_object_new_string(eventlog_secure_boot_name(sb)));
        }
        evidence_record_check(out, "event log parses and replays", 0);
        evidence_not_checked(out, "event log against a quote", "a log alone proves nothing: compare its PCRs with a verified quote (tpm-quote --pcrs)");
        return evidence_finish(out, a->json);
}
