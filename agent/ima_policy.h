/* The IMA policy `vmattest unlock` writes into the kernel in the initrd (agent.conf's
 * ima_policy), so that everything run from the real root is measured into PCR 10. The kernel
 * takes the rules through securityfs (security/integrity/ima/ima_fs.c, ima_write_policy): each
 * write() parses one line, at most PAGE_SIZE-1 bytes; a bad rule fails that write with EINVAL
 * and makes the kernel drop every rule of this open when the file is closed; the new policy
 * takes effect on close. A line that starts with '/' would ask the kernel to read a policy
 * file itself (which may need a signature): vmattest writes rules, never a path. */
#pragma once

#include <stddef.h>

#define IMA_POLICY_KERNEL "/sys/kernel/security/ima/policy"
#define IMA_POLICY_FILE_MAX (64u * 1024)
#define IMA_POLICY_LINE_MAX 255 /* bytes of a line without its newline; well under a page */

/* Called for each rule with the rule's bytes (not NUL-terminated, at most IMA_POLICY_LINE_MAX)
 * and its line number, counted from 1. A negative return stops the walk. */
typedef int (*ima_policy_rule_fn)(const char *rule, size_t len, unsigned lineno, void *user);

/* Splits the policy text `text` (`len` bytes, untrusted; `name` names it in errors) into
 * rules, in order, without writing anything: a rule is a line without the blanks (spaces,
 * tabs) at either end and without the CR of a CRLF ending; blank lines and comments (first
 * non-blank is '#') are skipped; the last line needs no newline. Returns 0, the callback's
 * negative return, -EFBIG over IMA_POLICY_FILE_MAX bytes, or -EINVAL naming the line: longer
 * than IMA_POLICY_LINE_MAX bytes, a NUL or other control byte (tab aside), or a rule that
 * starts with '/'. */
int ima_policy_rules(const char *name, const char *text, size_t len, ima_policy_rule_fn rule, void *user);

/* Writes the rules of the policy file `path` into the kernel's policy file `kernel_path`
 * (IMA_POLICY_KERNEL), one write() per rule, after the whole file passed ima_policy_rules:
 * a malformed line 30 must not leave rules 1-29 in force. -ENOENT when `path` does not
 * exist, and when `kernel_path` does not (IMA has no writable policy: one was loaded already
 * by a kernel without CONFIG_IMA_WRITE_POLICY, or IMA is not built in); -EINVAL for a policy
 * without rules (the kernel refuses an empty policy on close); the write's errno when the
 * kernel refuses a rule (EINVAL: a bad rule; EACCES: the kernel loads only a signed policy,
 * by path). Each detail names the policy file, the line and rule, and the kernel file. */
int ima_policy_load(const char *path, const char *kernel_path);
