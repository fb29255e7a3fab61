/* rd.vmattest.* on the kernel command line. Whoever controls the bootloader writes these bytes,
 * so they are read bounded: the whole line at most CMDLINE_MAX bytes, each word copied into a
 * buffer of that size, every value checked before it reaches a field of agent_config. */
#include "agent/cmdline.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/agent_id.h"
#include "lib/cleanup.h"
#include "lib/conf.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/log.h"

#define OPTION_PREFIX "rd.vmattest"
#define WORD_SHOWN_MAX 96      /* of a word quoted in an error */
#define VERIFIER_SCHEME "https://"

/* One word of the command line, split as the kernel's next_arg() splits it. */
struct cmdline_word {
        const char *raw; /* as written, quotes included, for messages */
        size_t raw_len;
        char text[CMDLINE_MAX + 1]; /* "key\0value\0": at most the word's length plus one */
        const char *key;
        const char *value; /* NULL: the word has no '=' */
};

/* What one pass over the command line has seen so far. */
struct cmdline_state {
        struct agent_config *config;
        bool volumes_given; /* the first rd.vmattest.volume replaces agent.conf's list */
        bool contact_given;
        bool port_given;
};

struct cmdline_option {
        const char *name; /* after "rd.vmattest." */
        const char *syntax;
        /* 0, or -1 with the reason in `why` */
        int (*apply)(const char *value, struct cmdline_state *state, char *why, size_t why_size);
};

/* The kernel's isspace() (lib/ctype.c), Latin-1's no-break space 0xa0 included: a word the
 * kernel sees after one must not hide inside the word before it here. */
static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || (unsigned char)c == 0xa0;
}

static bool is_decimal(const char *text) {
        if (!*text)
                return false;
        for (; *text; text++)
                if (*text < '0' || *text > '9')
                        return false;
        return true;
}

/* The word as it can be quoted in a message: bounded, control and non-ASCII bytes as '?'. */
static const char *word_shown(const struct cmdline_word *word, char *out, size_t out_size) {
        size_t shown = word->raw_len < out_size - 4 ? word->raw_len : out_size - 4, i;

        for (i = 0; i < shown; i++) {
                unsigned char c = (unsigned char)word->raw[i];

                out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        if (shown < word->raw_len)
                out[i++] = '.', out[i++] = '.', out[i++] = '.';
        out[i] = '\0';
        return out;
}

/* Reads the word at *pos into `word` and moves *pos past it: 1, 0 at the end of the text, or
 * -EINVAL for a quote left open. As next_arg(): a '"' anywhere toggles quoting (spaces inside
 * do not split), the key ends at the first '=', a value that starts with '"' loses it and the
 * word's last '"', and so does a word that starts with '"'. */
static int next_word(const char *text, size_t len, size_t *pos, struct cmdline_word *word) {
        size_t start, body, end, equals = SIZE_MAX, key_end, value_start = 0, value_end = 0;
        bool quoted, in_quote;

        while (*pos < len && is_space(text[*pos]))
                (*pos)++;
        if (*pos == len)
                return 0;
        start = *pos;
        quoted = in_quote = text[start] == '"';
        body = start + quoted;
        for (end = body; end < len && (in_quote || !is_space(text[end])); end++) {
                if (equals == SIZE_MAX && text[end] == '=')
                        equals = end;
                if (text[end] == '"')
                        in_quote = !in_quote;
        }
        *pos = end;
        word->raw = text + start;
        word->raw_len = end - start;
        if (in_quote)
                return -EINVAL;

        key_end = equals != SIZE_MAX ? equals : end;
        if (quoted && equals == SIZE_MAX && end > body && text[end - 1] == '"')
                key_end = end - 1;
        if (equals != SIZE_MAX) {
                value_start = equals + 1;
                value_end = end;
                if (value_start < end && text[value_start] == '"') {
                        value_start++;
                        if (text[end - 1] == '"')
                                value_end = end - 1;
                } else if (quoted && text[end - 1] == '"')
                        value_end = end - 1;
                if (value_end < value_start) /* "key=" as a whole word: its one quote ends both */
                        value_end = value_start;
        }

        /* key, NUL, value, NUL: no longer than the word plus one, which is at most CMDLINE_MAX */
        memcpy(word->text, text + body, key_end - body);
        word->text[key_end - body] = '\0';
        word->key = word->text;
        word->value = NULL;
        if (equals != SIZE_MAX) {
                char *value = word->text + (key_end - body) + 1;

                memcpy(value, text + value_start, value_end - value_start);
                value[value_end - value_start] = '\0';
                word->value = value;
        }
        return 1;
}

/* HOST:PORT or [IPv6]:PORT; `host` receives HOST without brackets. */
static int split_host_port(const char *value, char *host, size_t host_size, bool *bracketed, uint16_t *port,
                           char *why, size_t why_size) {
        const char *host_start = value, *host_end, *port_text;
        char port_why[128];

        *bracketed = value[0] == '[';
        if (*bracketed) {
                host_start = value + 1;
                host_end = strchr(host_start, ']');
                if (!host_end || host_end[1] != ':')
                        return snprintf(why, why_size, "not [IPv6 address]:PORT"), -1;
                port_text = host_end + 2;
        } else {
                host_end = strrchr(value, ':');
                if (!host_end)
                        return snprintf(why, why_size, "no :PORT"), -1;
                if (memchr(value, ':', (size_t)(host_end - value)))
                        return snprintf(why, why_size, "an IPv6 address goes in brackets: [ADDRESS]:PORT"), -1;
                port_text = host_end + 1;
        }
        if (host_end == host_start)
                return snprintf(why, why_size, "no host before :PORT"), -1;
        if ((size_t)(host_end - host_start) >= host_size)
                return snprintf(why, why_size, "host longer than %zu characters", host_size - 1), -1;
        memcpy(host, host_start, (size_t)(host_end - host_start));
        host[host_end - host_start] = '\0';
        if (!is_decimal(port_text) || conf_parse_port(port_text, port, sizeof(*port), port_why, sizeof(port_why)) < 0)
                return snprintf(why, why_size, "not a port number 1-65535 after the host"), -1;
        return 0;
}

/* RFC 1123 host names: labels of 1-63 letters, digits and '-' (not at either end), 253 at
 * most. A name whose last label is all digits would be read as an IPv4 address: it must be one. */
static bool dns_name_valid(const char *name) {
        size_t len = strlen(name), label = 0;
        bool label_numeric = true;

        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i <= len; i++) {
                char c = name[i];

                if (c == '.' || c == '\0') {
                        if (label == 0 || label > 63 || name[i - 1] == '-')
                                return false;
                        if (c == '\0')
                                break;
                        label = 0;
                        label_numeric = true;
                        continue;
                }
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
                        return false;
                if (c == '-' && label == 0)
                        return false;
                label_numeric = label_numeric && c >= '0' && c <= '9';
                label++;
        }
        return !label_numeric;
}

/* A server's host as split_host_port gives it: an IPv6 address in brackets, else an IPv4
 * address or a DNS name. */
static int server_host_check(const char *host, bool bracketed, char *why, size_t why_size) {
        unsigned char addr[16];

        if (bracketed && inet_pton(AF_INET6, host, addr) != 1)
                return snprintf(why, why_size, "\"%s\" in brackets is not an IPv6 address", host), -1;
        if (!bracketed && inet_pton(AF_INET, host, addr) != 1 && !dns_name_valid(host))
                return snprintf(why, why_size, "\"%s\" is not an IPv4 address or a DNS name", host), -1;
        return 0;
}

static int apply_registrar(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        struct agent_config *config = state->config;
        char host[sizeof(config->registrar_ip)];
        bool bracketed;
        uint16_t port;

        if (split_host_port(value, host, sizeof(host), &bracketed, &port, why, why_size) < 0 ||
            server_host_check(host, bracketed, why, why_size) < 0)
                return -1;
        /* without brackets: registrar_client.c adds them to an IPv6 address in the URL */
        if (conf_parse_string(host, config->registrar_ip, sizeof(config->registrar_ip), why, why_size) < 0)
                return -1;
        config->registrar_port = port;
        return 0;
}

/* https://HOST[:PORT], agent.conf's verifier_url: where a push-mode agent sends its evidence
 * (docs/protocol.md §4). Nothing after the host and port: the paths are API v3's, and a user
 * part or a query would only hide what the agent connects to. HOST as rd.vmattest.registrar's. */
static int apply_verifier(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        struct agent_config *config = state->config;
        const char *authority = value + strlen(VERIFIER_SCHEME);
        const char *host_end;
        char host_port[sizeof(config->verifier_url)], host[256];
        bool bracketed, has_port;
        uint16_t port;

        if (strncmp(value, VERIFIER_SCHEME, strlen(VERIFIER_SCHEME)) != 0)
                return snprintf(why, why_size, "not " VERIFIER_SCHEME "HOST[:PORT] (TLS only)"), -1;
        if (strlen(value) >= sizeof(config->verifier_url))
                return snprintf(why, why_size, "longer than %zu characters", sizeof(config->verifier_url) - 1), -1;
        if (authority[strcspn(authority, "/?#@")])
                return snprintf(why, why_size, "only " VERIFIER_SCHEME "HOST[:PORT]: no path, query or user part"), -1;
        /* a port is optional in a URL: split_host_port wants one, 443 stands in for it */
        host_end = authority[0] == '[' ? strchr(authority, ']') : NULL;
        has_port = host_end ? host_end[1] == ':' : strchr(authority, ':') != NULL;
        snprintf(host_port, sizeof(host_port), "%s%s", authority, has_port ? "" : ":443");
        if (split_host_port(host_port, host, sizeof(host), &bracketed, &port, why, why_size) < 0 ||
            server_host_check(host, bracketed, why, why_size) < 0)
                return -1;
        return conf_parse_string(value, config->verifier_url, sizeof(config->verifier_url), why, why_size);
}

static int apply_contact(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        struct agent_config *config = state->config;
        char host[sizeof(config->contact_ip)];
        unsigned char addr[16];
        bool bracketed;
        uint16_t port;

        if (split_host_port(value, host, sizeof(host), &bracketed, &port, why, why_size) < 0)
                return -1;
        /* an address, not a name: it goes into the mTLS certificate's IP subject alternative name */
        if (inet_pton(bracketed ? AF_INET6 : AF_INET, host, addr) != 1)
                return snprintf(why, why_size, "\"%s\" is not an %s address", host, bracketed ? "IPv6" : "IPv4"), -1;
        if (conf_parse_ip(host, config->contact_ip, sizeof(config->contact_ip), why, why_size) < 0)
                return -1;
        config->contact_port = port;
        state->contact_given = true;
        return 0;
}

static int apply_port(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        char port_why[128];

        if (!is_decimal(value) ||
            conf_parse_port(value, &state->config->port, sizeof(state->config->port), port_why, sizeof(port_why)) < 0)
                return snprintf(why, why_size, "not a port number 1-65535"), -1;
        state->port_given = true;
        return 0;
}

static int apply_volume(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        char *list = state->config->unlock_volumes;
        size_t list_size = sizeof(state->config->unlock_volumes);

        if (!state->volumes_given) {
                list[0] = '\0';
                state->volumes_given = true;
        }
        for (const char *volume = value;;) {
                size_t len = strcspn(volume, ",");
                char element[sizeof(AGENT_CONFIG_BY_UUID_DIR) + AGENT_CONFIG_LUKS_UUID_LEN];

                if (len == 0)
                        return snprintf(why, why_size, "an empty element in the list of volumes"), -1;
                if (!agent_config_volume_valid(volume, len))
                        return snprintf(why, why_size, "\"%.*s\" is not a LUKS UUID (lowercase) or %sUUID",
                                        (int)(len < WORD_SHOWN_MAX ? len : WORD_SHOWN_MAX), volume, AGENT_CONFIG_BY_UUID_DIR),
                               -1;
                memcpy(element, volume, len); /* agent_config_volume_valid: len < sizeof(element) */
                element[len] = '\0';
                if (conf_parse_list(element, list, list_size, why, why_size) < 0)
                        return snprintf(why, why_size, "the list of volumes grows beyond %zu characters",
                                        list_size - 1),
                               -1;
                if (!volume[len])
                        return 0;
                volume += len + 1;
        }
}

static int apply_timeout(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        char uint_why[128];
        unsigned seconds;

        if (!is_decimal(value) || agent_config_parse_timeout(value, &seconds, sizeof(seconds), uint_why, sizeof(uint_why)) < 0)
                return snprintf(why, why_size, "not a number of seconds 1-86400"), -1;
        state->config->unlock_timeout = seconds;
        return 0;
}

static int apply_fallback(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        struct agent_config *config = state->config;

        if (!agent_config_fallback_valid(value))
                return snprintf(why, why_size, "not prompt or poweroff"), -1;
        return conf_parse_string(value, config->unlock_fallback, sizeof(config->unlock_fallback), why, why_size);
}

static int apply_uuid(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        struct agent_config *config = state->config;

        if (!agent_config_uuid_valid(value))
                return snprintf(why, why_size, "not hash_ek, generate, or an id of 1-%d characters A-Z a-z 0-9 . _ -",
                                AGENT_ID_MAX),
                       -1;
        return conf_parse_string(value, config->uuid, sizeof(config->uuid), why, why_size);
}

static int apply_mode(const char *value, struct cmdline_state *state, char *why, size_t why_size) {
        struct agent_config *config = state->config;

        if (!agent_config_mode_valid(value))
                return snprintf(why, why_size, "not push or pull"), -1;
        return conf_parse_string(value, config->mode, sizeof(config->mode), why, why_size);
}

static const struct cmdline_option cmdline_options[] = {
        { "registrar", "HOST:PORT", apply_registrar },
        { "contact", "IP:PORT", apply_contact },
        { "port", "PORT", apply_port },
        { "volume", "UUID[,UUID...]", apply_volume },
        { "timeout", "SECONDS", apply_timeout },
        { "fallback", "prompt|poweroff", apply_fallback },
        { "uuid", "ID", apply_uuid },
        { "mode", "push|pull", apply_mode },
        { "verifier", "https://HOST[:PORT]", apply_verifier },
};

static const struct cmdline_option *option_find(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(cmdline_options); i++)
                if (strcmp(cmdline_options[i].name, name) == 0)
                        return &cmdline_options[i];
        return NULL;
}

static void options_known(char *out, size_t out_size) {
        size_t used = 0;

        out[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(cmdline_options) && used < out_size; i++) {
                int n = snprintf(out + used, out_size - used, "%s" OPTION_PREFIX ".%s", i ? ", " : "",
                                 cmdline_options[i].name);

                if (n < 0)
                        break;
                used += (size_t)n;
        }
}

/* One rd.vmattest word: 0, or -EINVAL with a detail. */
static int apply_word(const struct cmdline_word *word, struct cmdline_state *state, bool announce) {
        const char *name = word->key + strlen(OPTION_PREFIX);
        const struct cmdline_option *option;
        char shown[WORD_SHOWN_MAX + 4], why[384];

        /* rd.vmattest=0 is vmattest-unlock.service's to act on: the unit does not start */
        if (!*name) {
                if (!word->value || (strcmp(word->value, "0") != 0 && strcmp(word->value, "1") != 0))
                        return vm_error(-EINVAL, "kernel command line: %s: not rd.vmattest=0 or rd.vmattest=1",
                                        word_shown(word, shown, sizeof(shown)));
                return 0;
        }
        option = option_find(name + 1);
        if (!option) {
                options_known(why, sizeof(why));
                return vm_error(-EINVAL, "kernel command line: %s: unknown option (known: rd.vmattest=0|1, %s)",
                                word_shown(word, shown, sizeof(shown)), why);
        }
        if (!word->value || !*word->value)
                return vm_error(-EINVAL, "kernel command line: %s: no value (" OPTION_PREFIX ".%s=%s)",
                                word_shown(word, shown, sizeof(shown)), option->name, option->syntax);
        if (option->apply(word->value, state, why, sizeof(why)) < 0)
                return vm_error(-EINVAL, "kernel command line: %s: %s", word_shown(word, shown, sizeof(shown)), why);
        if (announce)
                log_info("kernel command line: %s=%s", word->key, word->value);
        return 0;
}

static int apply_words(const char *text, size_t len, struct agent_config *config, bool announce) {
        struct cmdline_state state = { .config = config };
        uint16_t port_before = config->port;
        bool contact_follows_port = config->contact_port == config->port;
        _cleanup_(freep) struct cmdline_word *word = malloc(sizeof(*word));
        char shown[WORD_SHOWN_MAX + 4];
        size_t pos = 0;
        int ret;

        if (!word)
                return -ENOMEM;
        while ((ret = next_word(text, len, &pos, word)) > 0) {
                if (strcmp(word->key, OPTION_PREFIX) != 0 &&
                    strncmp(word->key, OPTION_PREFIX ".", strlen(OPTION_PREFIX ".")) != 0)
                        continue; /* root=, rd.luks.uuid=, quiet ...: not ours */
                ret = apply_word(word, &state, announce);
                if (ret < 0)
                        return ret;
        }
        if (ret < 0)
                return vm_error(ret, "kernel command line: a quote is not closed in %s",
                                word_shown(word, shown, sizeof(shown)));
        /* agent.conf's contact_port defaults to port (config.c): a port given here moves it too,
         * unless agent.conf or rd.vmattest.contact put it elsewhere */
        if (state.port_given && !state.contact_given && contact_follows_port && config->port != port_before) {
                config->contact_port = config->port;
                if (announce)
                        log_info("kernel command line: contact port %u as rd.vmattest.port", config->port);
        }
        return 0;
}

int cmdline_apply(const char *text, size_t len, struct agent_config *config) {
        _cleanup_(freep) struct agent_config *trial = NULL;
        int ret;

        if (len > CMDLINE_MAX)
                return vm_error(-E2BIG, "kernel command line: longer than %d bytes (%zu)", CMDLINE_MAX, len);
        if (len == 0)
                return 0;
        if (memchr(text, '\0', len))
                return vm_error(-EINVAL, "kernel command line: a NUL byte at offset %zu",
                                (size_t)((const char *)memchr(text, '\0', len) - text));
        /* all or nothing: on a copy first, so that a bad word leaves `config` as it was and the
         * log names only options that were applied */
        trial = malloc(sizeof(*trial));
        if (!trial)
                return -ENOMEM;
        *trial = *config;
        ret = apply_words(text, len, trial, false);
        if (ret < 0)
                return ret;
        return apply_words(text, len, config, true);
}

int cmdline_apply_file(const char *path, struct agent_config *config) {
        _cleanup_(freep) char *text = NULL;
        size_t size;
        int ret = file_read_all(path, CMDLINE_MAX, &text, &size);

        if (ret == -ENOENT)
                return 0; /* not Linux's /proc, or a test without one: agent.conf alone */
        if (ret == -EFBIG)
                return vm_error(-E2BIG, "kernel command line %s: longer than %d bytes", path, CMDLINE_MAX);
        if (ret < 0)
                return ret;
        return cmdline_apply(text, size, config);
}
