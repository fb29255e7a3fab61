#include "verifier/host_binding_check.h"

#include <dirent.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/hashalg.h"
#include "lib/host_binding.h"
#include "lib/tpm2b.h"
#include "lib/tpmkey.h"
#include "verifier/quote_check.h"

#define HOST_AK_FILE_MAX (64 * 1024)
#define HOST_AKS_MAX 1024

DEFINE_POINTER_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_POINTER_CLEANUP(BIO, BIO_free)

static int add_key(struct host_policy *policy, EVP_PKEY *key) {
        EVP_PKEY **grown;

        if (policy->trusted_ak_count >= HOST_AKS_MAX)
                return vm_error(-E2BIG, "host AK store: more than %d keys", HOST_AKS_MAX);
        grown = realloc(policy->trusted_aks, (policy->trusted_ak_count + 1) * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        policy->trusted_aks = grown;
        policy->trusted_aks[policy->trusted_ak_count++] = key;
        return 0;
}

int host_policy_add_pem(struct host_policy *policy, const char *pem, size_t size, const char *what) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        unsigned keys = 0;
        int ret;

        if (size > INT_MAX || !(bio = BIO_new_mem_buf(pem, (int)size)))
                return -ENOMEM;
        for (;;) {
                char *rest;
                long rest_size = BIO_get_mem_data(bio, &rest);
                EVP_PKEY *key;

                /* a block that does not read is an error, never skipped */
                if (rest_size <= 0 || !memmem(rest, (size_t)rest_size, "-----BEGIN", 10))
                        return keys ? 0 : vm_error(-EBADMSG, "%s: no PEM public key", what);
                key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
                ERR_clear_error();
                if (!key)
                        return vm_error(-EBADMSG, "%s: key %u is not a PEM public key", what, keys + 1);
                if ((ret = add_key(policy, key)) < 0) {
                        EVP_PKEY_free(key);
                        return ret;
                }
                keys++;
        }
}

static int load_file(const char *path, struct host_policy *policy) {
        _cleanup_(freep) char *data = NULL;
        char what[4200];
        size_t size = 0;
        int ret = file_read_all(path, HOST_AK_FILE_MAX, &data, &size);

        if (ret < 0)
                return vm_error(ret, "host AK store: %s: cannot read it", path);
        snprintf(what, sizeof(what), "host AK store: %s", path);
        return host_policy_add_pem(policy, data, size, what);
}

int host_policy_load_aks(const char *dir, struct host_policy *policy) {
        unsigned files = 0;
        struct dirent *entry;
        DIR *d = opendir(dir);
        int ret = 0;

        if (!d)
                return errno == ENOENT ? 0 : vm_error(-errno, "host AK store %s: %m", dir);
        while (ret >= 0 && (entry = readdir(d))) {
                size_t len = strlen(entry->d_name);
                char path[4096];

                if (entry->d_name[0] == '.' || len <= 4 || strcmp(entry->d_name + len - 4, ".pem") != 0)
                        continue;
                if (++files > HOST_AK_STORE_FILES_MAX)
                        ret = vm_error(-E2BIG, "host AK store %s: more than %d files", dir, HOST_AK_STORE_FILES_MAX);
                else if (snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name) >= (int)sizeof(path))
                        ret = vm_error(-ENAMETOOLONG, "host AK store %s: a path is too long", dir);
                else
                        ret = load_file(path, policy);
        }
        closedir(d);
        return ret;
}

void host_policy_done(struct host_policy *policy) {
        for (size_t i = 0; i < policy->trusted_ak_count; i++)
                EVP_PKEY_free(policy->trusted_aks[i]);
        free(policy->trusted_aks);
        policy->trusted_aks = NULL;
        policy->trusted_ak_count = 0;
        free(policy->classes);
        policy->classes = NULL;
        policy->class_count = 0;
}

/* The hash the AK signs with: its own scheme (a restricted signing key has one), never the
 * signature's unsigned hash field. */
static TPM2_ALG_ID ak_sig_hash(const TPMT_PUBLIC *ak) {
        if (ak->type == TPM2_ALG_RSA)
                return ak->parameters.rsaDetail.scheme.details.anySig.hashAlg;
        if (ak->type == TPM2_ALG_ECC)
                return ak->parameters.eccDetail.scheme.details.anySig.hashAlg;
        return TPM2_ALG_ERROR;
}

static TPM2_ALG_ID ak_scheme(const TPMT_PUBLIC *ak) {
        return ak->type == TPM2_ALG_RSA ? ak->parameters.rsaDetail.scheme.scheme : ak->parameters.eccDetail.scheme.scheme;
}

/* The AK is trusted by its key (the store holds public keys, what a provider publishes); the
 * rest of its public area must still be that of an AK which signs the way this signature is
 * made, so that no field of it that the blob carries unsigned changes how the quote is read. */
static int check_host_ak(const TPM2B_PUBLIC *ak, const TPMT_SIGNATURE *signature, const struct host_policy *policy) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        TPM2_ALG_ID name_alg = ak->publicArea.nameAlg;
        int ret;

        /* a key the TPM would not keep to itself could have signed anything */
        if ((ret = tpmkey_check_ak(&ak->publicArea)) < 0)
                return vm_error(-EPERM, "host binding: host AK: %s", vm_error_detail(ret));
        if (!hashalg_size(name_alg) || name_alg == TPM2_ALG_SHA1)
                return vm_error(-EPERM, "host binding: host AK: nameAlg 0x%04x is not SHA-256 or stronger", name_alg);
        if (ak_scheme(&ak->publicArea) != signature->sigAlg || !hashalg_md(ak_sig_hash(&ak->publicArea)))
                return vm_error(-EPERM, "host binding: host AK: its scheme 0x%04x (hash 0x%04x) is not the "
                                        "signature's 0x%04x",
                                ak_scheme(&ak->publicArea), ak_sig_hash(&ak->publicArea), signature->sigAlg);
        if ((ret = tpmkey_to_evp(&ak->publicArea, &key)) < 0)
                return vm_error(-EPERM, "host binding: host AK: %s", vm_error_detail(ret));
        for (size_t i = 0; i < policy->trusted_ak_count; i++)
                if (EVP_PKEY_eq(policy->trusted_aks[i], key) == 1)
                        return 0;
        return vm_error(-EPERM, "host binding: host AK is not one of the %zu trusted host AKs", policy->trusted_ak_count);
}

/* The first PCR `expected` fixes that `quoted` lacks or has another value of (-1: none, the
 * class matches), and in *matching how many of its PCRs the quote has with their value. */
static int first_difference(const struct pcr_values *quoted, const struct pcr_values *expected, unsigned *matching) {
        int first = -1;

        *matching = 0;
        for (unsigned i = 0; i < PCR_MAX; i++) {
                if (!(expected->mask & 1u << i))
                        continue;
                if ((quoted->mask & 1u << i) && quoted->bank == expected->bank &&
                    quoted->value[i].size == expected->value[i].size &&
                    memcmp(quoted->value[i].buffer, expected->value[i].buffer, quoted->value[i].size) == 0)
                        (*matching)++;
                else if (first < 0)
                        first = (int)i;
        }
        return first;
}

static bool pcr_quoted(const struct pcr_values *quoted, const struct pcr_values *expected, int pcr) {
        return (quoted->mask & 1u << pcr) && quoted->bank == expected->bank;
}

/* Each class is judged whole: PCR 0 of one class and PCR 7 of another is no host the provider
 * runs. */
static int check_policy_pcrs(const struct pcr_values *quoted, const struct host_policy *policy,
                             const char **host_class) {
        const struct host_class *closest = NULL;
        unsigned closest_matching = 0;
        int closest_pcr = -1;

        if (policy->class_count == 0) {
                *host_class = "";
                return 0;
        }
        for (size_t i = 0; i < policy->class_count; i++) {
                const struct host_class *class = &policy->classes[i];
                unsigned matching;
                int pcr = first_difference(quoted, &class->pcrs, &matching);

                if (pcr < 0) {
                        *host_class = class->name;
                        return 0;
                }
                if (!closest || matching > closest_matching)
                        closest = class, closest_matching = matching, closest_pcr = pcr;
        }
        if (!closest->name[0])
                return pcr_quoted(quoted, &closest->pcrs, closest_pcr)
                               ? vm_error(-EPERM, "host binding: host PCR %d is not the policy's value", closest_pcr)
                               : vm_error(-EPERM, "host binding: host PCR %d (%s) is not quoted", closest_pcr,
                                          hashalg_name(closest->pcrs.bank));
        return vm_error(-EPERM, "host binding: no host class matches: the closest, \"%s\" (%u of its %u PCRs), "
                                "differs at host PCR %d (%s)",
                        closest->name, closest_matching, pcr_mask_count(closest->pcrs.mask), closest_pcr,
                        pcr_quoted(quoted, &closest->pcrs, closest_pcr) ? "another value" : "not quoted");
}

/* The nonce a fresh binding names, for the log: letters and digits as the agent API's nonces
 * are, anything else shown as '?' (it is the guest's, unsigned). */
static const char *printable_nonce(const struct host_binding *binding) {
        static __thread char text[HOST_BINDING_NONCE_MAX + 1];

        for (size_t i = 0; i < binding->nonce_size; i++) {
                char c = (char)binding->nonce[i];

                text[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '?';
        }
        text[binding->nonce_size] = '\0';
        return text;
}

/* The qualifyingData step: what the quote's extraData must be for this EK (and, for a fresh
 * binding, this poll's nonce). A fresh binding over this EK and the nonce it names, which is
 * not this poll's, is a replay: "stale", not a binding for another vTPM. */
static int check_qualifying(const struct host_binding *binding, const TPMS_ATTEST *attest, const TPM2B_PUBLIC *ek,
                            const uint8_t *nonce, size_t nonce_size) {
        uint8_t qualifying[HOST_BINDING_QUALIFYING_SIZE];
        bool fresh = binding->version == HOST_BINDING_VERSION_FRESH;
        TPM2B_NAME ek_name;
        int ret;

        if ((ret = tpm2b_public_name(ek, &ek_name)) < 0)
                return vm_error(-EPERM, "host binding: registered EK: %s", vm_error_detail(ret));
        if (fresh && !nonce)
                return vm_error(-EPERM, "host binding: a fresh binding where no nonce was asked");
        ret = fresh ? host_binding_fresh_qualifying_data(binding->nonce, binding->nonce_size, &ek_name, qualifying)
                    : host_binding_qualifying_data(&ek_name, qualifying);
        if (ret < 0)
                return vm_error(-EPERM, "host binding: registered EK: %s", vm_error_detail(ret));
        if (attest->extraData.size != sizeof(qualifying) ||
            memcmp(attest->extraData.buffer, qualifying, sizeof(qualifying)) != 0)
                return vm_error(-EPERM, "host binding: qualifyingData is not over this agent's EK%s "
                                        "(a binding made for another vTPM)",
                                fresh ? " and the nonce the binding names" : "");
        if (fresh && (binding->nonce_size != nonce_size || memcmp(binding->nonce, nonce, nonce_size) != 0))
                return vm_error(-EPERM, "host binding: stale: a fresh binding for an earlier nonce (\"%.*s\"), not "
                                        "this poll's: an old answer replayed",
                                (int)binding->nonce_size, printable_nonce(binding));
        return 0;
}

int host_binding_check(const uint8_t *blob, size_t size, const TPM2B_PUBLIC *registered_ek, const uint8_t *nonce,
                       size_t nonce_size, const struct host_policy *policy, const char **host_class) {
        const char *unused;
        struct host_binding binding;
        TPMS_ATTEST attest;
        struct quote_signed q;
        int ret;

        if (!host_class)
                host_class = &unused;
        if (!blob || size == 0)
                return policy->required ? vm_error(-EPERM, "host binding: none, and the host policy requires one")
                                        : vm_error(-ENOENT, "no host binding");
        if ((ret = host_binding_parse(blob, size, &binding)) < 0) {
                const char *detail = vm_error_detail(ret);

                if (strncmp(detail, "host binding: ", 14) == 0)
                        detail += 14;
                return vm_error(-EBADMSG, "host binding: malformed: %s", detail);
        }
        if (policy->fresh && binding.version != HOST_BINDING_VERSION_FRESH)
                return vm_error(-EPERM, "host binding: an NV binding (version %u), and the host policy requires a "
                                        "fresh one",
                                binding.version);
        if ((ret = check_host_ak(&binding.host_ak, &binding.signature, policy)) < 0)
                return ret;
        if ((ret = quote_attest_parse(binding.attest, binding.attest_size, &attest)) < 0)
                return vm_error(-EBADMSG, "host binding: malformed: %s", vm_error_detail(ret));
        /* quote_check_signed compares extraData with the nonce it is given: here the quote's own,
         * so that it checks the signature and then the PCR values, and the qualifyingData is
         * checked next, with its own name */
        q = (struct quote_signed){
                .attest = binding.attest,
                .attest_size = binding.attest_size,
                .signature = &binding.signature,
                .ak = &binding.host_ak,
                .sig_hash = ak_sig_hash(&binding.host_ak.publicArea),
                .nonce = attest.extraData.buffer,
                .nonce_size = attest.extraData.size,
                .pcrs = &binding.pcrs,
        };
        if ((ret = quote_check_signed(&q, &attest)) < 0) {
                const char *step = strstr(vm_error_detail(ret), "signature") ? "signature" : "pcrDigest";

                return vm_error(-EPERM, "host binding: %s: %s", step, vm_error_detail(ret));
        }
        if ((ret = check_qualifying(&binding, &attest, registered_ek, nonce, nonce_size)) < 0)
                return ret;
        return check_policy_pcrs(&binding.pcrs, policy, host_class);
}
