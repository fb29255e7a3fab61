/* Fuzzes ima_policy_rules (agent/ima_policy.c) on an IMA policy text; invariants: the walk
 * returns 0, -EINVAL or -EFBIG; every rule handed over lies inside the text, is 1 to
 * IMA_POLICY_LINE_MAX bytes with no blank at either end, holds no control byte but tab, does
 * not start with '#' or '/', and comes on a later line than the one before; a second walk
 * hands over the same rules. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/ima_policy.h"

struct walk {
        const char *text;
        size_t size;
        unsigned rules, last_line;
        uint64_t digest; /* FNV-1a over the rules and their line numbers */
};

static void mix(struct walk *w, const void *data, size_t len) {
        const uint8_t *bytes = data;

        for (size_t i = 0; i < len; i++)
                w->digest = (w->digest ^ bytes[i]) * 0x100000001b3ULL;
}

static int check_rule(const char *rule, size_t len, unsigned lineno, void *user) {
        struct walk *w = user;

        if (rule < w->text || len == 0 || len > IMA_POLICY_LINE_MAX || len > w->size ||
            (size_t)(rule - w->text) > w->size - len)
                abort();
        if (rule[0] == ' ' || rule[0] == '\t' || rule[len - 1] == ' ' || rule[len - 1] == '\t')
                abort();
        if (rule[0] == '#' || rule[0] == '/')
                abort();
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)rule[i];

                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        abort();
        }
        if (lineno <= w->last_line)
                abort();
        w->last_line = lineno;
        w->rules++;
        mix(w, rule, len);
        mix(w, &lineno, sizeof(lineno));
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct walk first = { .text = (const char *)data, .size = size, .digest = 0xcbf29ce484222325ULL };
        struct walk second = first;
        int ret = ima_policy_rules("fuzz.policy", (const char *)data, size, check_rule, &first);

        if (ret != 0 && ret != -EINVAL && ret != -EFBIG)
                abort();
        if (ima_policy_rules("fuzz.policy", (const char *)data, size, check_rule, &second) != ret)
                abort();
        if (second.rules != first.rules || second.digest != first.digest)
                abort();
        return 0;
}
