#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "display.h"

static const char *log_program = "vmattest";
static enum log_level log_max_level = LOG_LEVEL_INFO;

void log_setup(const char *program, enum log_level max_level) {
        log_program = program;
        log_max_level = max_level;
}

void log_at(enum log_level level, const char *fmt, ...) {
        static const char *const prefix[] = {
                [LOG_LEVEL_ERROR] = "error: ",
                [LOG_LEVEL_WARNING] = "warning: ",
                [LOG_LEVEL_INFO] = "",
                [LOG_LEVEL_DEBUG] = "debug: ",
        };
        va_list ap;

        if (level > log_max_level)
                return;
        /* One fprintf per part would interleave with other processes on a shared console;
         * format the line first and write it whole. */
        char line[1024], shown[1024];
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        /* a message quotes what peers sent: a newline in it must not start a forged line, nor
         * an ESC sequence repaint the console (lib/display.h) */
        display_escape(line, strlen(line), shown, sizeof(shown));
        fprintf(stderr, "%s: %s%s\n", log_program, prefix[level], shown);
}
