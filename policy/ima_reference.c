#include "policy/ima_reference.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"
#include "lib/imalog.h"
#include "lib/log.h"
#include "lib/runtime_policy.h"
#include "policy/utf8.h"

static bool all_zero(const uint8_t *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (p[i])
                        return false;
        return true;
}

static int take_entry(const struct ima_entry *entry, bool keyrings, struct name_set *digests,
                      struct name_set *keyring_digests, struct ima_reference_stats *stats) {
        if (!utf8_valid(entry->name, entry->name_len)) {
                log_warning("%.*s: the name is not UTF-8, left out (a JSON policy cannot name it as IMA logs it)",
                            (int)entry->name_len, entry->name);
                return 0;
        }
        if (entry->template_type == IMA_TEMPLATE_BUF) {
                if (!runtime_policy_buffer_is_key(entry)) {
                        stats->buffers++;
                        return 0;
                }
                if (!keyrings)
                        return 0;
                stats->keys++;
                return name_set_add(keyring_digests, entry->name, entry->name_len, entry->digest, entry->digest_size);
        }
        if (all_zero(entry->digest, entry->digest_size)) {
                stats->zero_digests++;
                return 0;
        }
        stats->files++;
        return name_set_add(digests, entry->name, entry->name_len, entry->digest, entry->digest_size);
}

int ima_reference_read(const char *path, bool keyrings, struct name_set *digests, struct name_set *keyring_digests,
                       struct ima_reference_stats *stats) {
        _cleanup_(freep) char *text = NULL;
        _cleanup_(freep) uint8_t *data = malloc(IMA_TEMPLATE_DATA_MAX);
        _cleanup_(freep) struct ima_entry *entry = malloc(sizeof(*entry));
        size_t size, line_no = 0;
        int ret;

        memset(stats, 0, sizeof(*stats));
        if (!data || !entry)
                return -ENOMEM;
        ret = file_read_all(path, IMA_REFERENCE_MAX, &text, &size);
        if (ret == -ENOENT)
                return vm_error(-ENOENT, "%s: no such file", path);
        if (ret < 0)
                return ret;
        for (size_t start = 0; start < size;) {
                const char *line = text + start;
                const char *newline = memchr(line, '\n', size - start);
                size_t len = newline ? (size_t)(newline - line) : size - start, data_size;

                start += len + 1;
                line_no++;
                ret = ima_entry_parse(line, len, entry);
                if (ret >= 0 && !entry->violation) {
                        ret = ima_entry_template_data(entry, data, IMA_TEMPLATE_DATA_MAX, &data_size);
                        if (ret >= 0)
                                ret = ima_entry_check_template_hash(entry, data, data_size);
                }
                if (ret < 0)
                        return vm_error(ret, "%s: line %zu: %s", path, line_no, vm_error_detail(ret));
                stats->entries++;
                if (!stats->digest_alg)
                        stats->digest_alg = entry->digest_alg;
                if (entry->violation) {
                        stats->violations++;
                        continue;
                }
                ret = take_entry(entry, keyrings, digests, keyring_digests, stats);
                if (ret < 0)
                        return vm_error(ret, "%s: line %zu: %s", path, line_no, vm_error_detail(ret));
        }
        return 0;
}
