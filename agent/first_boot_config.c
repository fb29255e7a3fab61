/* Security-sensitive: the enrolment token passes through here; it goes to secure memory, the
 * copy json-c made is wiped, and no message quotes it. */
#include "agent/first_boot_config.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/conf.h"
#include "lib/error.h"

#define JSON_DEPTH_MAX 4 /* the object, the volumes array, their strings */

DEFINE_POINTER_CLEANUP(json_object, json_object_put)
DEFINE_POINTER_CLEANUP(BIO, BIO_free)

const char *first_boot_agent_id_name(enum first_boot_agent_id id) {
        switch (id) {
        case FIRST_BOOT_ID_INSTANCE_ID:
                return "instance-id";
        case FIRST_BOOT_ID_GENERATE:
                return "generate";
        default:
                return "ek-hash";
        }
}

void first_boot_config_clear(struct first_boot_config *config) {
        secret_free(config->token);
        free(config->verifier_ca_pem);
        *config = (struct first_boot_config){};
}

/* The string value of member `name`, or an error naming it. */
static int member_string(json_object *value, const char *name, const char **text, size_t *len) {
        if (!json_object_is_type(value, json_type_string))
                return vm_error(-EINVAL, "vmattest.%s: not a string", name);
        *text = json_object_get_string(value);
        *len = (size_t)json_object_get_string_len(value);
        if (strlen(*text) != *len)
                return vm_error(-EINVAL, "vmattest.%s: holds a NUL character", name);
        return 0;
}

/* A DNS name as a resolver takes it: labels of 1-63 letters, digits and '-', not starting or
 * ending with '-', 253 characters at most. */
static bool dns_name_valid(const char *name, size_t len) {
        size_t label = 0;

        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i <= len; i++) {
                char c = i < len ? name[i] : '.';

                if (c == '.') {
                        if (label == 0 || label > 63 || name[i - 1] == '-')
                                return false;
                        label = 0;
                } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           (c == '-' && label > 0))
                        label++;
                else
                        return false;
        }
        return true;
}

/* "HOST", "HOST:PORT", "[IPV6]" or "[IPV6]:PORT" into `host` (brackets dropped) and `port`
 * (`default_port` when not given). HOST must be an IP address unless `names_ok`. */
static int parse_endpoint(const char *field, const char *text, size_t len, bool names_ok, uint16_t default_port,
                          char *host, size_t host_size, uint16_t *port) {
        const char *host_start = text, *port_text = NULL;
        size_t host_len;
        char why[128];

        if (len == 0)
                return vm_error(-EINVAL, "vmattest.%s: empty", field);
        if (text[0] == '[') {
                const char *close = memchr(text, ']', len);

                if (!close)
                        return vm_error(-EINVAL, "vmattest.%s: \"[\" without \"]\"", field);
                host_start = text + 1;
                host_len = (size_t)(close - host_start);
                if (close + 1 < text + len) {
                        if (close[1] != ':')
                                return vm_error(-EINVAL, "vmattest.%s: \"]\" not followed by \":PORT\"", field);
                        port_text = close + 2;
                }
        } else {
                const char *colon = memchr(text, ':', len);

                host_len = colon ? (size_t)(colon - text) : len;
                if (colon && memchr(colon + 1, ':', len - host_len - 1))
                        return vm_error(-EINVAL, "vmattest.%s: an IPv6 address goes in brackets: [ADDRESS]:PORT", field);
                if (colon)
                        port_text = colon + 1;
        }
        if (host_len == 0 || host_len >= host_size)
                return vm_error(-EINVAL, "vmattest.%s: the host is empty or longer than %zu characters", field,
                                host_size - 1);
        memcpy(host, host_start, host_len);
        host[host_len] = '\0';
        if (!conf_ip_valid(host) && !(names_ok && text[0] != '[' && dns_name_valid(host, host_len)))
                return vm_error(-EINVAL, "vmattest.%s: \"%s\" is not %s", field, host,
                                names_ok ? "an IP address or a DNS name" : "an IPv4 or IPv6 address");
        *port = default_port;
        if (port_text && conf_parse_port(port_text, port, sizeof(*port), why, sizeof(why)) < 0)
                return vm_error(-EINVAL, "vmattest.%s: port %s", field, why);
        return 0;
}

/* verifier_ca: one to FIRST_BOOT_CA_CERTS_MAX PEM certificates, each a CA (basicConstraints
 * CA:TRUE, or a self-signed v1 root), and no other PEM block. */
static int parse_ca(const char *pem, size_t len, struct first_boot_config *config) {
        _cleanup_(BIO_freep) BIO *bio = NULL;
        size_t blocks = 0, certs = 0;

        if (len == 0 || len > FIRST_BOOT_CA_MAX)
                return vm_error(-EINVAL, "vmattest.verifier_ca: %zu bytes: a PEM text of 1-%d bytes is expected", len,
                                FIRST_BOOT_CA_MAX);
        for (const char *p = pem; (p = strstr(p, "-----BEGIN ")); p++) {
                if (strncmp(p, "-----BEGIN CERTIFICATE-----", 27) != 0)
                        return vm_error(-EINVAL, "vmattest.verifier_ca: PEM block %zu is not a CERTIFICATE", blocks + 1);
                blocks++;
        }
        if (blocks == 0)
                return vm_error(-EINVAL, "vmattest.verifier_ca: no PEM certificate (-----BEGIN CERTIFICATE-----)");
        if (blocks > FIRST_BOOT_CA_CERTS_MAX)
                return vm_error(-EINVAL, "vmattest.verifier_ca: %zu certificates, at most %d", blocks,
                                FIRST_BOOT_CA_CERTS_MAX);
        bio = BIO_new_mem_buf(pem, (int)len);
        if (!bio)
                return -ENOMEM;
        for (;;) {
                X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                int is_ca;

                if (!cert)
                        break;
                certs++;
                is_ca = X509_check_ca(cert);
                X509_free(cert);
                if (is_ca < 1)
                        return vm_error(-EINVAL, "vmattest.verifier_ca: certificate %zu is not a CA certificate", certs);
        }
        if (certs != blocks)
                return vm_error(-EINVAL, "vmattest.verifier_ca: certificate %zu is not valid PEM/DER", certs + 1);
        config->verifier_ca_pem = strndup(pem, len);
        config->verifier_ca_certs = certs;
        return config->verifier_ca_pem ? 0 : -ENOMEM;
}

/* token: 16-256 printable ASCII characters (the registrar's rule). Never quoted in an error. */
static int parse_token(json_object *value, struct first_boot_config *config) {
        const char *text;
        size_t len;
        int ret = member_string(value, "token", &text, &len);

        if (ret < 0)
                return ret;
        if (len < FIRST_BOOT_TOKEN_MIN || len > FIRST_BOOT_TOKEN_MAX)
                return vm_error(-EINVAL, "vmattest.token: %zu characters, %d-%d expected", len, FIRST_BOOT_TOKEN_MIN,
                                FIRST_BOOT_TOKEN_MAX);
        for (size_t i = 0; i < len; i++)
                if (text[i] < 0x20 || text[i] > 0x7e)
                        return vm_error(-EINVAL, "vmattest.token: character %zu is not printable ASCII", i + 1);
        config->token = secret_new_copy(text, len);
        /* json-c's copy: the object is freed with the document, unwiped otherwise */
        OPENSSL_cleanse((char *)text, len);
        return config->token ? 0 : -ENOMEM;
}

static int parse_agent_id(json_object *value, struct first_boot_config *config) {
        static const enum first_boot_agent_id ids[] = { FIRST_BOOT_ID_EK_HASH, FIRST_BOOT_ID_INSTANCE_ID,
                                                        FIRST_BOOT_ID_GENERATE };
        const char *text;
        size_t len;
        int ret = member_string(value, "agent_id", &text, &len);

        if (ret < 0)
                return ret;
        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                if (strcmp(text, first_boot_agent_id_name(ids[i])) == 0) {
                        config->agent_id = ids[i];
                        return 0;
                }
        return vm_error(-EINVAL, "vmattest.agent_id: \"%.64s\" is not instance-id, ek-hash or generate", text);
}

/* A data volume's device: an absolute path under /dev/ of [A-Za-z0-9._/:-], no "..". */
static bool device_path_valid(const char *path, size_t len) {
        if (len <= 5 || len > FIRST_BOOT_VOLUME_LEN_MAX || strncmp(path, "/dev/", 5) != 0 || strstr(path, ".."))
                return false;
        for (size_t i = 0; i < len; i++)
                if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/:-", path[i]) || !path[i])
                        return false;
        return true;
}

/* volumes: "root" (the root file system's LUKS2 device) and/or /dev/ paths, each once. */
static int parse_volumes(json_object *value, struct first_boot_config *config) {
        size_t count;

        if (!json_object_is_type(value, json_type_array))
                return vm_error(-EINVAL, "vmattest.volumes: not a list");
        count = json_object_array_length(value);
        if (count == 0 || count > FIRST_BOOT_VOLUMES_MAX)
                return vm_error(-EINVAL, "vmattest.volumes: %zu entries, 1-%d expected", count, FIRST_BOOT_VOLUMES_MAX);
        for (size_t i = 0; i < count; i++) {
                json_object *item = json_object_array_get_idx(value, i);
                const char *text;
                size_t len;

                if (!json_object_is_type(item, json_type_string))
                        return vm_error(-EINVAL, "vmattest.volumes[%zu]: not a string", i);
                text = json_object_get_string(item);
                len = (size_t)json_object_get_string_len(item);
                if (strlen(text) != len || (strcmp(text, "root") != 0 && !device_path_valid(text, len)))
                        return vm_error(-EINVAL, "vmattest.volumes[%zu]: \"%.64s\" is not root or a device path /dev/...",
                                        i, text);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(config->volumes[j], text) == 0)
                                return vm_error(-EINVAL, "vmattest.volumes[%zu]: \"%s\" is listed twice", i, text);
                memcpy(config->volumes[i], text, len + 1);
        }
        config->volume_count = count;
        return 0;
}

static int parse_member(const char *name, json_object *value, struct first_boot_config *config) {
        const char *text;
        size_t len;
        int ret;

        if (strcmp(name, "token") == 0)
                return parse_token(value, config);
        if (strcmp(name, "agent_id") == 0)
                return parse_agent_id(value, config);
        if (strcmp(name, "volumes") == 0)
                return parse_volumes(value, config);
        if (strcmp(name, "registrar") != 0 && strcmp(name, "verifier_ca") != 0 && strcmp(name, "contact") != 0)
                return vm_error(-EINVAL,
                                "vmattest.%.64s: unknown key (known: registrar, verifier_ca, token, contact, agent_id, "
                                "volumes)",
                                name);
        if ((ret = member_string(value, name, &text, &len)) < 0)
                return ret;
        if (strcmp(name, "registrar") == 0)
                return parse_endpoint(name, text, len, true, FIRST_BOOT_REGISTRAR_PORT, config->registrar_host,
                                      sizeof(config->registrar_host), &config->registrar_port);
        if (strcmp(name, "contact") == 0)
                return parse_endpoint(name, text, len, false, FIRST_BOOT_AGENT_PORT, config->contact_ip,
                                      sizeof(config->contact_ip), &config->contact_port);
        return parse_ca(text, len, config);
}

int first_boot_config_parse(const char *json, size_t size, struct first_boot_config *config) {
        _cleanup_(json_object_putp) json_object *doc = NULL;
        json_tokener *tok;
        enum json_tokener_error error;
        int ret = 0;

        *config = (struct first_boot_config){ .agent_id = FIRST_BOOT_ID_EK_HASH };
        if (size == 0 || size > FIRST_BOOT_INPUT_MAX)
                return vm_error(-EINVAL, "vmattest: %zu bytes of JSON, 1-%d expected", size, FIRST_BOOT_INPUT_MAX);
        tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        doc = json_tokener_parse_ex(tok, json, (int)size);
        error = json_tokener_get_error(tok);
        if (error == json_tokener_success) {
                /* one document and nothing after it but blanks (the hook's newline) */
                for (size_t i = json_tokener_get_parse_end(tok); i < size; i++)
                        if (!json[i] || !strchr(" \t\r\n", json[i])) {
                                error = json_tokener_error_parse_unexpected;
                                break;
                        }
        } else if (error == json_tokener_continue) {
                /* a bare literal (null, 12) is complete only at the end of the input */
                doc = json_tokener_parse_ex(tok, "", 1);
                error = json_tokener_get_error(tok);
        }
        json_tokener_free(tok);
        if (error != json_tokener_success)
                return vm_error(-EINVAL, "vmattest: not valid JSON: %s",
                                error == json_tokener_continue ? "it ends early" : json_tokener_error_desc(error));
        if (!json_object_is_type(doc, json_type_object))
                return vm_error(-EINVAL, "vmattest: not a mapping of keys (registrar, verifier_ca, token, ...)");

        json_object_object_foreach(doc, name, value) {
                if ((ret = parse_member(name, value, config)) < 0)
                        break;
        }
        if (ret >= 0 && !config->registrar_host[0])
                ret = vm_error(-EINVAL, "vmattest.registrar: missing (host:port of the registrar's TLS port)");
        if (ret >= 0 && !config->verifier_ca_pem)
                ret = vm_error(-EINVAL, "vmattest.verifier_ca: missing (PEM: the CA of the registrar's and verifier's certificates)");
        if (ret >= 0 && !config->token)
                ret = vm_error(-EINVAL, "vmattest.token: missing (the enrolment token of the tenant's group)");
        if (ret >= 0 && config->volume_count == 0) {
                /* the root ships under the image builder's provisioning key: protect it by default */
                strcpy(config->volumes[0], "root");
                config->volume_count = 1;
        }
        if (ret < 0)
                first_boot_config_clear(config);
        return ret;
}
