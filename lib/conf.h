/* Table-driven INI config files (inih) for the agent and the verifier: each key names its
 * section, a parser and where its value goes. Values may be double-quoted (rust-keylime
 * writes TOML-style strings). The first bad value, unknown key or syntax error is reported as
 * "FILE:LINE: key \"NAME\": why". */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Parses `value` into `field` (of `size` bytes); on error writes a reason to `why`, returns -1. */
typedef int (*conf_parse_fn)(const char *value, void *field, size_t size, char *why, size_t why_size);

struct conf_key {
        const char *section;
        const char *name;
        conf_parse_fn parse;
        size_t offset;
        size_t size;
};

#define CONF_KEY(section, type, member, parser) \
        { section, #member, parser, offsetof(type, member), sizeof(((type *)0)->member) }

int conf_parse_string(const char *value, void *field, size_t size, char *why, size_t why_size);
bool conf_ip_valid(const char *text);
int conf_parse_ip(const char *value, void *field, size_t size, char *why, size_t why_size);
int conf_parse_port(const char *value, void *field, size_t size, char *why, size_t why_size);  /* uint16_t, 1-65535 */
int conf_parse_port_or_zero(const char *value, void *field, size_t size, char *why, size_t why_size);
int conf_parse_uint(const char *value, void *field, size_t size, char *why, size_t why_size);  /* unsigned, 0-86400 */
/* Appends to a comma-separated list: the key may be repeated, one value (or several, comma-
 * separated) per line, as lines are limited in length. */
int conf_parse_list(const char *value, void *field, size_t size, char *why, size_t why_size);
int conf_parse_bool(const char *value, void *field, size_t size, char *why, size_t why_size);  /* true/false/yes/no/1/0 */

/* The value of `key` in `target` as a config file would hold it (unquoted), for keys of the
 * generic parsers above; -ENOTSUP for a key with a parser of its own, -ENOSPC when `out` is
 * too small. */
int conf_format(const struct conf_key *key, const void *target, char *out, size_t size);

/* Missing file: an error only when `must_exist`. */
int conf_load(const char *path, bool must_exist, const struct conf_key *keys, size_t nkeys, void *target);
