#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_detail[512];

int vm_error(int code, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(last_detail, sizeof(last_detail), fmt, ap);
        va_end(ap);
        return code;
}

const char *vm_error_detail(int code) {
        if (last_detail[0])
                return last_detail;
        return strerror(code < 0 ? -code : code);
}

void vm_error_clear(void) {
        last_detail[0] = '\0';
}
