#include "agent/ima_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/file.h"

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* A byte the kernel's rule parser never accepts (it splits on spaces and tabs only) and that
 * would make an error message unreadable: NUL, the other C0 controls but tab, and DEL. */
static int check_line_bytes(const char *name, unsigned lineno, const char *line, size_t len) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)line[i];

                if (c == '\0')
                        return vm_error(-EINVAL, "IMA policy %s line %u: a NUL byte at byte %zu", name, lineno, i + 1);
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return vm_error(-EINVAL, "IMA policy %s line %u: control byte 0x%02x at byte %zu", name, lineno,
                                        c, i + 1);
        }
        return 0;
}

int ima_policy_rules(const char *name, const char *text, size_t len, ima_policy_rule_fn rule, void *user) {
        size_t offset = 0;
        unsigned lineno = 0;

        if (len > IMA_POLICY_FILE_MAX)
                return vm_error(-EFBIG, "IMA policy %s: larger than %u bytes", name, IMA_POLICY_FILE_MAX);
        while (offset < len) {
                const char *line = text + offset, *newline = memchr(line, '\n', len - offset);
                size_t line_len = newline ? (size_t)(newline - line) : len - offset, start = 0, end = line_len;
                int ret;

                offset += line_len + (newline ? 1 : 0);
                lineno++;
                if (line_len > IMA_POLICY_LINE_MAX)
                        return vm_error(-EINVAL, "IMA policy %s line %u: longer than %d bytes", name, lineno,
                                        IMA_POLICY_LINE_MAX);
                /* a policy edited on Windows: the kernel would take the CR as part of the last word */
                if (end > 0 && line[end - 1] == '\r')
                        end--;
                ret = check_line_bytes(name, lineno, line, end);
                if (ret < 0)
                        return ret;
                while (start < end && is_blank(line[start]))
                        start++;
                while (end > start && is_blank(line[end - 1]))
                        end--;
                if (start == end || line[start] == '#')
                        continue;
                if (line[start] == '/')
                        return vm_error(-EINVAL,
                                        "IMA policy %s line %u: \"%.*s\" is a path, which the kernel would read as a "
                                        "policy file of its own; write that file's rules here instead",
                                        name, lineno, (int)(end - start), line + start);
                ret = rule(line + start, end - start, lineno, user);
                if (ret < 0)
                        return ret;
        }
        return 0;
}

static int count_rule(const char *rule, size_t len, unsigned lineno, void *user) {
        unsigned *rules = user;

        (*rules)++;
        return 0;
}

struct kernel_policy {
        const char *path;        /* the tenant's policy file */
        const char *kernel_path; /* IMA_POLICY_KERNEL */
        int fd;
};

static int write_rule(const char *rule, size_t len, unsigned lineno, void *user) {
        const struct kernel_policy *kp = user;
        char line[IMA_POLICY_LINE_MAX + 1];
        ssize_t written;

        /* one rule and its newline per write: the kernel parses up to the first newline only */
        memcpy(line, rule, len);
        line[len] = '\n';
        written = write(kp->fd, line, len + 1);
        if (written < 0 && errno == EACCES)
                return vm_error(-EACCES,
                                "IMA policy %s line %u: the kernel refused the rule \"%.*s\" (%s; writing %s): it loads "
                                "only a signed policy (appraise func=POLICY_CHECK is in force), which vmattest does "
                                "not write",
                                kp->path, lineno, (int)len, rule, strerror(EACCES), kp->kernel_path);
        if (written < 0) {
                int err = errno;

                return vm_error(-err, "IMA policy %s line %u: the kernel refused the rule \"%.*s\" (%s; writing %s)",
                                kp->path, lineno, (int)len, rule, strerror(err), kp->kernel_path);
        }
        /* cannot happen with one newline-terminated rule, but a rule cut short must not pass */
        if ((size_t)written != len + 1)
                return vm_error(-EIO, "IMA policy %s line %u: %s took %zd of the %zu bytes of the rule \"%.*s\"",
                                kp->path, lineno, kp->kernel_path, written, len + 1, (int)len, rule);
        return 0;
}

static int kernel_policy_open(const char *kernel_path) {
        int fd = open(kernel_path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

        if (fd >= 0)
                return fd;
        if (errno == ENOENT)
                return vm_error(-ENOENT,
                                "%s does not exist: IMA has no writable policy (one was loaded already this boot by a "
                                "kernel without CONFIG_IMA_WRITE_POLICY, or IMA is not built in, or securityfs is not "
                                "mounted)",
                                kernel_path);
        if (errno == EBUSY)
                return vm_error(-EBUSY, "%s: another process is writing an IMA policy", kernel_path);
        return vm_error(-errno, "%s: cannot open for writing: %s", kernel_path, strerror(errno));
}

int ima_policy_load(const char *path, const char *kernel_path) {
        _cleanup_(freep) char *text = NULL;
        struct kernel_policy kp = { .path = path, .kernel_path = kernel_path, .fd = -1 };
        unsigned rules = 0;
        size_t size;
        int ret;

        vm_error_clear(); /* a failure below without a detail of its own must not show a stale one */
        ret = file_read_all(path, IMA_POLICY_FILE_MAX, &text, &size);
        if (ret == -ENOENT)
                return vm_error(-ENOENT, "IMA policy %s: no such file", path);
        if (ret == -EFBIG)
                return vm_error(-EFBIG, "IMA policy %s: larger than %u bytes", path, IMA_POLICY_FILE_MAX);
        if (ret < 0)
                return vm_error(ret, "IMA policy %s", vm_error_detail(ret));

        /* Every line is checked before the first write: once rules are written, only a rule the
         * kernel refuses makes it drop them; closing early would put the rules so far in force. */
        ret = ima_policy_rules(path, text, size, count_rule, &rules);
        if (ret < 0)
                return ret;
        if (rules == 0)
                return vm_error(-EINVAL, "IMA policy %s: no rules (the kernel refuses an empty policy)", path);

        kp.fd = kernel_policy_open(kernel_path);
        if (kp.fd < 0)
                return kp.fd;
        ret = ima_policy_rules(path, text, size, write_rule, &kp);
        /* After a refused rule the close makes the kernel drop this open's rules: its policy stays. */
        if (close(kp.fd) < 0 && ret == 0)
                ret = vm_error(-errno, "%s: closing after the rules of IMA policy %s: %s", kernel_path, path,
                               strerror(errno));
        return ret;
}
