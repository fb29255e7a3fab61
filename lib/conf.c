#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdint.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"

int conf_parse_string(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (strlen(value) >= size)
                return snprintf(why, why_size, "value longer than %zu characters", size - 1), -1;
        strcpy(field, value);
        return 0;
}

bool conf_ip_valid(const char *text) {
        unsigned char addr[16];

        return inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1;
}

int conf_parse_ip(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (!conf_ip_valid(value))
                return snprintf(why, why_size, "\"%s\" is not an IPv4 or IPv6 address", value), -1;
        return conf_parse_string(value, field, size, why, why_size);
}

static int parse_port(const char *value, void *field, bool zero_ok, char *why, size_t why_size) {
        char *end;
        unsigned long port = strtoul(value, &end, 10);

        if (!*value || *end || value[0] == '-' || port > 65535 || (port == 0 && !zero_ok))
                return snprintf(why, why_size, "\"%s\" is not a port number %s-65535", value, zero_ok ? "0" : "1"),
                       -1;
        *(uint16_t *)field = (uint16_t)port;
        return 0;
}

int conf_parse_port(const char *value, void *field, size_t size, char *why, size_t why_size) {
        return parse_port(value, field, false, why, why_size);
}

int conf_parse_port_or_zero(const char *value, void *field, size_t size, char *why, size_t why_size) {
        return parse_port(value, field, true, why, why_size);
}

int conf_parse_uint(const char *value, void *field, size_t size, char *why, size_t why_size) {
        char *end;
        unsigned long n = strtoul(value, &end, 10);

        if (!*value || *end || value[0] == '-' || n > 86400)
                return snprintf(why, why_size, "\"%s\" is not a number 0-86400", value), -1;
        *(unsigned *)field = (unsigned)n;
        return 0;
}

int conf_parse_list(const char *value, void *field, size_t size, char *why, size_t why_size) {
        char *list = field;
        size_t used = strlen(list), len = strlen(value);

        if (used + (used ? 1 : 0) + len >= size)
                return snprintf(why, why_size, "the list grows beyond %zu characters", size - 1), -1;
        if (used)
                list[used++] = ',';
        memcpy(list + used, value, len + 1);
        return 0;
}

int conf_parse_bool(const char *value, void *field, size_t size, char *why, size_t why_size) {
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
                *(bool *)field = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
                *(bool *)field = false;
        else
                return snprintf(why, why_size, "\"%s\" is not true or false", value), -1;
        return 0;
}

#define CONF_FILE_MAX (256 * 1024)

/* What inih reads from: the file's text in memory, handed out a line at a time, so that the
 * loader knows which line the handler is looking at and can refuse lines inih would split. */
struct conf_stream {
        const char *text;
        size_t size;
        size_t offset;
        int line;
        int long_line; /* first line longer than inih's buffer, or 0 */
};

struct conf_state {
        const struct conf_key *keys;
        size_t nkeys;
        void *target;
        struct conf_stream *stream;
        char error[320]; /* the first error the handler saw ... */
        int error_line;  /* ... and its line */
};

static char *conf_read_line(char *str, int num, void *user) {
        struct conf_stream *stream = user;
        size_t left = stream->size - stream->offset, len;
        const char *start = stream->text + stream->offset, *newline;

        if (left == 0)
                return NULL;
        newline = memchr(start, '\n', left);
        len = newline ? (size_t)(newline - start) + 1 : left;
        stream->offset += len;
        stream->line++;
        /* inih's buffer holds num-1 characters: it would read the rest as a line of its own */
        if (len > (size_t)num - 1) {
                if (!stream->long_line)
                        stream->long_line = stream->line;
                len = 0; /* hand inih an empty line; the loader reports this one */
        }
        memcpy(str, start, len);
        str[len] = '\0';
        return str;
}

static int on_key(void *user, const char *section, const char *name, const char *raw_value) {
        struct conf_state *state = user;
        bool section_known = false;
        char value[512];
        size_t len = strlen(raw_value);

        if (state->error[0]) /* report the first error only */
                return 0;
        state->error_line = state->stream->line;
        if (len >= sizeof(value)) {
                snprintf(state->error, sizeof(state->error), "key \"%s\": value too long", name);
                return 0;
        }
        if (len >= 2 && raw_value[0] == '"' && raw_value[len - 1] == '"') {
                memcpy(value, raw_value + 1, len - 2);
                value[len - 2] = '\0';
        } else
                memcpy(value, raw_value, len + 1);

        for (size_t i = 0; i < state->nkeys; i++) {
                const struct conf_key *key = &state->keys[i];
                char why[256];

                if (strcmp(key->section, section) != 0)
                        continue;
                section_known = true;
                if (strcmp(key->name, name) != 0)
                        continue;
                if (key->parse(value, (char *)state->target + key->offset, key->size, why, sizeof(why)) < 0) {
                        snprintf(state->error, sizeof(state->error), "key \"%s\": %s", name, why);
                        return 0;
                }
                return 1;
        }
        if (!section_known)
                snprintf(state->error, sizeof(state->error), "key \"%s\" in unknown section [%s]", name, section);
        else
                snprintf(state->error, sizeof(state->error), "unknown key \"%s\" in [%s]", name, section);
        return 0;
}

int conf_format(const struct conf_key *key, const void *target, char *out, size_t size) {
        const void *field = (const char *)target + key->offset;
        int n;

        if (key->parse == conf_parse_string || key->parse == conf_parse_ip || key->parse == conf_parse_list)
                n = snprintf(out, size, "%.*s", (int)key->size, (const char *)field);
        else if (key->parse == conf_parse_bool)
                n = snprintf(out, size, "%s", *(const bool *)field ? "true" : "false");
        else if (key->parse == conf_parse_port || key->parse == conf_parse_port_or_zero)
                n = snprintf(out, size, "%u", (unsigned)*(const uint16_t *)field);
        else if (key->parse == conf_parse_uint)
                n = snprintf(out, size, "%u", *(const unsigned *)field);
        else
                return -ENOTSUP;
        return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

int conf_load(const char *path, bool must_exist, const struct conf_key *keys, size_t nkeys, void *target) {
        struct conf_stream stream = { 0 };
        struct conf_state state = { .keys = keys, .nkeys = nkeys, .target = target, .stream = &stream };
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) char *text = NULL;
        struct stat st;
        int line;

        if (!f) {
                if (errno == ENOENT && !must_exist)
                        return 0;
                return vm_error(-errno, "%s: cannot open: %m", path);
        }
        if (fstat(fileno(f), &st) < 0)
                return vm_error(-errno, "%s: %m", path);
        if (S_ISDIR(st.st_mode))
                return vm_error(-EISDIR, "%s: is a directory, not a config file", path);
        if (!S_ISREG(st.st_mode))
                return vm_error(-EINVAL, "%s: not a regular file", path);
        if (st.st_size > CONF_FILE_MAX)
                return vm_error(-EFBIG, "%s: larger than %d bytes", path, CONF_FILE_MAX);
        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return -ENOMEM;
        stream.size = fread(text, 1, (size_t)st.st_size, f);
        if (ferror(f))
                return vm_error(-EIO, "%s: cannot read", path);
        stream.text = text;

        line = ini_parse_stream(conf_read_line, &stream, on_key, &state);
        if (line < 0)
                return vm_error(-EIO, "%s: cannot parse", path);
        /* report whichever came first: a line too long, a syntax error, or a bad key */
        if (stream.long_line && (line == 0 || stream.long_line <= line) &&
            (!state.error[0] || stream.long_line <= state.error_line))
                return vm_error(-EINVAL, "%s:%d: line longer than %d characters", path, stream.long_line,
                                INI_MAX_LINE - 2); /* inih's buffer holds the line, its newline and a NUL */
        if (state.error[0] && (line == 0 || state.error_line <= line))
                return vm_error(-EINVAL, "%s:%d: %s", path, state.error_line, state.error);
        if (line > 0)
                return vm_error(-EINVAL, "%s:%d: syntax error (expected key = value or [section])", path, line);
        return 0;
}
