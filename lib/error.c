#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_detail[512];
static _Thread_local int last_code; /* the code last_detail was recorded with */

int vm_error(int code, const char *fmt, ...) {
        char detail[sizeof(last_detail)];
        va_list ap;

        /* Format aside first: callers may wrap the previous detail, vm_error_detail(code). */
        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        memcpy(last_detail, detail, sizeof(last_detail));
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
