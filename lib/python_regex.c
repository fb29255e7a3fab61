#include "python_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Bounds on one match. A path is at most 4 KiB: a regex that reads it in linear or quadratic
 * time needs far fewer steps, and a nested group repeated over every byte stays within the
 * depth; what needs more is exponential backtracking, which these cut to a few milliseconds. */
#define MATCH_LIMIT 100000  /* steps (calls of PCRE2's internal match()) */
#define DEPTH_LIMIT 20000   /* nested backtracking points */
#define HEAP_LIMIT_KIB 8192 /* memory for the backtracking frames */

struct python_regex {
        pcre2_code *code;
        pcre2_match_context *limits;
};

static int regex_refused(size_t offset, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int regex_refused(size_t offset, const char *fmt, ...) {
        char reason[200];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        return vm_error(-EINVAL, "at offset %zu: %s", offset, reason);
}

static bool is_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_letter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* One backslash escape at in[*i] (a backslash), rewritten to `*o`. */
static int translate_escape(const char *in, size_t *i, bool in_class, char **o) {
        char e = in[*i + 1];
        size_t digits;

        if (!e)
                return regex_refused(*i, "a lone backslash at the end");
        if (e == 'u' || e == 'U' || e == 'x') {
                /* Python: exactly 4, 8 or 2 hex digits; PCRE2 takes \x{...} for any of them */
                digits = e == 'u' ? 4 : e == 'U' ? 8 : 2;
                for (size_t k = 0; k < digits; k++)
                        if (!is_hex(in[*i + 2 + k]))
                                return regex_refused(*i, "\\%c needs %zu hex digits", e, digits);
                *o += sprintf(*o, "\\x{%.*s}", (int)digits, in + *i + 2);
                *i += 2 + digits;
                return 0;
        }
        if (e == 'v') { /* Python: the VT character; PCRE2: any vertical space */
                *o += sprintf(*o, "\\x0b");
                *i += 2;
                return 0;
        }
        if (e == 'Z' && !in_class) { /* Python: only at the very end; PCRE2's \Z also before a final newline */
                *o += sprintf(*o, "\\z");
                *i += 2;
                return 0;
        }
        if (e == 'N')
                return regex_refused(*i, "\\N{name} is not supported (PCRE2 reads \\N as another thing)");
        /* the letter escapes Python knows, in a class and outside one; any other is an error in
         * Python, and many mean something in PCRE2 (\e, \h, \K, \Q, \p ...) */
        if (is_letter(e) && !strchr(in_class ? "abfnrtdDsSwW" : "abfnrtdDsSwWABZ", e))
                return regex_refused(*i, "\\%c is not a Python regex escape", e);
        *(*o)++ = '\\';
        *(*o)++ = e;
        *i += 2;
        return 0;
}

/* "(?..." at in[i]: the extension Python reads there, checked. *global: a global flag group. */
static int check_extension(const char *in, size_t i, bool leading, bool *global) {
        static const char *const python_forms[] = { ":", "#", "=", "!", "<=", "<!", ">", "P<", "P=", "(" };
        const char *x = in + i + 2;
        bool off = false;

        *global = false;
        for (size_t k = 0; k < sizeof(python_forms) / sizeof(python_forms[0]); k++)
                if (strncmp(x, python_forms[k], strlen(python_forms[k])) == 0)
                        return 0;
        for (; is_letter(*x) || *x == '-'; x++) {
                if (*x == '-') {
                        if (off)
                                return regex_refused(i, "a flag group with two '-'");
                        off = true;
                } else if (!strchr("ims", *x))
                        return regex_refused(i, "the flag '%c' is not supported (only i, m and s)", *x);
        }
        if (x == in + i + 2 || (*x != ')' && *x != ':'))
                return regex_refused(i, "\"(?%.2s\" is not a Python regex extension", in + i + 2);
        if (*x == ')') {
                /* Python 3.11: "global flags not at the start of the expression"; PCRE2 would
                 * apply them to the rest of the group only */
                if (!leading)
                        return regex_refused(i, "global flags not at the start of the expression");
                if (off)
                        return regex_refused(i, "global flags cannot turn a flag off");
                *global = true;
        }
        return 0;
}

/* Python's syntax to PCRE2's (see python_regex.h); `out` holds 2 * strlen(in) + 1 bytes. */
static int translate(const char *in, char *out) {
        bool in_class = false, leading = true; /* leading: nothing but global flag groups yet */
        size_t class_start = 0, i = 0;
        char *o = out;
        int ret;

        while (in[i]) {
                char c = in[i];

                if (c == '\\') {
                        ret = translate_escape(in, &i, in_class, &o);
                        if (ret < 0)
                                return ret;
                        leading = false;
                        continue;
                }
                if (in_class) {
                        if (c == '[' && in[i + 1] && strchr(":.=", in[i + 1]))
                                return regex_refused(i, "\"[%c\" in a class: Python reads it as characters, PCRE2 as a "
                                                        "POSIX class",
                                                     in[i + 1]);
                        if (c == ']' && i != class_start)
                                in_class = false;
                        *o++ = c;
                        i++;
                        continue;
                }
                if (c == '[') {
                        /* a ']' right after "[" or "[^" is a character in both */
                        *o++ = in[i++];
                        if (in[i] == '^')
                                *o++ = in[i++];
                        in_class = true;
                        class_start = i;
                        leading = false;
                        continue;
                }
                if (c == '(' && in[i + 1] == '*')
                        return regex_refused(i, "\"(*\" is not Python regex syntax");
                if (c == '(' && in[i + 1] == '?') {
                        bool global;

                        ret = check_extension(in, i, leading, &global);
                        if (ret < 0)
                                return ret;
                        if (in[i + 2] == '#') { /* a comment: to its ')', read as text by neither */
                                const char *end = strchr(in + i, ')');

                                if (!end)
                                        return regex_refused(i, "a comment without its ')'");
                                memcpy(o, in + i, (size_t)(end - (in + i)) + 1);
                                o += end - (in + i) + 1;
                                i = (size_t)(end - in) + 1;
                                continue;
                        }
                        if (global) { /* copied whole: more global flags may follow */
                                size_t end = i + 2 + strspn(in + i + 2, "ims");

                                memcpy(o, in + i, end + 1 - i);
                                o += end + 1 - i;
                                i = end + 1;
                                continue;
                        }
                        leading = false;
                        *o++ = in[i++];
                        *o++ = in[i++];
                        continue;
                }
                if (c == '{' && in[i + 1] == ',') { /* Python: {,n} is {0,n}, {,} is {0,} */
                        size_t j = i + 2;

                        while (in[j] >= '0' && in[j] <= '9')
                                j++;
                        if (in[j] == '}') {
                                o += sprintf(o, "{0,");
                                i += 2;
                                leading = false;
                                continue;
                        }
                }
                *o++ = c;
                i++;
                leading = false;
        }
        *o = '\0';
        return 0;
}

void python_regex_free(struct python_regex *regex) {
        if (!regex)
                return;
        pcre2_code_free(regex->code);
        pcre2_match_context_free(regex->limits);
        free(regex);
}

int python_regex_compile(const char *pattern, struct python_regex **out) {
        /* UTF + UCP: a str pattern's Unicode classes; ANCHORED: re.match; MATCH_INVALID_UTF:
         * paths are bytes; NEVER_BACKSLASH_C: \C would split a character */
        const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_ANCHORED | PCRE2_MATCH_INVALID_UTF |
                                 PCRE2_NEVER_BACKSLASH_C;
        size_t len = strlen(pattern);
        struct python_regex *regex;
        pcre2_compile_context *cc;
        char *translated;
        PCRE2_SIZE error_offset;
        int error, ret;

        *out = NULL;
        if (len > PYTHON_REGEX_MAX)
                return vm_error(-EINVAL, "longer than %d bytes", PYTHON_REGEX_MAX);
        translated = malloc(2 * len + 1);
        regex = calloc(1, sizeof(*regex));
        cc = pcre2_compile_context_create(NULL);
        if (!translated || !regex || !cc) {
                ret = -ENOMEM;
                goto done;
        }
        ret = translate(pattern, translated);
        if (ret < 0)
                goto done;
        /* Python's defaults: a newline is LF alone, \R is not Python's anyway */
        pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
        regex->code = pcre2_compile((PCRE2_SPTR)translated, PCRE2_ZERO_TERMINATED, options, &error, &error_offset, cc);
        if (!regex->code) {
                PCRE2_UCHAR message[160];

                pcre2_get_error_message(error, message, sizeof(message));
                ret = strcmp(translated, pattern) == 0
                              ? vm_error(-EINVAL, "at offset %zu: %s", (size_t)error_offset, (const char *)message)
                              : vm_error(-EINVAL, "%s", (const char *)message);
                goto done;
        }
        regex->limits = pcre2_match_context_create(NULL);
        if (!regex->limits) {
                ret = -ENOMEM;
                goto done;
        }
        pcre2_set_match_limit(regex->limits, MATCH_LIMIT);
        pcre2_set_depth_limit(regex->limits, DEPTH_LIMIT);
        pcre2_set_heap_limit(regex->limits, HEAP_LIMIT_KIB);
        *out = regex;
        regex = NULL;
done:
        pcre2_compile_context_free(cc);
        python_regex_free(regex);
        free(translated);
        return ret;
}

int python_regex_match(const struct python_regex *regex, const char *text, size_t size) {
        pcre2_match_data *match = pcre2_match_data_create(1, NULL);
        PCRE2_SIZE start;
        int rc;

        if (!match)
                return -ENOMEM;
        rc = pcre2_match(regex->code, (PCRE2_SPTR)text, size, 0, 0, match, regex->limits);
        start = pcre2_get_ovector_pointer(match)[0];
        pcre2_match_data_free(match);
        /* PCRE2 10.42 with MATCH_INVALID_UTF goes on to the next valid stretch of the text when
         * an anchored match fails on an invalid byte ("/tmp/" matched "/\xff/tmp/" at offset 2):
         * only a match at the first byte is re.match's */
        if (rc >= 0)
                return start == 0 ? 1 : 0;
        switch (rc) {
        case PCRE2_ERROR_NOMATCH:
                return 0;
        case PCRE2_ERROR_MATCHLIMIT:
        case PCRE2_ERROR_DEPTHLIMIT:
        case PCRE2_ERROR_HEAPLIMIT:
                return -E2BIG;
        case PCRE2_ERROR_NOMEMORY:
                return -ENOMEM;
        default:
                return -EINVAL;
        }
}
