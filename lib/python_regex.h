/* Regexes written for Python's re module (Keylime's runtime policy `excludes`), matched as
 * re.compile(pattern).match(text) matches them, with PCRE2.
 *
 * Keylime compiles each exclude as a str pattern: \d, \w, \s and \b are Unicode-aware, `$`
 * matches at the end or before a final newline, `.` does not match a newline. PCRE2 is run in
 * the same mode (UTF, Unicode properties, anchored at the first byte as re.match is), and the
 * few constructs both accept but read differently are rewritten or refused before PCRE2 sees
 * them:
 *   - rewritten: \Z (Python: the very end, PCRE2's \z), \v (Python: the VT character, PCRE2: a
 *     class), \uXXXX and \UXXXXXXXX (PCRE2: \x{...}), {,n} and {,} (PCRE2 10.42: literal text);
 *   - refused: [: [. [= inside a class (Python: literal characters, PCRE2: a POSIX class),
 *     \N{name}, any letter escape Python does not know (\e, \h, \K, \Q, \p ...), "(*" verbs,
 *     "(?" extensions Python does not have, flags other than i, m and s (a, L, u, x and PCRE2's
 *     own), and global flags after the start, which Python 3.11 refuses too.
 * Keylime joins its excludes into one regex "(e1)|(e2)|..." (so that its global flags fail
 * there and its group numbers shift); vmattest compiles and matches each on its own, which is
 * what each one says.
 *
 * The text matched is bytes as IMA logged them: invalid UTF-8 in it matches nothing but does not
 * stop the match. Matching is bounded (PCRE2's match, depth and heap limits), so that a regex
 * that backtracks catastrophically ("(a+)+$" against "aaaa...b") gives up in milliseconds. */
#pragma once

#include <stddef.h>

#define PYTHON_REGEX_MAX 4096 /* bytes of one pattern */

struct python_regex;

/* -EINVAL with a detail saying what in `pattern` (NUL-terminated) is not accepted, and why. */
int python_regex_compile(const char *pattern, struct python_regex **out);
void python_regex_free(struct python_regex *regex);

/* 1 when `regex` matches at the start of `text` (re.match), 0 when it does not, -E2BIG when
 * matching hit its limits before an answer (the caller decides: never read that as a match),
 * -ENOMEM. */
int python_regex_match(const struct python_regex *regex, const char *text, size_t size);
