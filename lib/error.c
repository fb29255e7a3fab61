#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "display.h"

static _Thread_local char last_detail[512];
static _Thread_local int last_code; /* the code last_detail was recorded with */

int vm_error(int code, const char *fmt, ...) {
        char detail[sizeof(last_detail)];
        va_list ap;

        /* Format aside first: callers may wrap the previous detail, vm_error_detail(code). */
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        /* A detail names what a peer sent (a path, a member, an HTTP body) and ends up on a
         * terminal, in a log line, in the database and in HTTP answers: no byte of it may be a
         * control sequence. Escaping is idempotent, so a wrapped detail is not escaped twice. */
        display_escape(detail, strlen(detail), last_detail, sizeof(last_detail));
        last_code = code > 0 ? -code : code;
        return code;
}

const char *vm_error_detail(int code) {
        /* a detail recorded for another code is about another failure: never shown for this one */
        if (last_detail[0] && last_code == (code > 0 ? -code : code))
                return last_detail;
        return strerror(code < 0 ? -code : code);
}

void vm_error_clear(void) {
        last_detail[0] = '\0';
        last_code = 0;
}
