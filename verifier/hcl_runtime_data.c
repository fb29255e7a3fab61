#include "verifier/hcl_runtime_data.h"

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/encoding.h"
#include "lib/error.h"
#include "lib/json_member.h"
#include "verifier/hcl_report.h"

/* the object, "keys", a JWK, its "key_ops": four; a little room for what Azure may add */
#define JSON_DEPTH_MAX 8
/* base64url of a 4096-bit modulus is 683 characters */
#define JWK_N_TEXT_MAX 700
#define JWK_E_TEXT_MAX 12
#define RSA_MODULUS_MIN 256 /* bytes: 2048 bits */
#define RSA_MODULUS_MAX 512 /* 4096 bits */

DEFINE_POINTER_CLEANUP(json_object, json_object_put)
DEFINE_POINTER_CLEANUP(json_tokener, json_tokener_free)
DEFINE_POINTER_CLEANUP(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
DEFINE_POINTER_CLEANUP(OSSL_PARAM, OSSL_PARAM_free)
DEFINE_POINTER_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_POINTER_CLEANUP(BIGNUM, BN_free)

void hcl_runtime_data_clear(struct hcl_runtime_data *runtime) {
        EVP_PKEY_free(runtime->ak_public);
        memset(runtime, 0, sizeof(*runtime));
}

/* A JWK's base64url (RFC 7515 §2: no padding) into a malloc'ed buffer. */
static int jwk_decode(const char *member, const char *text, uint8_t **out, size_t *out_size) {
        const char *pad = strchr(text, '=');
        int ret;

        if (pad)
                return vm_error(-EBADMSG, "HCL runtime data: HCLAkPub %s: '=' at offset %zu: a JWK's base64url has no "
                                          "padding",
                                member, (size_t)(pad - text));
        ret = base64url_decode(text, strlen(text), out, out_size);
        if (ret == -EBADMSG)
                ret = vm_error(ret, "HCL runtime data: HCLAkPub %s: %s", member, vm_error_detail(ret));
        return ret;
}

static int rsa_public_key(const uint8_t *n, size_t n_size, const uint8_t *e, size_t e_size, EVP_PKEY **key) {
        _cleanup_(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *build = OSSL_PARAM_BLD_new();
        _cleanup_(BN_freep) BIGNUM *modulus = BN_bin2bn(n, (int)n_size, NULL);
        _cleanup_(BN_freep) BIGNUM *exponent = BN_bin2bn(e, (int)e_size, NULL);
        _cleanup_(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

        if (!build || !modulus || !exponent || !ctx || !OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_N, modulus) ||
            !OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_RSA_E, exponent) || !(params = OSSL_PARAM_BLD_to_param(build)))
                return -ENOMEM;
        if (EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, key, EVP_PKEY_PUBLIC_KEY, params) != 1)
                return vm_error(-EBADMSG, "HCL runtime data: HCLAkPub is not an RSA public key OpenSSL accepts");
        return 0;
}

static int parse_ak(json_object *jwk, EVP_PKEY **key) {
        _cleanup_(freep) uint8_t *n = NULL;
        _cleanup_(freep) uint8_t *e = NULL;
        const char *kty, *n_text, *e_text;
        size_t n_size, e_size;
        int ret;

        vm_error_clear();
        if (json_member_string(jwk, "kty", 16, false, &kty) < 0 ||
            json_member_string(jwk, "n", JWK_N_TEXT_MAX, false, &n_text) < 0 ||
            json_member_string(jwk, "e", JWK_E_TEXT_MAX, false, &e_text) < 0)
                return vm_error(-EBADMSG, "HCL runtime data: HCLAkPub: %s", vm_error_detail(-EBADMSG));
        if (strcmp(kty, "RSA") != 0)
                return vm_error(-EBADMSG, "HCL runtime data: HCLAkPub has kty \"%s\", not \"RSA\"", kty);
        ret = jwk_decode("n", n_text, &n, &n_size);
        if (ret < 0)
                return ret;
        ret = jwk_decode("e", e_text, &e, &e_size);
        if (ret < 0)
                return ret;
        if (n_size < RSA_MODULUS_MIN || n_size > RSA_MODULUS_MAX || n[0] == 0)
                return vm_error(-EBADMSG, "HCL runtime data: HCLAkPub n is %zu bytes, not an RSA modulus of 2048-4096 bits",
                                n_size);
        if (e_size == 0 || e_size > 8 || e[0] == 0)
                return vm_error(-EBADMSG, "HCL runtime data: HCLAkPub e is %zu bytes, not an RSA exponent", e_size);
        return rsa_public_key(n, n_size, e, e_size, key);
}

/* Every key needs a kid of its own: with two "HCLAkPub", which one the verifier compares with
 * the AK would depend on the order, and another parser may pick the other one. */
static int parse_keys(json_object *root, struct hcl_runtime_data *runtime) {
        json_object *keys;
        size_t count;

        if (!json_object_object_get_ex(root, "keys", &keys))
                return vm_error(-EBADMSG, "HCL runtime data: no \"keys\"");
        if (!json_object_is_type(keys, json_type_array))
                return vm_error(-EBADMSG, "HCL runtime data: \"keys\" is not an array");
        count = json_object_array_length(keys);
        if (count > HCL_KEYS_MAX)
                return vm_error(-EBADMSG, "HCL runtime data: %zu keys, at most %d", count, HCL_KEYS_MAX);
        for (size_t i = 0; i < count; i++) {
                json_object *jwk = json_object_array_get_idx(keys, i);
                const char *kid;

                if (!json_object_is_type(jwk, json_type_object))
                        return vm_error(-EBADMSG, "HCL runtime data: keys[%zu] is not an object", i);
                vm_error_clear();
                if (json_member_string(jwk, "kid", HCL_KID_MAX, false, &kid) < 0)
                        return vm_error(-EBADMSG, "HCL runtime data: keys[%zu]: %s", i, vm_error_detail(-EBADMSG));
                for (size_t j = 0; j < i; j++)
                        if (strcmp(runtime->kids[j], kid) == 0)
                                return vm_error(-EBADMSG, "HCL runtime data: keys[%zu] and keys[%zu] both have kid \"%s\"",
                                                j, i, kid);
                memcpy(runtime->kids[i], kid, strlen(kid) + 1);
                runtime->n_keys = i + 1;
                if (strcmp(kid, HCL_AK_KID) == 0) {
                        int ret = parse_ak(jwk, &runtime->ak_public);

                        if (ret < 0)
                                return ret;
                }
        }
        if (!runtime->ak_public)
                return vm_error(-EBADMSG, "HCL runtime data: no key with kid \"" HCL_AK_KID "\" in \"keys\"");
        return 0;
}

static int member_bool(json_object *obj, const char *name, bool optional, bool *present, bool *value) {
        json_object *member;

        *value = false;
        if (present)
                *present = false;
        if (!json_object_object_get_ex(obj, name, &member)) {
                if (optional)
                        return 0;
                return vm_error(-EBADMSG, "HCL runtime data: vm-configuration has no \"%s\"", name);
        }
        if (!json_object_is_type(member, json_type_boolean))
                return vm_error(-EBADMSG, "HCL runtime data: vm-configuration \"%s\" is not true or false", name);
        *value = json_object_get_boolean(member);
        if (present)
                *present = true;
        return 0;
}

static int member_text(json_object *obj, const char *name, size_t max, char *out) {
        const char *text;

        vm_error_clear();
        if (json_member_string(obj, name, max, true, &text) < 0)
                return vm_error(-EBADMSG, "HCL runtime data: vm-configuration: %s", vm_error_detail(-EBADMSG));
        if (text)
                memcpy(out, text, strlen(text) + 1);
        return 0;
}

static int parse_vm_configuration(json_object *root, struct hcl_vm_configuration *vm) {
        json_object *config, *time;

        if (!json_object_object_get_ex(root, "vm-configuration", &config))
                return vm_error(-EBADMSG, "HCL runtime data: no \"vm-configuration\"");
        if (!json_object_is_type(config, json_type_object))
                return vm_error(-EBADMSG, "HCL runtime data: \"vm-configuration\" is not an object");
        if (member_bool(config, "secure-boot", false, NULL, &vm->secure_boot) < 0 ||
            member_bool(config, "tpm-enabled", false, NULL, &vm->tpm_enabled) < 0 ||
            member_bool(config, "console-enabled", false, NULL, &vm->console_enabled) < 0 ||
            member_bool(config, "tpm-persisted", true, &vm->has_tpm_persisted, &vm->tpm_persisted) < 0 ||
            member_text(config, "vmUniqueId", HCL_VM_ID_MAX, vm->vm_unique_id) < 0 ||
            member_text(config, "root-cert-thumbprint", HCL_THUMBPRINT_MAX, vm->root_cert_thumbprint) < 0)
                return -EBADMSG;
        if (json_object_object_get_ex(config, "current-time", &time)) {
                if (!json_object_is_type(time, json_type_int))
                        return vm_error(-EBADMSG, "HCL runtime data: vm-configuration \"current-time\" is not an integer");
                vm->current_time = json_object_get_int64(time);
                vm->has_current_time = true;
        }
        return 0;
}

static int parse_user_data(json_object *root, struct hcl_runtime_data *runtime) {
        const char *hex;
        size_t size;

        vm_error_clear();
        if (json_member_string(root, "user-data", 2 * HCL_USER_DATA_SIZE, true, &hex) < 0)
                return vm_error(-EBADMSG, "HCL runtime data: %s", vm_error_detail(-EBADMSG));
        if (!hex)
                return 0;
        if (hex_decode(hex, strlen(hex), runtime->user_data, sizeof(runtime->user_data), &size) < 0 ||
            size != HCL_USER_DATA_SIZE)
                return vm_error(-EBADMSG, "HCL runtime data: \"user-data\" is not %d bytes in hex", HCL_USER_DATA_SIZE);
        runtime->has_user_data = true;
        return 0;
}

int hcl_runtime_data_parse(const uint8_t *json, size_t size, struct hcl_runtime_data *runtime) {
        _cleanup_(json_tokener_freep) json_tokener *tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        _cleanup_(json_object_putp) json_object *root = NULL;
        enum json_tokener_error error;
        int ret;

        memset(runtime, 0, sizeof(*runtime));
        if (!tok)
                return -ENOMEM;
        if (size == 0 || size > HCL_REPORT_MAX)
                return vm_error(-EBADMSG, "HCL runtime data: %zu bytes, not 1-%d", size, HCL_REPORT_MAX);
        /* strict JSON: json-c's default also takes trailing commas and the like, which another
         * reader of the same bytes would refuse */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        root = json_tokener_parse_ex(tok, (const char *)json, (int)size);
        error = json_tokener_get_error(tok);
        if (error == json_tokener_continue)
                return vm_error(-EBADMSG, "HCL runtime data: JSON cut short at offset %zu", size);
        if (error != json_tokener_success)
                return vm_error(-EBADMSG, "HCL runtime data: not JSON (%s at offset %zu)", json_tokener_error_desc(error),
                                json_tokener_get_parse_end(tok));
        if (json_tokener_get_parse_end(tok) != size)
                return vm_error(-EBADMSG, "HCL runtime data: %zu bytes after the JSON value",
                                size - json_tokener_get_parse_end(tok));
        if (!json_object_is_type(root, json_type_object))
                return vm_error(-EBADMSG, "HCL runtime data: not a JSON object");
        ret = parse_keys(root, runtime);
        if (ret >= 0)
                ret = parse_vm_configuration(root, &runtime->vm);
        if (ret >= 0)
                ret = parse_user_data(root, runtime);
        if (ret < 0)
                hcl_runtime_data_clear(runtime);
        return ret;
}
