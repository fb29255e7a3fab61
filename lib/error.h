/* One error convention for the whole tree: functions return 0 or a negative errno. The
 * function that knows what went wrong (which file, field, offset or TPM command) records one
 * line of detail with vm_error(); the caller that decides to give up prints it once. */
#pragma once

#include <errno.h>

/* Records the detail (printf format) and returns `code`, which must be negative. The detail is
 * kept as lib/display.h shows text: every byte outside printable ASCII becomes \xNN, so that
 * what a peer sent can be quoted in it as it is. */
int vm_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last detail recorded on this thread if it was recorded with `code`, else strerror of
 * `code`: a detail is never shown for a failure it does not describe. */
const char *vm_error_detail(int code);

/* Forgets the last detail, so that a later failure without one does not show a stale one. */
void vm_error_clear(void);
